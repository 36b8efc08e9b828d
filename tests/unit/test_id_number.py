import random
from datetime import date

import pytest
from stdnum.cn import ric

from xueji.rules.id_number import build_id_number, check_digit


def test_check_digit_of_the_standard_example():
    # GB 11643 example: 11010519491231002X
    assert check_digit("11010519491231002") == "X"


def test_built_numbers_are_valid_and_carry_birth_date_and_sex():
    rng = random.Random(1)
    for _ in range(500):
        birth = date(2010, 1, 1).fromordinal(date(2010, 1, 1).toordinal() + rng.randrange(5000))
        male = rng.random() < 0.5
        number = build_id_number("430181", birth, rng.randrange(500), male=male)
        assert ric.is_valid(number), number
        assert ric.get_birth_date(number) == birth
        assert (int(number[16]) % 2 == 1) is male


def test_sequence_out_of_range_is_refused():
    with pytest.raises(ValueError):
        build_id_number("430181", date(2015, 1, 1), 500, male=True)

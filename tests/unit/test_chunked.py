"""Long IN lists go to the database in parts: xueji.sql.chunked."""

import pytest

from xueji import sql


def test_values_come_in_lists_of_at_most_the_limit_in_order(monkeypatch):
    monkeypatch.setattr(sql, "IN_LIST_SIZE", 4)
    assert list(sql.chunked(range(10))) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert list(sql.chunked([])) == []


@pytest.mark.parametrize(("per_value", "sizes"), [(2, [2, 2, 1]), (5, [1, 1, 1, 1, 1]), (9, [1] * 5)])
def test_values_of_several_parameters_take_their_share_of_the_limit(monkeypatch, per_value, sizes):
    monkeypatch.setattr(sql, "IN_LIST_SIZE", 4)
    assert [len(part) for part in sql.chunked(range(5), per_value=per_value)] == sizes


def test_the_limit_keeps_a_statement_under_postgresqls_65535_parameters():
    assert sql.IN_LIST_SIZE * 2 < 65_535

"""The child's label: two children of one name told apart by class, birth month and, for those who may see
ID numbers, the last 4 ID characters."""

from datetime import date

from xueji.rules.child_label import child_label, class_short, id_tail


def test_two_children_of_one_name_are_told_apart_by_class_and_birth_month():
    one = child_label("刘志", class_name=class_short("2026201", 2026), born=date(2013, 5, 4))
    two = child_label("刘志", class_name=class_short("2025102", 2026), born=date(2016, 9, 1))
    assert one == "刘志(七年级1班,2013年5月生)"
    assert two == "刘志(二年级2班,2016年9月生)"


def test_the_id_tail_is_shown_only_to_a_viewer_who_may_see_id_numbers():
    number = "43018120130504123X"
    assert child_label(
        "刘志", class_name="七年级2班", born=date(2013, 5, 4), id_number=number, show_id=True
    ) == ("刘志(七年级2班,2013年5月生,…123X)")
    assert child_label("刘志", class_name="七年级2班", id_number=number, show_id=False) == "刘志(七年级2班)"


def test_a_masked_or_short_number_gives_no_tail():
    assert id_tail("430181********123X", visible=True) == "…123X"
    assert id_tail("4301811*********", visible=True) == ""
    assert id_tail("12", visible=True) == ""
    assert id_tail(None, visible=True) == ""


def test_a_child_with_nothing_known_but_the_name_is_the_bare_name():
    assert child_label("刘志") == "刘志"
    assert class_short(None, 2026) == ""
    assert class_short("bad", 2026) == ""

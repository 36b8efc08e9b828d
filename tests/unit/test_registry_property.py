"""Property tests: any valid row reads and checks clean; any single corrupted field is always caught."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xueji.demo.registry_file import template_workbook
from xueji.excel.registry_template import read_registry
from xueji.rules import registry_record as rr
from xueji.rules.ethnicity import ETHNICITIES
from xueji.rules.id_number import build_id_number
from xueji.rules.registry_record import COLUMN_BY_KEY, check_row, check_rows, example_cells, new_row

TODAY = date(2026, 11, 23)
YEAR = 2026
HANZI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@st.composite
def valid_rows(draw) -> dict[str, str]:
    """A row a careful registrar would type: every field valid and consistent with the others."""
    grade = draw(st.integers(min_value=1, max_value=6))
    entry_year = YEAR - grade + 1
    born = date(YEAR - grade - 6, 9, 1) + timedelta(days=draw(st.integers(0, 364)))
    male = draw(st.booleans())
    region = draw(st.sampled_from(["430181", "430102", "110105", "440304", "510107"]))
    cells = example_cells() | {
        "name": draw(st.text(HANZI, min_size=2, max_size=4)),
        "sex": "男" if male else "女",
        "birth_date": f"{born:%Y%m%d}",
        "id_number": build_id_number(region, born, draw(st.integers(0, 499)), male=male),
        "class_code": f"{entry_year}1{draw(st.integers(1, 99)):02d}",
        "entry_month": f"{entry_year}{draw(st.integers(1, TODAY.month if entry_year == YEAR else 12)):02d}",
        "ethnicity": draw(st.sampled_from(ETHNICITIES)),
        "household_code": region + draw(st.from_regex(r"[0-9]{6}", fullmatch=True)),
        "needs_aid": draw(st.sampled_from(["是", "否"])),
        "left_behind": draw(st.sampled_from(["是", "否", ""])),
        "current_address": draw(st.text(HANZI, min_size=1, max_size=30)),
        "m1_phone": "1" + draw(st.sampled_from("3456789")) + draw(st.from_regex(r"[0-9]{9}", fullmatch=True)),
    }
    return cells


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _flip_digit(text: str, at: int) -> str:
    return text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1 :]


# One corruption per field, each a mistake seen in real files; the key says which column must be blamed.
CORRUPTIONS = {
    "school_code": lambda c, n: c["school_code"][:-1],
    "name": lambda c, n: c["name"][:1] + (" " if n % 2 else "1") + c["name"][1:],
    "sex": lambda c, n: "女" if c["sex"] == "男" else "男",
    "birth_date": lambda c, n: f"{_day(c['birth_date']) + timedelta(days=1 + n % 20):%Y%m%d}",
    "birthplace_code": lambda c, n: c["birthplace_code"][: 11 - n % 3],
    "ethnicity": lambda c, n: c["ethnicity"].removesuffix("族") + "人",
    "id_number": lambda c, n: _flip_digit(c["id_number"], n % 17),
    "household_code": lambda c, n: c["household_code"] + "0",
    "class_code": lambda c, n: (
        c["class_code"][:6] if n % 2 else c["class_code"][:4] + "4" + c["class_code"][5:]
    ),
    "entry_month": lambda c, n: c["entry_month"][:4] + "13",
    "current_address": lambda c, n: "=" + c["current_address"],
    "needs_aid": lambda c, n: "Y",
    "m1_phone": lambda c, n: c["m1_phone"][:7],
}
# A sex or birth date that disagrees with the ID number is reported on the ID number, which holds both.
BLAMED = {"sex": "id_number", "birth_date": "id_number"}


@given(valid_rows())
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_a_generated_valid_row_always_checks_clean(cells):
    row = check_row(new_row(2, cells), today=TODAY, school_year=YEAR)
    assert row.errors == []
    assert row.values["id_number"] == cells["id_number"]


@given(valid_rows(), st.sampled_from(sorted(CORRUPTIONS)), st.integers(0, 1000))
@settings(max_examples=400)
def test_any_single_corrupted_field_is_always_caught_in_its_column(cells, field, n):
    corrupted = cells | {field: CORRUPTIONS[field](cells, n)}
    row = check_row(new_row(2, corrupted), today=TODAY, school_year=YEAR)
    blamed = COLUMN_BY_KEY[BLAMED.get(field, field)].header
    assert blamed in {p.column for p in row.errors}, (field, corrupted[field], row.errors)


@given(st.lists(valid_rows(), min_size=1, max_size=8))
@settings(max_examples=25, deadline=None)
def test_valid_rows_written_to_a_workbook_read_back_and_check_clean(rows):
    sheet = read_registry(template_workbook(rows))
    assert [r.row for r in sheet.rows] == list(range(2, len(rows) + 2))
    for row, cells in zip(sheet.rows, rows, strict=True):
        check_row(row, today=TODAY, school_year=YEAR)
        assert row.errors == []
        assert row.values["name"] == cells["name"]


MEMBER_KEYS = {n: [k for k in COLUMN_BY_KEY if k.startswith(f"m{n}_")] for n in (1, 2)}


def _forget_verdicts() -> None:
    for *_, seen in (*rr._CHECKS, *(c for _, checks, _ in rr._MEMBERS for c in checks)):
        if seen is not None:
            seen.clear()


@given(
    st.lists(
        st.tuples(
            valid_rows(),
            st.sampled_from([None, *sorted(CORRUPTIONS)]),
            st.integers(0, 1000),
            st.sampled_from([(), (1,), (2,), (1, 2)]),  # family members left blank
        ),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=60, deadline=None)
def test_a_batch_checks_exactly_as_its_rows_one_by_one(drawn):
    """check_rows checks each column down the batch, each distinct text once: every row's values, family,
    problems (in the same order) and counts are what check_row gives that row alone."""
    cells = []
    for c, field, n, blank in drawn:
        row = c if field is None else c | {field: CORRUPTIONS[field](c, n)}
        cells.append(row | {k: "" for m in blank for k in MEMBER_KEYS[m]})
    cells += cells[: len(cells) // 2]  # texts met again in the same batch
    alone = []
    for i, c in enumerate(cells, 2):
        _forget_verdicts()
        alone.append(check_row(new_row(i, c), today=TODAY, school_year=YEAR))
    _forget_verdicts()
    batch = [new_row(i, c) for i, c in enumerate(cells, 2)]
    check_rows(batch, today=TODAY, school_year=YEAR)
    for one, many in zip(alone, batch, strict=True):
        assert (many.values, many.family, many.errors, many.warnings, many.checked) == (
            one.values,
            one.family,
            one.errors,
            one.warnings,
            one.checked,
        )


def test_a_columns_memory_cleared_midway_by_another_import_does_not_break_a_batch(monkeypatch):
    """Two imports in one server process check their chunks in two threads and share each column's memory of
    verdicts; one clears it when it fills up (addresses are nearly all different). Here the memory is cleared
    at every check, as the other thread could at any moment: the batch still reads its own verdicts."""
    ((key, _, check, seen),) = [c for c in rr._CHECKS if c[0] == "current_address"]

    def clearing(text: str) -> object:
        seen.clear()
        return check(text)

    monkeypatch.setattr(
        rr, "_CHECKS", tuple((k, i, clearing, s) if k == key else (k, i, c, s) for k, i, c, s in rr._CHECKS)
    )
    rows = [new_row(n, example_cells() | {"current_address": f"古港镇梅田村{n}号"}) for n in range(2, 60)]
    check_rows(rows, today=TODAY, school_year=YEAR)
    assert [r.values["current_address"] for r in rows] == [f"古港镇梅田村{n}号" for n in range(2, 60)]
    assert all(r.ok for r in rows)

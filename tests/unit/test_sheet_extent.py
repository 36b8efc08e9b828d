"""The sheet-extent scan (xueji.excel.extent) against python-calamine itself: whatever a sheet's XML looks
like, a sheet the scan lets through never lays out beyond the limits in calamine, whichever of the three
readings vouches for it; and ordinary sheets are let through by the fast readings."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from tests.hostile_workbooks import sheet_xml, workbook
from xueji.excel.extent import READINGS, SheetTooLarge, Unvouched, column_letters, column_number, scan_part
from xueji.excel.limits import SheetLimits, UnsafeWorkbook

ROWS, COLUMNS = 8, 5
LIMITS = SheetLimits(
    label="测试导入",
    max_file_bytes=1 << 20,
    max_inflated_bytes=1 << 24,
    max_rows=ROWS,
    max_columns=COLUMNS,
    max_sheets=5,
    max_shared_strings=100,
    memory_bytes=1 << 28,
    seconds=30,
)


def scan(xml: str, readings: tuple[str, ...] = READINGS, *, chunk: int = 1 << 20):
    """Scan the sheet's XML fed in pieces of `chunk` bytes (small pieces test the windows' seams)."""
    data = xml.encode()
    return scan_part(
        "Sheet1", LIMITS, lambda: iter([data[i : i + chunk] for i in range(0, len(data), chunk)]), readings
    )


def calamine_reach(xml: str) -> tuple[int, int] | None:
    """How far calamine lays the sheet out (rows, columns from A1), or None if it refuses the sheet."""
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook([("Sheet1", xml)]))).get_sheet_by_index(0)
    except Exception:
        return None
    return (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)


def test_column_letters_and_numbers_round_trip():
    for number in (1, 26, 27, 52, 200, 702, 703, 16_384):
        assert column_number(column_letters(number).encode()) == number
    assert column_letters(16_384) == "XFD" and column_number(b"gr") == 200


def reference(row: int, column: int, lower: bool) -> str:
    ref = f"{column_letters(column)}{row}"
    return ref.lower() if lower else ref


@st.composite
def sheets(draw) -> str:
    """Rows and cells with and without r= (in any case, with odd spacing or quotes, now and then twice),
    empty and filled cells, self-closed rows, reaching a little beyond the limits. Half the sheets are
    written as Excel writes them (every row and cell with r= first), so the canonical reading is tried."""
    canonical = draw(st.booleans())
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        attrs = ""
        if canonical:
            attrs = f' r="{draw(st.integers(1, ROWS + 3))}"'
        elif draw(st.booleans()):
            quote = draw(st.sampled_from(['"', "'"]))
            space = draw(st.sampled_from(["", " "]))
            attrs = f" r{space}={space}{quote}{draw(st.integers(1, ROWS + 3))}{quote}"
        if draw(st.integers(0, 6)) == 0:
            parts.append(f"<row{attrs}/>")
            continue
        cells = []
        for _ in range(draw(st.integers(0, COLUMNS + 3))):
            ref = ""
            if canonical or draw(st.booleans()):
                at = reference(
                    draw(st.integers(1, ROWS + 3)), draw(st.integers(1, COLUMNS + 3)), draw(st.booleans())
                )
                ref = f' r="{at}"' if canonical or draw(st.integers(0, 3)) else f' t="n" r="{at}"'
                if draw(st.integers(0, 9)) == 0:  # a second r=, which calamine takes without complaint
                    again = reference(
                        draw(st.integers(1, ROWS + 3)), draw(st.integers(1, COLUMNS + 3)), False
                    )
                    ref += f' s="1" r="{again}"'
            cells.append(f"<c{ref}><v>1</v></c>" if draw(st.integers(0, 3)) else f"<c{ref}/>")
        parts.append(f"<row{attrs}>{''.join(cells)}</row>")
    return sheet_xml("".join(parts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets(), st.sampled_from([("canonical",), ("row by row",), ("exact",), READINGS]))
def test_a_sheet_let_through_never_reaches_beyond_the_limits_in_calamine(xml, readings):
    reach = calamine_reach(xml)
    try:
        scan(xml, readings)
    except (UnsafeWorkbook, Unvouched):
        return  # refused, or this reading cannot vouch for it: nothing reaches calamine
    try:
        scan(xml, readings, chunk=7)
    except (UnsafeWorkbook, Unvouched):
        pytest.fail(f"accepted whole but refused in pieces: {xml}")
    assert reach is None or (reach[0] <= ROWS and reach[1] <= COLUMNS), (reach, xml)


def test_ordinary_sheets_are_let_through_by_the_fast_readings():
    excel = sheet_xml(
        "".join(
            f'<row r="{r}" spans="1:5"><c r="A{r}" s="1" t="s"><v>0</v></c><c r="E{r}"><v>2</v></c></row>'
            for r in range(1, ROWS + 1)
        ),
        dimension=f"A1:E{ROWS}",
    )
    generated = sheet_xml(
        "".join(
            f'<row r="{r}"><c t="inlineStr"><is><t>x</t></is></c><c/><c/><c/><c/></row>'
            for r in range(1, ROWS + 1)
        )
    )
    scan(excel, ("canonical",))
    assert (scan(generated, ("row by row",)).rows, scan(generated, ("row by row",)).columns) == (
        ROWS,
        COLUMNS,
    )
    assert (scan(generated, ("exact",)).rows, scan(generated, ("exact",)).columns) == (ROWS, COLUMNS)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ('<row r="1"><c r="A1"><v>1</v></c></row><row r="9"><c r="B9"><v>1</v></c></row>', "有单元格位于 B9"),
        ('<row r="1"><c r="F1"><v>1</v></c></row>', "有单元格位于 F1"),
        ('<row r="1"><c r="e1"/><c/><c><v>1</v></c></row>', "至少有 1 行 × 6 列"),  # r= then two more cells
        ("<row r=\"1\"><c r = 'xfd1'><v>1</v></c></row>", "XFD1"),  # odd syntax, lower case
        (
            '<row r="1"><c r="&#65;1"/><c/><c/><c/><c/><c/></row>',
            "6 列",
        ),  # r= with an entity counts as absent
        ("<row><c/></row>" * 9, "至少有 9 行"),
        ('<x:row r="1"><x:c r="Z1"><x:v>1</x:v></x:c></x:row>', "Z1"),  # a namespace prefix
    ],
)
def test_sheets_beyond_the_limits_are_refused_naming_their_size(rows, expected):
    xml = sheet_xml(rows).replace("<worksheet ", '<worksheet xmlns:x="x" ')
    with pytest.raises(SheetTooLarge, match=expected):
        scan(xml)


def test_a_cell_with_a_second_reference_is_not_let_through():
    xml = sheet_xml('<row r="1"><c r="A1" r="Z9"><v>1</v></c></row>')
    assert calamine_reach(xml) == (9, 26)  # calamine places the cell by its last r=
    with pytest.raises(UnsafeWorkbook):
        scan(xml)


def test_a_declared_dimension_beyond_the_limits_is_refused_before_the_cells_are_counted():
    with pytest.raises(SheetTooLarge, match="声明的数据范围为 A1:XFD1048576"):
        scan(sheet_xml('<row r="1"><c r="A1"/></row>', dimension="A1:XFD1048576"))


def test_rows_pushed_down_by_extra_row_ends_are_counted():
    # calamine moves the next row down at every </row>; this version refuses unmatched ones, a lenient
    # parser would place the last row 21 rows down: the scan counts it so, whatever the parser
    xml = sheet_xml("<row><c><v>1</v></c></row>" + "</row>" * 20 + "<row><c><v>1</v></c></row>")
    with pytest.raises(UnsafeWorkbook):
        scan(xml, ("row by row",))

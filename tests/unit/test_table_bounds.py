"""No page sends more than 10,000 rows or 20 MB of table data to the browser."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from xueji.ui.tables import MAX_BYTES, MAX_ROWS, bound

ROOT = Path(__file__).resolve().parents[2]


def test_a_long_table_is_cut_to_ten_thousand_rows():
    frame = pd.DataFrame({"姓名": [f"学生{i}" for i in range(25_000)], "年级": 3})
    assert len(bound(frame)) == MAX_ROWS == 10_000
    small = frame.head(50)
    assert bound(small) is small


def test_a_wide_table_is_cut_to_twenty_megabytes():
    frame = pd.DataFrame({"备注": ["很长的说明" * 400] * 5_000})  # ~4 KB a row, ~20+ MB in all
    assert frame.memory_usage(deep=True, index=False).sum() > MAX_BYTES
    cut = bound(frame)
    assert 0 < len(cut) < 5_000
    assert cut.memory_usage(deep=True, index=False).sum() <= MAX_BYTES


def _page() -> None:
    import pandas as pd

    from xueji.ui.tables import show_table

    show_table(pd.DataFrame({"n": range(12_345)}), hide_index=True)


def test_the_page_shows_the_first_rows_and_says_so():
    at = AppTest.from_function(_page).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 10_000
    assert "共 12,345 行,此处只显示前 10,000 行" in at.warning[0].value


def test_every_page_shows_its_tables_through_the_bound():
    direct = [
        str(path.relative_to(ROOT))
        for path in [*ROOT.joinpath("pages").rglob("*.py"), *ROOT.joinpath("xueji", "ui").rglob("*.py")]
        if path.name != "tables.py"
        for line in path.read_text().splitlines()
        if re.search(r"\bst\.(dataframe|table)\(", line)
    ]
    assert direct == []

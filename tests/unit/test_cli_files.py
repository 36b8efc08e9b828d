"""A file named on the command line that cannot be read is a Chinese message and exit code 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from xueji.cli import main


@pytest.mark.parametrize(
    "command", [["setup", "import"], ["user", "import"], ["import", "students"], ["import", "visits"]]
)
def test_a_missing_file_is_named_in_chinese(command: list[str], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    missing = tmp_path / "没有这个文件.xlsx"
    extra = ["--school", "2143016965"] if command == ["import", "students"] else []
    assert main([*command, str(missing), *extra]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and ("文件不存在" in err or "找不到文件" in err)
    assert "Traceback" not in err


def test_a_folder_is_not_a_file(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["setup", "import", str(tmp_path)]) == 1
    assert "这是一个文件夹" in capsys.readouterr().err

"""Rebuild the built-in notice templates (xueji/notices/templates/*.docx) from xueji.notices.builtin, where their
wording is written and reviewed. The files come out byte for byte the same on every run, so a change to them in
a diff is a change to the code.

    .venv/bin/python scripts/make_notice_templates.py [DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from xueji.notices.builtin import template_bytes
from xueji.notices.fill import BUILT_IN
from xueji.rules.notices import NoticeKind


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else BUILT_IN
    folder.mkdir(parents=True, exist_ok=True)
    for kind in NoticeKind:
        (folder / kind.template).write_bytes(template_bytes(kind))
        print(folder / kind.template)


if __name__ == "__main__":
    main(sys.argv[1:])

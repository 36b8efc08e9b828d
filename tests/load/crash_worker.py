"""The process the crash test kills: logs visits and imports 5-row visit sheets, one after another, until
killed, printing "ack TOKEN ROWS" (flushed) after each write the service has committed, as a page would then
tell its user "已保存"."""

from __future__ import annotations

import random
import sys
from datetime import timedelta

from benchmarks.load import IMPORT_ROWS, TODAY, _facts, _sheet, prepare
from xueji.db import make_engine, session_scope
from xueji.services.cases import visit_import, visits


def main(url: str, prefix: str, seed: int) -> None:
    engine = make_engine(url)
    # Ten teachers in turn, so each one's class is not crowded with the earlier rounds' visits; a sheet that
    # repeats a stored visit is refused whole, which the check counts as not acknowledged.
    teacher = prepare(engine, 1 + seed % 10, approvals=0, fresh_days=0).teachers[-1]
    rng = random.Random(seed)
    print("ready", flush=True)
    for op in range(10_000):
        token = f"{prefix}-{op}"
        with session_scope(engine) as session:
            if op % 2:
                student = rng.choice(teacher.students)
                visits.log_visit(
                    session, actor=teacher.actor, facts=_facts(token, TODAY), student_id=student.id
                )
                rows = 1
            else:
                days = [TODAY - timedelta(days=rng.randrange(400)) for _ in range(IMPORT_ROWS)]
                try:
                    visit_import.commit_visits(
                        session, actor=teacher.actor, data=_sheet(teacher, token, days)
                    )
                except visit_import.VisitImportBlocked:  # a day already logged for that child: refused whole
                    continue
                rows = IMPORT_ROWS
        print(f"ack {token} {rows}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))

"""The process the crash test kills: logs visits and imports 5-row visit sheets, one after another, until
killed, printing "ack TOKEN ROWS" (flushed) after each write the service has committed, as a page would then
tell its user "已保存".

Started once per test as a fork server (`python -m tests.load.crash_worker URL`): it imports everything once,
then for each line "PREFIX SEED" on its stdin forks a worker on that database, which prints "ready PID" and its
acks; when the worker has died the server prints "exit STATUS" (os.waitpid's). A kill then costs the time to the
kill, not a Python start-up and its imports (about 1.5 s, 100 times per database)."""

from __future__ import annotations

import os
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
    print(f"ready {os.getpid()}", flush=True)
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


def serve() -> None:
    """Fork a worker for each request line, one at a time; no database connection is opened here, so none is
    shared with a worker."""
    url = sys.argv[1]
    for line in sys.stdin:
        prefix, seed = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                main(url, prefix, int(seed))
            finally:
                os._exit(
                    1
                )  # a worker is killed; one that ends by itself has failed (its traceback on stderr)
        _, status = os.waitpid(pid, 0)
        print(f"exit {status}", flush=True)


if __name__ == "__main__":
    serve()

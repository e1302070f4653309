"""Concurrent writers append to one unbroken chain (the head row lock orders them)."""

import threading

from sqlalchemy import func, select

from ketaguard.audit.models import AuditEvent
from ketaguard.audit.service import AuditContext, record, verify_chain
from ketaguard.config import Settings
from ketaguard.db.engine import build_engine, build_sessionmaker
from ketaguard.db.migrate import upgrade
from ketaguard.db.session import unit_of_work

WRITERS = 4
EVENTS_EACH = 15


def test_concurrent_appends_keep_one_chain(scratch_url: str) -> None:
    engine = build_engine(Settings(database_url=scratch_url))
    upgrade(engine)
    factory = build_sessionmaker(engine)
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait(timeout=10)
            for n in range(EVENTS_EACH):
                with unit_of_work(factory) as db:
                    record(db, AuditContext(), "test.append", detail={"writer": writer, "n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with unit_of_work(factory) as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == WRITERS * EVENTS_EACH
        report = verify_chain(db)
    assert report.ok, report.problem
    assert report.checked == WRITERS * EVENTS_EACH
    engine.dispose()

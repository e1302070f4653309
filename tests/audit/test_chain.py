"""The audit trail is append-only in the database, and any tampering around that is detected.

The tampering tests play an attacker with database access who switches the append-only triggers
off, against a real committed database, and check both `verify_chain` and `ketaguard audit verify`.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import typer
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from ketaguard.audit import service as audit_service
from ketaguard.audit.cli import audit_app
from ketaguard.audit.models import AuditEvent, AuditHead, Outcome
from ketaguard.audit.service import (
    EVENT_FIELDS,
    AuditContext,
    ChainReport,
    chain_deferred,
    defer_chaining,
    event_hash,
    record,
    verify_chain,
)
from ketaguard.config import Settings
from ketaguard.db.engine import build_engine, build_sessionmaker
from ketaguard.db.migrate import upgrade
from ketaguard.db.session import unit_of_work
from ketaguard.kit.time import utcnow
from tests.databases import requested_url

ON_POSTGRES = (url := requested_url()) is not None and url.get_backend_name() == "postgresql"

CONTEXT = AuditContext(
    actor_user_id=uuid.uuid4(),
    actor_role="prescriber",
    organisation_id=uuid.uuid4(),
    address="203.0.113.7",
    user_agent="pytest",
)
PATIENT = uuid.uuid4()
# Event 3 is a refused look at a patient's record: what an attacker would most like to hide.
TRAIL: list[tuple[str, Outcome]] = [
    ("auth.login", Outcome.success),
    ("patient.view", Outcome.success),
    ("patient.view", Outcome.denied),
    ("patient.update", Outcome.success),
    ("auth.logout", Outcome.success),
]

root = typer.Typer()
root.add_typer(audit_app, name="audit")
runner = CliRunner()


def run_verify() -> Result:
    return runner.invoke(root, ["audit", "verify"])


def verify(url: str) -> ChainReport:
    engine = build_engine(Settings(database_url=url))
    try:
        with unit_of_work(build_sessionmaker(engine)) as db:
            return verify_chain(db)
    finally:
        engine.dispose()


def disable_append_only(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))
    else:
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))


@contextmanager
def attacker(url: str) -> Iterator[Connection]:
    """A committed transaction by someone who can write the database and drop its triggers."""
    engine = build_engine(Settings(database_url=url))
    try:
        with engine.begin() as connection:
            disable_append_only(connection)
            yield connection
    finally:
        engine.dispose()


@pytest.fixture
def trail(scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A committed trail of five events, one transaction each, as requests would write them."""
    # Batches of two, so the walk crosses batch boundaries as it does on a long trail.
    monkeypatch.setattr(audit_service, "VERIFY_BATCH_SIZE", 2)
    engine = build_engine(Settings(database_url=scratch_url))
    try:
        upgrade(engine)
        for action, outcome in TRAIL:
            with unit_of_work(build_sessionmaker(engine)) as db:
                record(db, CONTEXT, action, outcome=outcome, patient_id=PATIENT)
    finally:
        engine.dispose()
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", scratch_url)
    return scratch_url


def test_record_appends_contiguous_chained_events(db: Session) -> None:
    start = db.scalars(select(AuditHead)).one().seq
    events = [record(db, CONTEXT, action, outcome=outcome) for action, outcome in TRAIL]
    # Events join the chain when the transaction flushes, so the head is locked only then.
    assert {e.seq for e in events} == {None}
    db.flush()

    assert [e.seq for e in events] == list(range(start + 1, start + len(TRAIL) + 1))
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert all(event_hash(e) == e.hash for e in events)
    head = db.scalars(select(AuditHead)).one()
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    assert verify_chain(db) == ChainReport(ok=True, checked=head.seq)


def test_held_events_and_flushed_events_share_one_chain(db: Session) -> None:
    """A group's held events go in by plain statements; events recorded before and after them,
    through the session, continue the same chain."""
    before = record(db, CONTEXT, "auth.login")
    db.flush()
    head = db.scalars(select(AuditHead)).one()  # the session now holds the head as it was
    defer_chaining(db)
    held = [record(db, CONTEXT, "patient.view") for _ in range(3)]
    assert {e.seq for e in held} == {None}
    chain_deferred(db)
    after = record(db, CONTEXT, "auth.logout")
    db.flush()

    events = [before, *held, after]
    assert [e.seq for e in events] == list(range(before.seq, before.seq + 5))
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    stored = db.scalars(select(AuditEvent).where(AuditEvent.seq >= before.seq)).all()
    assert [e.hash for e in stored] == [e.hash for e in events]
    assert (head.seq, head.hash) == (after.seq, after.hash)
    assert verify_chain(db).ok


def test_an_empty_trail_is_intact(scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_engine(Settings(database_url=scratch_url))
    upgrade(engine)
    engine.dispose()
    assert verify(scratch_url) == ChainReport(ok=True, checked=0)

    monkeypatch.setenv("KETAGUARD_DATABASE_URL", scratch_url)
    result = run_verify()
    assert result.exit_code == 0, result.output
    assert "Audit trail intact: 0 events verified." in result.output


def test_verify_explains_a_database_without_schema(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", scratch_url)
    result = run_verify()
    assert result.exit_code == 1
    assert "no ketaguard schema yet" in result.output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET outcome = 'success' WHERE seq = :seq",
        "DELETE FROM audit_event WHERE seq = :seq",
        "DELETE FROM audit_event",
    ],
    ids=["update", "delete", "delete-all"],
)
def test_the_database_refuses_to_change_events(db: Session, statement: str) -> None:
    event = record(db, CONTEXT, "patient.view", outcome=Outcome.denied)

    # A savepoint keeps the failed statement from aborting the test's transaction on PostgreSQL.
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement), {"seq": event.seq})

    stored = db.execute(
        text("SELECT outcome FROM audit_event WHERE seq = :seq"), {"seq": event.seq}
    )
    assert stored.scalar_one() == "denied"


@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE is PostgreSQL's; SQLite has none")
def test_postgres_refuses_to_truncate_events(db: Session) -> None:
    event = record(db, CONTEXT, "auth.login")
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("TRUNCATE audit_event"))
    assert db.get(AuditEvent, event.seq) is not None


def test_verify_reads_the_database_not_the_session(db: Session) -> None:
    events = [record(db, CONTEXT, action, outcome=outcome) for action, outcome in TRAIL]
    db.flush()
    target = events[2]
    # Rolled back with the test's transaction, triggers included (DDL is transactional on both).
    disable_append_only(db.connection())
    db.execute(
        text("UPDATE audit_event SET outcome = 'success' WHERE seq = :seq"), {"seq": target.seq}
    )

    report = verify_chain(db)
    assert (report.ok, report.first_bad_seq) == (False, target.seq)
    assert (
        report.problem == f"event {target.seq} was altered: its content no longer matches its hash"
    )


def test_an_intact_trail_verifies(trail: str) -> None:
    assert verify(trail) == ChainReport(ok=True, checked=len(TRAIL))
    result = run_verify()
    assert result.exit_code == 0, result.output
    assert "Audit trail intact: 5 events verified." in result.output


def _alter(connection: Connection) -> None:
    connection.execute(text("UPDATE audit_event SET outcome = 'success' WHERE seq = 3"))


def _alter_and_rehash(connection: Connection) -> None:
    with Session(bind=connection) as db:
        event = db.get_one(AuditEvent, 3)
        event.outcome = Outcome.success.value
        event.hash = event_hash(event)
        db.flush()


def _remove(connection: Connection) -> None:
    connection.execute(text("DELETE FROM audit_event WHERE seq = 3"))


def _remove_and_renumber(connection: Connection) -> None:
    connection.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    for seq in (4, 5):
        connection.execute(
            text("UPDATE audit_event SET seq = :new WHERE seq = :old"), {"new": seq - 1, "old": seq}
        )
    connection.execute(
        text("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_event WHERE seq = 4)")
    )


def _swap_contents(connection: Connection) -> None:
    columns = [name for name in EVENT_FIELDS if name != "seq"]
    rows = connection.execute(text("SELECT * FROM audit_event WHERE seq IN (2, 3)")).mappings()
    by_seq = {row["seq"]: dict(row) for row in rows}
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    for target, source in ((2, 3), (3, 2)):
        values = {name: by_seq[source][name] for name in columns}
        connection.execute(
            text(f"UPDATE audit_event SET {assignments} WHERE seq = :target"),
            {**values, "target": target},
        )


def _swap_positions(connection: Connection) -> None:
    for old, new in ((2, -2), (3, 2), (-2, 3)):
        connection.execute(
            text("UPDATE audit_event SET seq = :new WHERE seq = :old"), {"new": new, "old": old}
        )


def _remove_newest(connection: Connection) -> None:
    connection.execute(text("DELETE FROM audit_event WHERE seq = 5"))


def _forge(connection: Connection, seq: int, action: str) -> None:
    """Append a well-formed event chained to event seq-1, as a forger with table access would."""
    with Session(bind=connection) as db:
        previous = db.get_one(AuditEvent, seq - 1)
        forged = AuditEvent(
            seq=seq,
            occurred_at=utcnow(),
            action=action,
            outcome=Outcome.success.value,
            detail="{}",
            prev_hash=previous.hash,
        )
        forged.hash = event_hash(forged)
        db.add(forged)
        db.flush()


def _replace_newest(connection: Connection) -> None:
    _remove_newest(connection)
    _forge(connection, 5, "auth.logout")


def _append_past_head(connection: Connection) -> None:
    _forge(connection, 6, "patient.view")


TAMPERING: list[tuple[Callable[[Connection], None], int, str]] = [
    (_alter, 3, "event 3 was altered: its content no longer matches its hash"),
    (_alter_and_rehash, 4, "event 4 does not chain from event 3"),
    (_remove, 3, "event 3 is missing: the trail jumps from event 2 to event 4"),
    (_remove_and_renumber, 3, "event 3 does not chain from event 2"),
    (_swap_contents, 2, "event 2 does not chain from event 1"),
    (_swap_positions, 2, "event 2 does not chain from event 1"),
    (
        _remove_newest,
        5,
        "event 5 is missing: the trail ends at event 4 but the audit head records event 5",
    ),
    (_replace_newest, 5, "event 5 does not match the audit head"),
    (_append_past_head, 6, "event 6 is past the audit head (event 5)"),
]


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "problem"),
    TAMPERING,
    ids=[tamper.__name__.lstrip("_").replace("_", "-") for tamper, _, _ in TAMPERING],
)
def test_tampering_is_detected(
    trail: str, tamper: Callable[[Connection], None], bad_seq: int, problem: str
) -> None:
    with attacker(trail) as connection:
        tamper(connection)

    report = verify(trail)
    assert not report.ok
    assert report.first_bad_seq == bad_seq
    assert report.problem is not None
    assert report.problem.startswith(problem)

    result = run_verify()
    assert result.exit_code == 1
    assert f"Audit trail broken: {report.problem}" in result.output
    assert "intact" not in result.output


def test_a_rewritten_head_without_events_is_detected(trail: str) -> None:
    with attacker(trail) as connection:
        connection.execute(text("DELETE FROM audit_event"))
        connection.execute(text("UPDATE audit_head SET seq = 0"))

    report = verify(trail)
    assert report == ChainReport(
        ok=False,
        checked=0,
        first_bad_seq=None,
        problem="the audit head records no events but holds a hash",
    )
    assert run_verify().exit_code == 1


@pytest.mark.skipif(ON_POSTGRES, reason="only SQLite readers could wait on a writer's lock")
def test_verify_takes_no_write_lock(trail: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A command that wanted the write lock would give up after this long with "database is locked".
    monkeypatch.setenv("KETAGUARD_SQLITE_BUSY_TIMEOUT_SECONDS", "0.2")
    writer = build_engine(Settings(database_url=trail))
    try:
        with writer.begin() as connection:
            connection.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
            result = run_verify()
    finally:
        writer.dispose()
    assert result.exit_code == 0, result.output
    assert "Audit trail intact: 5 events verified." in result.output


def test_values_longer_than_their_column_are_refused_on_every_database(db: Session) -> None:
    with pytest.raises(ValueError, match="resource_id longer than 64"):
        record(db, AuditContext(), "patient.read", resource_id="x" * 65)
    with pytest.raises(ValueError, match="action longer than 64"):
        record(db, AuditContext(), "a" * 65)

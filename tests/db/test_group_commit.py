"""Group commit: requests share a transaction, but each one's work and errors stay its own."""

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from ketaguard.audit.models import AuditEvent, AuditHead
from ketaguard.audit.service import AuditContext, record, verify_chain
from ketaguard.auth.service import refuse
from ketaguard.bootstrap import prepare_database
from ketaguard.clinics.models import Organisation
from ketaguard.config import Settings
from ketaguard.db.engine import build_engine, build_sessionmaker
from ketaguard.db.group_commit import GroupCommitter, Work, _Job, commit_group
from ketaguard.db.session import unit_of_work
from ketaguard.kit.errors import Conflict, Forbidden


@pytest.fixture
def scratch_engine(scratch_url: str) -> Iterator[Engine]:
    engine = build_engine(Settings(database_url=scratch_url))
    prepare_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(scratch_engine: Engine) -> sessionmaker[Session]:
    return build_sessionmaker(scratch_engine)


def adds(name: str) -> Work[str]:
    """An organisation and its audit event, as a request would write them."""

    def work(db: Session) -> str:
        db.add(Organisation(name=name))
        record(db, AuditContext(), "test.add", detail={"name": name})
        return name

    return work


def stored(factory: sessionmaker[Session]) -> tuple[set[str], list[str]]:
    """The organisations and the audited names, in the trail's order; the trail must verify."""
    with unit_of_work(factory) as db:
        assert verify_chain(db).ok
        names = set(db.scalars(select(Organisation.name)))
        events = db.scalars(select(AuditEvent.detail).order_by(AuditEvent.seq))
        return names, [detail for detail in events if '"name"' in detail]


def job(work: Work[object], key: str = "") -> _Job:
    return _Job(work, key)


def test_waiting_requests_commit_together_each_with_its_own_result(
    factory: sessionmaker[Session],
) -> None:
    committer, release = GroupCommitter(factory), threading.Event()
    sessions: list[Session] = []

    def held(db: Session) -> str:
        release.wait(10)  # holds the writer while the others queue
        return "first"

    def noting(name: str) -> Work[str]:
        def work(db: Session) -> str:
            sessions.append(db)
            return adds(name)(db)

        return work

    first = job(held)
    committer.submit(first)
    rest = [job(noting(f"Org {n}")) for n in range(5)]
    for queued in rest:
        committer.submit(queued)
    release.set()
    assert first.future.result(10) == "first"
    assert [queued.future.result(10) for queued in rest] == [f"Org {n}" for n in range(5)]
    committer.close()
    assert len({id(db) for db in sessions}) == 1  # one transaction for the five queued
    names, events = stored(factory)
    assert names == {f"Org {n}" for n in range(5)}
    assert len(events) == 5


@pytest.mark.parametrize("savepoints", [False, True])
def test_a_refused_request_leaves_nothing_and_its_neighbours_commit(
    factory: sessionmaker[Session], savepoints: bool
) -> None:
    runs: list[str] = []

    def refused(db: Session) -> str:
        runs.append("refused")
        adds("Refused")(db)
        raise Conflict("no")

    group = [job(adds("Before")), job(refused), job(adds("After"))]
    # Straight through, the refusal undoes the group, which runs again with savepoints; the next
    # group is told to start with them.
    assert commit_group(factory, group, savepoints=savepoints) is True
    assert runs == ["refused"] * (1 if savepoints else 2)
    assert group[0].future.result() == "Before"
    assert isinstance(group[1].future.exception(), Conflict)
    assert group[2].future.result() == "After"
    names, events = stored(factory)
    assert names == {"Before", "After"}
    assert len(events) == 2  # the refused request's audit event went with its work


@pytest.mark.parametrize("savepoints", [False, True])
def test_a_refusal_keeps_its_audit_event_but_not_its_work(
    factory: sessionmaker[Session], savepoints: bool
) -> None:
    def denied(db: Session) -> str:
        adds("Denied")(db)
        refuse(db, AuditContext(), "auth.permission_denied", Forbidden("no"))

    group = [job(adds("Kept")), job(denied)]
    commit_group(factory, group, savepoints=savepoints)
    assert group[0].future.result() == "Kept"
    assert isinstance(group[1].future.exception(), Forbidden)
    names, _ = stored(factory)
    assert names == {"Kept"}  # the refusal undid its own work only
    with unit_of_work(factory) as db:
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions[-2:] == ["test.add", "auth.permission_denied"]


@pytest.mark.parametrize("savepoints", [False, True])
def test_when_the_transaction_fails_no_request_hears_done(
    factory: sessionmaker[Session], savepoints: bool
) -> None:
    def breaks_the_trail(db: Session) -> str:
        # The audit head is gone, so the group's events cannot join the chain: nothing commits.
        db.execute(delete(AuditHead))
        return "broken"

    group = [job(adds("Lost")), job(breaks_the_trail, "z")]
    commit_group(factory, group, savepoints=savepoints)
    errors = [queued.future.exception() for queued in group]
    assert all(error is not None for error in errors)
    assert errors[0] is errors[1]
    names, events = stored(factory)
    assert names == set()
    assert events == []


def test_jobs_run_in_lock_key_order_and_a_cancelled_one_not_at_all(
    factory: sessionmaker[Session],
) -> None:
    ran: list[str] = []

    def noting(name: str) -> Work[str]:
        def work(db: Session) -> str:
            ran.append(name)
            return name

        return work

    cancelled = job(noting("cancelled"), "a")
    assert cancelled.future.cancel()
    group = [job(noting("b1"), "b"), job(noting("c"), "c"), cancelled, job(noting("b2"), "b")]
    commit_group(factory, group)
    assert ran == ["b1", "b2", "c"]
    assert cancelled.future.cancelled()


def test_a_closed_committer_refuses_new_work(factory: sessionmaker[Session]) -> None:
    committer = GroupCommitter(factory)
    committer.submit(done := job(adds("Last")))
    committer.close()
    assert done.future.result(10) == "Last"
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(_Job(adds("Late"), "", Future()))


def test_many_concurrent_requests_are_all_kept(factory: sessionmaker[Session]) -> None:
    committer = GroupCommitter(factory)
    names = [f"Org {uuid.uuid4().hex[:8]}" for _ in range(200)]
    jobs = [job(adds(name), name) for name in names]
    threads = [threading.Thread(target=committer.submit, args=(queued,)) for queued in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(queued.future.result(30) for queued in jobs) == sorted(names)
    committer.close()
    stored_names, events = stored(factory)
    assert stored_names == set(names)
    assert len(events) == len(names)


def test_a_group_without_refusals_runs_straight_through(factory: sessionmaker[Session]) -> None:
    opened: list[bool] = []

    def noting(name: str) -> Work[str]:
        def work(db: Session) -> str:
            opened.append(db.in_nested_transaction())
            return adds(name)(db)

        return work

    assert commit_group(factory, [job(noting("One")), job(noting("Two"))]) is False
    assert opened == [False, False]  # no savepoints
    assert commit_group(factory, [job(noting("Three"))], savepoints=True) is False
    assert opened[-1] is True
    names, events = stored(factory)
    assert names == {"One", "Two", "Three"}
    assert len(events) == 3


def test_after_a_refusal_groups_use_savepoints_until_one_passes_without(
    factory: sessionmaker[Session],
) -> None:
    committer, entered, release = GroupCommitter(factory), threading.Event(), threading.Event()
    runs: list[str] = []
    nested: list[bool] = []

    def held(db: Session) -> str:
        entered.set()
        release.wait(10)
        return "held"

    def refused(db: Session) -> str:
        runs.append("refused")
        raise Conflict("no")

    def clean(db: Session) -> str:
        nested.append(db.in_nested_transaction())
        return "clean"

    def run_alone(work: Work[str]) -> _Job:
        queued = job(work)
        committer.submit(queued)
        queued.future.exception(10)
        return queued

    committer.submit(gate := job(held))
    assert entered.wait(10)  # the writer is busy: what comes next waits, as one group
    first, follower = job(refused), job(adds("Follower"))
    committer.submit(first)
    committer.submit(follower)
    release.set()
    assert gate.future.result(10) == "held"
    assert isinstance(first.future.exception(10), Conflict)
    assert follower.future.result(10) == "Follower"
    assert runs == ["refused", "refused"]  # straight through, then again with savepoints
    assert isinstance(run_alone(refused).future.exception(), Conflict)
    assert runs == ["refused"] * 3  # this group began with savepoints: it ran once
    run_alone(clean)
    run_alone(clean)
    assert nested == [True, False]  # savepoints until a group passes without a refusal
    committer.close()

"""Group commit: requests share a transaction, but each one's work and errors stay its own."""

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import cast

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ketaguard.audit.models import AuditEvent, AuditHead
from ketaguard.audit.service import AuditContext, record, verify_chain
from ketaguard.auth.service import refuse
from ketaguard.clinics.models import Organisation
from ketaguard.db.engine import build_sessionmaker
from ketaguard.db.group_commit import GroupCommitter, Together, Work, _Job, commit_group
from ketaguard.db.session import unit_of_work
from ketaguard.kit.errors import Conflict, Forbidden
from tests.aio import run_async


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


def noting(name: str, seen: list[str], nested: list[bool] | None = None) -> Work[str]:
    def work(db: Session) -> str:
        seen.append(name)
        if nested is not None:
            nested.append(db.in_nested_transaction())
        return name

    return work


def refused_noting(runs: list[str]) -> Work[str]:
    def work(db: Session) -> str:
        runs.append("refused")
        adds("Refused")(db)
        raise Conflict("no")

    return work


def stored(factory: sessionmaker[Session]) -> tuple[set[str], list[str]]:
    """The organisations and the audited names, in the trail's order; the trail must verify."""
    with unit_of_work(factory) as db:
        assert verify_chain(db).ok
        names = set(db.scalars(select(Organisation.name)))
        events = db.scalars(select(AuditEvent.detail).order_by(AuditEvent.seq))
        return names, [detail for detail in events if '"name"' in detail]


async def run_group(
    factory: sessionmaker[Session], works: list[tuple[Work[object], str]], savepoints: bool
) -> tuple[list[_Job], bool]:
    loop = asyncio.get_running_loop()
    group = [_Job(work, key, loop.create_future()) for work, key in works]
    refused = await commit_group(factory, group, savepoints=savepoints)
    return group, refused


def group_of(
    factory: sessionmaker[Session], works: list[Work[object]], *, savepoints: bool = False
) -> tuple[list[_Job], bool]:
    return run_async(run_group(factory, [(work, "") for work in works], savepoints))


@pytest.mark.parametrize("savepoints", [False, True])
def test_a_refused_request_leaves_nothing_and_its_neighbours_commit(
    factory: sessionmaker[Session], savepoints: bool
) -> None:
    runs: list[str] = []
    works = [adds("Before"), refused_noting(runs), adds("After")]
    group, refused = group_of(factory, works, savepoints=savepoints)
    assert refused is True  # so the next group starts with savepoints
    # Straight through, the refusal undoes the group, which runs again with savepoints.
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

    group, _ = group_of(factory, [adds("Kept"), denied], savepoints=savepoints)
    assert group[0].future.result() == "Kept"
    assert isinstance(group[1].future.exception(), Forbidden)
    names, _ = stored(factory)
    assert names == {"Kept"}  # the refusal undid its own work only
    with unit_of_work(factory) as db:
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions[-2:] == ["test.add", "auth.permission_denied"]


@pytest.mark.parametrize("savepoints", [False, True])
def test_when_the_commit_fails_no_request_hears_done(
    factory: sessionmaker[Session], savepoints: bool
) -> None:
    def breaks_the_trail(db: Session) -> str:
        # The audit head is gone, so the group's events cannot join the chain: nothing commits.
        db.execute(delete(AuditHead))
        return "broken"

    runs: list[str] = []
    works = [adds("Lost"), breaks_the_trail, refused_noting(runs)]
    group, _ = group_of(factory, works, savepoints=savepoints)
    errors = [job.future.exception() for job in group]
    assert errors[0] is not None
    assert errors[0] is errors[1]  # both kept work that did not commit: the commit's error
    assert isinstance(errors[2], Conflict)  # a refusal stays a refusal
    names, events = stored(factory)
    assert names == set()
    assert events == []


def test_a_group_without_refusals_runs_straight_through(factory: sessionmaker[Session]) -> None:
    seen: list[str] = []
    nested: list[bool] = []
    group, refused = group_of(factory, [noting("one", seen, nested), adds("Two")])
    assert refused is False
    assert nested == [False]  # no savepoint
    group_of(factory, [noting("three", seen, nested)], savepoints=True)
    assert nested == [False, True]
    assert [job.future.result() for job in group] == ["one", "Two"]
    assert stored(factory)[0] == {"Two"}


def test_jobs_run_in_lock_key_order_and_a_cancelled_one_not_at_all(
    factory: sessionmaker[Session],
) -> None:
    seen: list[str] = []

    async def scenario() -> _Job:
        loop = asyncio.get_running_loop()
        cancelled = _Job(noting("cancelled", seen), "a", loop.create_future())
        cancelled.future.cancel()
        group = [
            _Job(noting("b1", seen), "b", loop.create_future()),
            _Job(noting("c", seen), "c", loop.create_future()),
            cancelled,
            _Job(noting("b2", seen), "b", loop.create_future()),
        ]
        await commit_group(factory, group)
        return cancelled

    cancelled = run_async(scenario())
    assert seen == ["b1", "b2", "c"]
    assert cancelled.future.cancelled()


def test_requests_waiting_together_share_one_commit_and_each_gets_its_own_answer(
    factory: sessionmaker[Session],
) -> None:
    names = [f"Org {uuid.uuid4().hex[:8]}" for _ in range(200)]
    sessions: set[int] = set()

    def adding(name: str) -> Work[str]:
        def work(db: Session) -> str:
            sessions.add(id(db))
            return adds(name)(db)

        return work

    async def scenario() -> list[str]:
        committer = GroupCommitter(factory)
        answers = await asyncio.gather(
            *(committer.run(adding(name), lock_key=name) for name in names)
        )
        await committer.close()
        with pytest.raises(RuntimeError, match="closed"):
            await committer.run(adds("Late"))
        return list(answers)

    assert run_async(scenario()) == names
    assert len(sessions) < len(names) / 10  # a few groups (64 at most each), not 200 commits
    stored_names, events = stored(factory)
    assert stored_names == set(names)
    assert len(events) == len(names)


def test_after_a_refusal_groups_use_savepoints_until_one_passes_without(
    factory: sessionmaker[Session],
) -> None:
    runs: list[str] = []
    nested: list[bool] = []
    seen: list[str] = []

    async def scenario() -> None:
        committer = GroupCommitter(factory)
        first, follower = await asyncio.gather(
            committer.run(refused_noting(runs)), committer.run(adds("Follower")),
            return_exceptions=True,
        )  # fmt: skip
        assert isinstance(first, Conflict)
        assert follower == "Follower"
        assert runs == ["refused", "refused"]  # straight through, then again with savepoints
        with pytest.raises(Conflict):
            await committer.run(refused_noting(runs))
        assert runs == ["refused"] * 3  # this group began with savepoints: it ran once
        await committer.run(noting("a", seen, nested))
        await committer.run(noting("b", seen, nested))
        assert nested == [True, False]  # savepoints until a group passes without a refusal
        await committer.close()

    run_async(scenario())


def test_a_group_waiting_for_another_writer_never_holds_up_the_event_loop(
    factory: sessionmaker[Session],
) -> None:
    """A request's transaction, run on a thread, needs the event loop for its next step (FastAPI
    schedules each step from there). A group waiting on the event loop for that transaction's
    lock would wait for ever."""

    async def scenario() -> str:
        loop, committer = asyncio.get_running_loop(), GroupCommitter(factory)
        holding = threading.Event()

        def other_request() -> None:
            with unit_of_work(factory) as db:
                adds("Other")(db)
                db.flush()  # holds the write lock (SQLite) and the audit head (PostgreSQL)
                holding.set()
                # Its next step needs the loop, as a request's commit does.
                asyncio.run_coroutine_threadsafe(asyncio.sleep(0.2), loop).result(timeout=5)

        other = threading.Thread(target=other_request)
        other.start()
        assert await asyncio.to_thread(holding.wait, 5)
        answer = await asyncio.wait_for(committer.run(adds("Vital")), timeout=10)
        await asyncio.to_thread(other.join, 10)
        await committer.close()
        return answer

    assert run_async(scenario()) == "Vital"
    assert stored(factory)[0] == {"Other", "Vital"}


def test_a_group_that_cannot_begin_tells_each_request(factory: sessionmaker[Session]) -> None:
    def unreachable() -> Session:
        raise OperationalError("connect", {}, Exception("the database is unreachable"))

    broken = cast(sessionmaker[Session], unreachable)
    broken.kw = factory.kw  # type: ignore[attr-defined]

    async def scenario() -> list[object]:
        committer = GroupCommitter(broken)
        answers = await asyncio.gather(
            committer.run(adds("One")), committer.run(adds("Two")), return_exceptions=True
        )
        await committer.close()
        return list(answers)

    answers = run_async(asyncio.wait_for(scenario(), timeout=10))
    assert all(isinstance(answer, OperationalError) for answer in answers)


def test_a_group_meeting_another_processs_sqlite_lock_waits_off_the_event_loop(
    factory: sessionmaker[Session], scratch_engine: Engine
) -> None:
    if scratch_engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file lock; on PostgreSQL every group runs on a thread")
    # A connection of its own, outside this process's write queue, as another process's is.
    other = sqlite3.connect(
        scratch_engine.url.database or "", isolation_level=None, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")

    async def scenario() -> tuple[str, int]:
        committer, ticks = GroupCommitter(factory), 0

        async def ticking() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(ticking())
        asyncio.get_running_loop().call_later(0.3, other.rollback)
        answer = await asyncio.wait_for(committer.run(adds("After the lock")), timeout=10)
        ticker.cancel()
        await committer.close()
        return answer, ticks

    answer, ticks = run_async(scenario())
    other.close()
    assert answer == "After the lock"
    assert ticks >= 10  # the loop went on while the group waited for the lock


def storing_together(calls: list[list[str]]) -> Together[str, str]:
    """Stores each name as `adds` would, all in one call; refuses a name starting "refused"."""

    def together(db: Session, names: list[str]) -> list[str]:
        calls.append(names)
        for name in names:
            adds(name)(db)
            if name.startswith("refused"):
                raise Conflict(f"no {name}")
        return [name.upper() for name in names]

    return together


def test_neighbours_with_the_same_together_run_as_one_call_in_lock_order(
    factory: sessionmaker[Session],
) -> None:
    calls: list[list[str]] = []
    seen: list[str] = []
    together = storing_together(calls)

    async def scenario() -> list[object]:
        loop = asyncio.get_running_loop()
        group = [
            _Job("b", "b", loop.create_future(), together),
            _Job(noting("c", seen), "c", loop.create_future()),
            _Job("a", "a", loop.create_future(), together),
            _Job("a2", "a", loop.create_future(), together),
            _Job("d", "d", loop.create_future(), together),
        ]
        assert await commit_group(factory, group) is False
        return [job.future.result() for job in group]

    assert run_async(scenario()) == ["B", "c", "A", "A2", "D"]
    # Another kind of work between them keeps the lock order: two calls, not one.
    assert calls == [["a", "a2", "b"], ["d"]]
    assert seen == ["c"]
    assert stored(factory)[0] == {"a", "a2", "b", "d"}


def test_when_work_done_together_is_refused_each_runs_again_alone(
    factory: sessionmaker[Session],
) -> None:
    calls: list[list[str]] = []
    together = storing_together(calls)

    async def scenario() -> list[object]:
        committer = GroupCommitter(factory)
        answers = await asyncio.gather(
            *(
                committer.run_together(name, together, lock_key=name)
                for name in ("x", "refused", "y")
            ),
            return_exceptions=True,
        )
        await committer.close()
        return list(answers)

    x, refused, y = run_async(scenario())
    assert (x, y) == ("X", "Y")
    assert isinstance(refused, Conflict)
    assert calls == [["refused", "x", "y"], ["refused"], ["x"], ["y"]]
    names, events = stored(factory)
    assert names == {"x", "y"}  # the refused one's work went with its savepoint alone
    assert len(events) == 2


def session_counter(groups: list[uuid.UUID]) -> Callable[[str], Work[str]]:
    """Work that notes each group it ran in (by a mark on the group's session)."""

    def adding(name: str) -> Work[str]:
        def work(db: Session) -> str:
            if "test.group" not in db.info:
                db.info["test.group"] = uuid.uuid4()
                groups.append(db.info["test.group"])
            return adds(name)(db)

        return work

    return adding


async def answered_then_back(
    committer: GroupCommitter, adding: Callable[[str], Work[str]], callers: int, apart: float
) -> float:
    """`callers` requests answered in one group, then each back with its next one, `apart`
    seconds after the one before; the seconds until the last is answered."""
    await asyncio.gather(*(committer.run(adding(f"First {k}")) for k in range(callers)))
    began = time.perf_counter()

    async def next_write(k: int) -> str:
        await asyncio.sleep(k * apart)
        return await committer.run(adding(f"Next {k}"))

    await asyncio.gather(*(next_write(k) for k in range(callers)))
    return time.perf_counter() - began


@pytest.mark.parametrize("gather", [0.0, 2.0])
def test_callers_back_soon_after_their_answers_share_the_next_group(
    factory: sessionmaker[Session], gather: float
) -> None:
    groups: list[uuid.UUID] = []

    async def scenario() -> float:
        committer = GroupCommitter(factory, gather_seconds=gather)
        elapsed = await answered_then_back(committer, session_counter(groups), 5, 0.03)
        await committer.close()
        return elapsed

    elapsed = run_async(scenario())
    if gather:
        assert len(groups) == 2  # the first five, then the next five together
        assert elapsed < gather / 2  # the wait ended when the last came back, not at its bound
    else:
        assert len(groups) > 2  # the first to come back went alone
    assert len(stored(factory)[1]) == 10


def test_callers_that_came_while_a_group_ran_wait_for_its_callers_to_come_back(
    factory: sessionmaker[Session],
) -> None:
    """Two gateways' batches go first; two more come while that group commits. Counting only the
    previous group's two, the two waiting would go at once, without the first two, who would
    come back to a group of their own (over HTTP, four gateways took turns so, in twos, for as
    long as they posted)."""
    ran_in: list[int] = []  # for each request, the group it ran in

    def adding(name: str) -> Work[str]:
        def work(db: Session) -> str:
            db.info.setdefault("test.group", len(set(ran_in)))
            ran_in.append(db.info["test.group"])
            return adds(name)(db)

        return work

    async def scenario() -> None:
        committer = GroupCommitter(factory, gather_seconds=0.2)
        first_ran = asyncio.Event()

        def first(db: Session) -> str:
            first_ran.set()
            return adding("0.0")(db)

        async def posting(k: int, rounds: int) -> None:
            for n in range(rounds):
                await committer.run(first if (k, n) == (0, 0) else adding(f"{k}.{n}"))
                await asyncio.sleep(0.01)  # the answer's way back, and the next batch's

        async def later(k: int) -> None:
            await first_ran.wait()  # set as the first group runs; it commits next
            await posting(k, 3)

        await asyncio.gather(posting(0, 3), posting(1, 3), later(2), later(3))
        await committer.close()

    run_async(scenario())
    assert [ran_in.count(group) for group in dict.fromkeys(ran_in)] == [2, 4, 4, 2]
    assert len(stored(factory)[1]) == 12


def test_a_caller_after_the_gathering_window_does_not_wait(factory: sessionmaker[Session]) -> None:
    groups: list[uuid.UUID] = []
    adding = session_counter(groups)

    async def scenario() -> float:
        committer = GroupCommitter(factory, gather_seconds=0.5)
        await asyncio.gather(*(committer.run(adding(f"First {k}")) for k in range(3)))
        await asyncio.sleep(0.6)
        began = time.perf_counter()
        await committer.run(adding("Alone"))
        elapsed = time.perf_counter() - began
        await committer.close()
        return elapsed

    assert run_async(scenario()) < 0.25
    assert len(groups) == 2

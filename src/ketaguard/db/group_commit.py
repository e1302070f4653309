"""Group commit: many requests' writes in one transaction, each acknowledged only after it commits.

A commit waits for the disk (fsync), and SQLite commits one transaction at a time: a bedside
gateway's stream of small writes, each its own transaction, queues on the disk rather than on the
processor. Here one thread per server process takes every write waiting for it, runs them in one
transaction, and commits once. Each request still stands alone: its work is all-or-nothing, its
error is its own, and it hears "done" only once the commit that holds its work has succeeded. If
that commit fails, every request in the group is told so.

Most groups run their work straight through. When a request in it is refused, the group is undone
and run again with a savepoint around each request, which undoes the refused one alone; the next
group then starts with savepoints too, until one passes without a refusal. So a group pays for
savepoints only while refusals are about, and never runs more than twice.
"""

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from ketaguard.audit.service import chain_deferred, defer_chaining
from ketaguard.db.session import JOB_SAVEPOINT
from ketaguard.kit.errors import DomainError

T = TypeVar("T")
Work = Callable[[Session], T]

# Enough to amortise one commit over every client a clinic's gateways keep busy at once, few
# enough that one group's transaction stays short for the other writers waiting behind it.
MAX_GROUP = 64


class Committer(Protocol):
    """Runs one request's database work in its own transaction, or what stands for one.

    The work may be run again from the start after its transaction was rolled back, so it must
    change nothing but the database.
    """

    async def run(self, work: Work[T], *, lock_key: str = "") -> T: ...


@dataclass
class _Job:
    work: Work[Any]
    lock_key: str
    future: Future[Any] = field(default_factory=Future)


class GroupCommitter:
    """A writer thread that commits the work waiting for it as one transaction.

    Jobs run in the order of their `lock_key` (stable for equal keys), so that two groups, in two
    server processes, lock the rows they share in the same order and never wait for each other.
    The thread starts with the first job, so a server forking its workers forks no thread.
    """

    def __init__(self, factory: sessionmaker[Session], *, max_group: int = MAX_GROUP) -> None:
        self._factory = factory
        self._max_group = max_group
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()
        self._closed = False
        self._savepoints = False  # the previous group had a refusal

    async def run(self, work: Work[T], *, lock_key: str = "") -> T:
        job = _Job(work, lock_key)
        self.submit(job)
        result: T = await asyncio.wrap_future(job.future)
        return result

    def submit(self, job: _Job) -> None:
        with self._started:
            if self._closed:
                raise RuntimeError("the group committer is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="ketaguard-group-commit", daemon=True
                )
                self._thread.start()
            self._jobs.put(job)

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._started:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._jobs.put(None)
        if thread is not None:
            thread.join()

    def _serve(self) -> None:
        while (first := self._jobs.get()) is not None:
            group, stop = [first], False
            while len(group) < self._max_group:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                group.append(job)
            self._savepoints = commit_group(self._factory, group, savepoints=self._savepoints)
            if stop:
                return


def commit_group(
    factory: sessionmaker[Session], group: list[_Job], *, savepoints: bool = False
) -> bool:
    """Run the jobs in one transaction, commit it, then settle each job. Without `savepoints`
    the work runs straight through, and again with them if a job raises. Returns whether a job
    was refused (so the next group had better start with savepoints)."""
    # A job whose client has gone away (its wait was cancelled) is not run: nobody would hear
    # its outcome, and it can no longer be cancelled once it runs.
    live = [job for job in group if job.future.set_running_or_notify_cancel()]
    if not live:
        return savepoints
    if not savepoints and _commit_straight_through(factory, live):
        return False
    return _commit_with_savepoints(factory, live)


def _ordered(jobs: list[_Job]) -> list[_Job]:
    return sorted(jobs, key=lambda job: job.lock_key)


def _commit_straight_through(factory: sessionmaker[Session], jobs: list[_Job]) -> bool:
    """False, with nothing committed and no job settled, as soon as a job raises."""
    results: list[Any] = []
    try:
        with factory() as db:
            defer_chaining(db)
            for job in _ordered(jobs):
                try:
                    results.append(job.work(db))
                except Exception:
                    return False  # closing the session rolls back everyone's work
            chain_deferred(db)
            db.commit()
    except Exception as exc:  # the commit, or the transaction itself, failed
        for job in jobs:
            job.future.set_exception(exc)
        return True
    for job, result in zip(_ordered(jobs), results, strict=True):
        job.future.set_result(result)
    return True


def _commit_with_savepoints(factory: sessionmaker[Session], jobs: list[_Job]) -> bool:
    outcomes: list[tuple[_Job, bool, Any]] = []  # the job, kept in the commit, result or error
    try:
        with factory() as db:
            defer_chaining(db)
            for job in _ordered(jobs):
                kept, outcome = _run_in_savepoint(db, job.work)
                outcomes.append((job, kept, outcome))
            chain_deferred(db)
            db.commit()
    except Exception as exc:  # the commit, or the transaction itself, failed
        refused = {id(job): outcome for job, kept, outcome in outcomes if not kept}
        for job in jobs:
            job.future.set_exception(refused.get(id(job), exc))
        return True
    for job, _, outcome in outcomes:
        if isinstance(outcome, BaseException):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)
    return any(isinstance(outcome, BaseException) for _, _, outcome in outcomes)


def _run_in_savepoint(db: Session, work: Work[Any]) -> tuple[bool, Any]:
    db.info[JOB_SAVEPOINT] = db.begin_nested()
    try:
        result = work(db)
        db.info[JOB_SAVEPOINT].commit()
        return True, result
    except DomainError as exc:
        # A refusal that keeps its own records (its audit event) keeps them, as a request does.
        if exc.keep_records:
            db.info[JOB_SAVEPOINT].commit()
        else:
            db.info[JOB_SAVEPOINT].rollback()
        return exc.keep_records, exc
    except Exception as exc:
        # Any other error is this job's alone; a transaction that cannot return to the
        # savepoint (a lost connection) raises here and fails the whole group.
        db.info[JOB_SAVEPOINT].rollback()
        return False, exc
    finally:
        db.info.pop(JOB_SAVEPOINT, None)


async def get_committer(request: Request) -> Committer:
    committer: Committer = request.app.state.committer
    return committer


GroupWrites = Annotated[Committer, Depends(get_committer)]

"""Group commit: many requests' writes in one transaction, each acknowledged only after it commits.

A commit waits for the disk (fsync), and SQLite commits one transaction at a time: a bedside
gateway's stream of small writes, each its own transaction, queues on the disk rather than on the
processor. Here one thread per server process takes every write waiting for it, runs each in a
savepoint of one transaction, and commits once. Each request still stands alone: its savepoint
keeps its work all-or-nothing, its error is its own, and it hears "done" only once the commit
that holds its work has succeeded. If that commit fails, every request in the group is told so.
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
    """Runs one request's database work in its own transaction, or what stands for one."""

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
            commit_group(self._factory, group)
            if stop:
                return


def commit_group(factory: sessionmaker[Session], group: list[_Job]) -> None:
    """Run every job in a savepoint of one transaction, commit it, then settle each job."""
    # A job whose client has gone away (its wait was cancelled) is not run: nobody would hear
    # its outcome, and it can no longer be cancelled once it runs.
    live = [job for job in group if job.future.set_running_or_notify_cancel()]
    outcomes: list[tuple[_Job, bool, Any]] = []  # the job, kept in the commit, result or error
    try:
        with factory() as db:
            defer_chaining(db)
            for job in sorted(live, key=lambda job: job.lock_key):
                kept, outcome = _run_in_savepoint(db, job.work)
                outcomes.append((job, kept, outcome))
            chain_deferred(db)
            db.commit()
    except Exception as exc:  # the commit, or the transaction itself, failed
        refused = {id(job): outcome for job, kept, outcome in outcomes if not kept}
        for job in live:
            job.future.set_exception(refused.get(id(job), exc))
        return
    for job, _, outcome in outcomes:
        if isinstance(outcome, BaseException):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)


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

"""A first-come, first-served queue for SQLite's single write lock inside one process.

SQLite lets one transaction write at a time. Left to its busy handler, waiting writers poll with
growing sleeps, so under load a writer can lose the race again and again: most requests finish in
milliseconds while a few wait seconds. Handing the lock from one waiter to the next, in arrival
order, keeps every writer's wait close to the queue's length. Other processes on the same file
still meet the busy timeout, as before.
"""

import sqlite3
import threading
from collections import deque
from typing import Any


class FairLock:
    """A lock handed directly to the longest waiter on release, so no thread can overtake."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        # Handed over between the timeout and taking the mutex: it is ours after all.
        return True

    def try_acquire(self) -> bool:
        """The lock if nobody holds or waits for it; never waits."""
        with self._mutex:
            if self._held:
                return False
            self._held = True
            return True

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # ownership passes; _held stays True
            else:
                self._held = False


_LOCKS: dict[str, FairLock] = {}
_LOCKS_MUTEX = threading.Lock()


def lock_for(path: str) -> FairLock:
    """One queue per database file, shared by every engine of this process that opens it."""
    with _LOCKS_MUTEX:
        return _LOCKS.setdefault(path, FairLock())


class WriteLockBusy(Exception):
    """Another writer of this process holds the write lock, and the caller would not wait."""


class QueuedConnection(sqlite3.Connection):
    """A SQLite connection that holds its file's write queue from BEGIN to COMMIT or ROLLBACK."""

    write_queue: FairLock | None = None
    queue_timeout: float = 0.0
    _holding = False

    def begin_write(self, *, wait: bool = True) -> None:
        """BEGIN IMMEDIATE in turn behind this process's other writers; with `wait=False`,
        `WriteLockBusy` at once instead of waiting for any writer, of this process or another."""
        if self.write_queue is not None and not self._holding:
            if not wait:
                if not self.write_queue.try_acquire():
                    raise WriteLockBusy
            elif not self.write_queue.acquire(self.queue_timeout):
                raise sqlite3.OperationalError("database is locked (waited for other writers)")
            self._holding = True
        try:
            if wait:
                self.execute("BEGIN IMMEDIATE")
            else:
                self._begin_without_waiting()
        except BaseException:
            self._leave_queue()
            raise

    def _begin_without_waiting(self) -> None:
        busy_timeout = self.execute("PRAGMA busy_timeout").fetchone()[0]
        self.execute("PRAGMA busy_timeout=0")
        try:
            self.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                raise WriteLockBusy from exc
            raise
        finally:
            self.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")

    def _leave_queue(self) -> None:
        if self._holding and self.write_queue is not None:
            self._holding = False
            self.write_queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_queue()


def queued_connect_args(path: str | None, timeout: float) -> dict[str, Any]:
    """`connect_args` for an engine whose write transactions join the file's queue."""
    if not path or path == ":memory:":
        return {"factory": QueuedConnection}
    return {"factory": _factory_for(lock_for(path), timeout)}


def _factory_for(queue: FairLock, timeout: float) -> type[QueuedConnection]:
    return type(
        "QueuedConnection", (QueuedConnection,), {"write_queue": queue, "queue_timeout": timeout}
    )

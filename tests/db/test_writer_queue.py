"""SQLite's write lock is handed out in arrival order within a process."""

import threading
import time
from pathlib import Path

from sqlalchemy import text

from ketaguard.config import Settings
from ketaguard.db.engine import build_engine
from ketaguard.db.writer_queue import FairLock, lock_for


def _wait_for_waiters(lock: FairLock, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(lock._waiters) < count:
        assert time.monotonic() < deadline, "waiters did not queue"
        time.sleep(0.001)


def test_waiters_get_the_lock_in_arrival_order() -> None:
    lock, order = FairLock(), []
    assert lock.acquire(timeout=1)

    def take(n: int) -> None:
        assert lock.acquire(timeout=5)
        order.append(n)
        lock.release()

    threads = []
    for n in range(8):
        thread = threading.Thread(target=take, args=(n,))
        thread.start()
        _wait_for_waiters(lock, n + 1)  # thread n is queued before thread n + 1 starts
        threads.append(thread)
    lock.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    assert lock.acquire(timeout=0.01), "the last release left the lock free"


def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=1)
    assert lock.acquire(timeout=0.05) is False
    assert len(lock._waiters) == 0
    lock.release()
    assert lock.acquire(timeout=0.01)


def test_writers_through_the_engine_queue_and_release_on_commit_and_rollback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue.db"
    engine = build_engine(Settings(database_url=f"sqlite:///{path}"))
    queue = lock_for(str(path.resolve()))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.exec_driver_sql("INSERT INTO t VALUES (0)")
        transaction.rollback()
    assert queue.acquire(timeout=0.01), "a rollback must hand the lock on"
    queue.release()

    def write(n: int) -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT n FROM t ORDER BY n")).scalars().all()
    assert stored == list(range(1, 21))
    assert queue.acquire(timeout=0.01), "every commit handed the lock on"
    queue.release()
    engine.dispose()

"""SQLite's checkpoints on a thread of their own, off every writer's path.

In WAL mode SQLite copies the log back into the database file (a checkpoint) once the log passes
1,000 pages, inside the commit that crossed the line. That commit then takes about a hundred
milliseconds instead of one or two, and every other writer of the process waits in the write
queue behind it. Here the app's connections leave checkpoints to one thread per database file,
which runs a PASSIVE checkpoint (one that never blocks a reader or a writer) a moment after
commits. The log then holds about one interval's writes before it is copied back.
"""

import logging
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

log = logging.getLogger(__name__)

# Often enough that the log stays small, seldom enough that its copying and the database file's
# fsync stay a small share of the disk's time under a steady load of writes.
CHECKPOINT_INTERVAL_SECONDS = 1.0


class Checkpointer:
    """Checkpoints one database file a moment after commits; idle, it has no thread."""

    def __init__(self, path: str, *, interval: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self._mutex = threading.Lock()
        self._committed = False
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # completed, for tests and diagnostics

    @property
    def running(self) -> bool:
        with self._mutex:
            return self._thread is not None

    def committed(self) -> None:
        """Note a commit; cheap enough for every one."""
        with self._mutex:
            self._committed = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"checkpoint {self.path}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._mutex:
                if not self._committed:
                    self._thread = None  # the next commit starts another
                    return
                self._committed = False
            self.checkpoint()

    def checkpoint(self) -> None:
        """Copy what the log holds into the file, now, on this thread."""
        # mode=rw: a file removed meanwhile is not created again, empty.
        uri = f"{Path(self.path).as_uri()}?mode=rw"
        try:
            with closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as connection:
                # Copied pages reach the disk before the log is reused, as the app's commits do.
                connection.execute("PRAGMA synchronous=FULL")
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            # Nothing is lost: the log keeps every change until a checkpoint copies it.
            log.warning("checkpoint of %s failed; a later one retries", self.path, exc_info=True)
        else:
            self.checkpoints += 1


_CHECKPOINTERS: dict[str, Checkpointer] = {}
_CHECKPOINTERS_MUTEX = threading.Lock()


def checkpointer_for(path: str) -> Checkpointer:
    """One checkpointer per database file, shared by every engine of this process that opens it."""
    with _CHECKPOINTERS_MUTEX:
        return _CHECKPOINTERS.setdefault(path, Checkpointer(path))

"""SQLite's log is copied back into the database file by a thread of its own, not in a commit."""

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ketaguard.config import Settings
from ketaguard.db.checkpoints import Checkpointer, checkpointer_for
from ketaguard.db.engine import build_engine

PAGE = 4096
# `pages` rows of a page each: "WITH RECURSIVE" counts, as not every SQLite has generate_series.
FILL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :pages)"
    " INSERT INTO filler SELECT randomblob(4096) FROM n"
)


def _engine(path: Path) -> Engine:
    return build_engine(Settings(database_url=f"sqlite:///{path}"))


def _eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _write_pages(engine: Engine, pages: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (body BLOB)")
        connection.execute(text(FILL), {"pages": pages})


def test_app_connections_never_checkpoint_in_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    checkpointer_for(str(path.resolve())).interval = 3600  # its thread stays asleep here
    engine = _engine(path)
    # More than the 1,000 pages after which SQLite would copy the log back inside the commit.
    _write_pages(engine, 1500)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    assert path.stat().st_size < 100 * PAGE
    checkpointer_for(str(path.resolve())).checkpoint()
    assert path.stat().st_size > 1500 * PAGE
    engine.dispose()


def test_the_thread_checkpoints_after_commits_then_stops_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    with sqlite3.connect(path, isolation_level=None) as connection:
        connection.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE filler (body BLOB)"
        )
        connection.execute(FILL, {"pages": 50})
        checkpointer = Checkpointer(str(path), interval=0.05)
        assert not checkpointer.running
        checkpointer.committed()
        assert _eventually(lambda: checkpointer.checkpoints == 1)
        assert path.stat().st_size > 50 * PAGE
        assert _eventually(lambda: not checkpointer.running)
        checkpointer.committed()  # a later commit wakes it again
        assert _eventually(lambda: checkpointer.checkpoints == 2)


def test_a_removed_database_is_not_created_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "gone.db"
    with caplog.at_level(logging.WARNING, logger="ketaguard.db.checkpoints"):
        Checkpointer(str(path)).checkpoint()
    assert not path.exists()
    assert "checkpoint of" in caplog.text

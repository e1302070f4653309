"""SQLite is opened the way a single clinic's production database needs to be."""

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from ketaguard.config import Settings
from ketaguard.db.engine import build_engine


def _engine(path: Path, busy_timeout: float = 5.0) -> Engine:
    return build_engine(
        Settings(database_url=f"sqlite:///{path}", sqlite_busy_timeout_seconds=busy_timeout)
    )


def test_pragmas_are_set_on_every_connection(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "p.db", busy_timeout=7)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000


def test_database_directory_is_created(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "nested" / "dir" / "k.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert (tmp_path / "nested" / "dir" / "k.db").exists()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "fk.db")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO child (id, parent_id) VALUES (1, 42)")


def test_ddl_and_writes_roll_back_together(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "ddl.db")
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        transaction.rollback()
    with engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).all()
    assert tables == []


def _read_then_write(engine: Engine, errors: list[BaseException]) -> None:
    try:
        with engine.begin() as connection:
            count = connection.execute(text("SELECT count(*) FROM counter")).scalar_one()
            time.sleep(0.2)  # long enough for the other writer to read the same count
            connection.execute(text("INSERT INTO counter (n) VALUES (:n)"), {"n": count + 1})
    except BaseException as exc:
        errors.append(exc)


def _race(engine: Engine) -> list[BaseException]:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_read_then_write, args=(engine, errors)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_read_then_write_transactions_queue_instead_of_deadlocking(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "race.db")
    errors = _race(engine)
    assert errors == []
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT n FROM counter ORDER BY n")).scalars().all()
    # The second writer waited for the first and saw its row: no lost update either.
    assert rows == [1, 2]


def test_the_same_race_fails_with_deferred_transactions(tmp_path: Path) -> None:
    """The control for the test above: with a plain deferred BEGIN one writer is refused."""
    deferred = create_engine(
        f"sqlite:///{tmp_path / 'deferred.db'}",
        connect_args={"check_same_thread": False, "timeout": 5},
    )

    @event.listens_for(deferred, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(deferred, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    errors = _race(deferred)
    assert any(isinstance(error, OperationalError) for error in errors)

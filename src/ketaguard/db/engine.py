"""Engines and sessions for SQLite and PostgreSQL, with SQLite opened safely for production."""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from ketaguard.config import ConfigurationError, Settings
from ketaguard.db.writer_queue import QueuedConnection, queued_connect_args

SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
# Execution option for connections that only read: on SQLite they skip taking the write lock.
READ_ONLY_OPTION = "ketaguard_read_only"
# Execution option for a write transaction that must not wait for this process's other writers:
# on SQLite its beginning raises `WriteLockBusy` instead.
NO_WAIT_OPTION = "ketaguard_no_wait"


def parse_database_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"KETAGUARD_DATABASE_URL {raw!r} is not a database URL "
            "(expected e.g. sqlite:///var/ketaguard.db or postgresql+psycopg://user@host/db)"
        ) from exc
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigurationError(
            f"KETAGUARD_DATABASE_URL uses {url.drivername!r}; supported: "
            + ", ".join(SUPPORTED_DRIVERS)
        )
    return url


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def build_engine(settings: Settings) -> Engine:
    url = parse_database_url(settings.database_url)
    if not is_sqlite(url):
        try:
            return create_engine(url, pool_pre_ping=True, echo=settings.log_sql)
        except NoSuchModuleError as exc:
            raise ConfigurationError(f"No driver for {url.drivername!r}: {exc}") from exc
    path = None
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        path = str(Path(url.database).resolve())
    engine = create_engine(
        url,
        echo=settings.log_sql,
        connect_args={
            # Requests run in a thread pool; a pooled connection is used by one thread at a time.
            "check_same_thread": False,
            **queued_connect_args(path, settings.sqlite_busy_timeout_seconds),
        },
    )
    _configure_sqlite(engine, busy_timeout_ms=int(settings.sqlite_busy_timeout_seconds * 1000))
    return engine


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
        # Stop pysqlite from issuing its own deferred BEGIN; the "begin" hook below owns it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # FULL: an acknowledged commit survives power loss, not only an application crash.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
            return
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY at the write
        # when another writer got in between, and the busy timeout cannot help it. Taking the write
        # lock up front, in turn behind this process's other writers, makes writers queue instead.
        dbapi_connection = connection.connection.dbapi_connection
        assert isinstance(dbapi_connection, QueuedConnection)
        dbapi_connection.begin_write(
            wait=not connection.get_execution_options().get(NO_WAIT_OPTION)
        )


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)

"""Where the tests' databases live: a SQLite file by default, PostgreSQL when asked for."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

TEST_DATABASE_URL_ENV = "KETAGUARD_TEST_DATABASE_URL"


def requested_url() -> URL | None:
    raw = os.environ.get(TEST_DATABASE_URL_ENV)
    return make_url(raw) if raw else None


@contextmanager
def scratch_database(tmp_dir: Path) -> Iterator[str]:
    """A brand-new empty database of the kind under test, removed afterwards.

    For commands that must see an empty database (init, demo, migrations from nothing).
    """
    base = requested_url()
    if base is None or base.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_dir / f'scratch-{uuid.uuid4().hex}.db'}"
        return
    name = f"ketaguard_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def reset_postgres_schema(url: URL) -> None:
    """Start each run from an empty schema so a previous run cannot leak into this one."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()

"""Test database wiring: migrate once per run, one rolled-back transaction per test.

The database is a SQLite file unless KETAGUARD_TEST_DATABASE_URL names another (CI runs the whole
suite once on each). Nothing here mocks the database.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ketaguard.app import create_app
from ketaguard.auth.models import User
from ketaguard.bootstrap import prepare_database
from ketaguard.config import Environment, Settings
from ketaguard.db.engine import build_engine
from ketaguard.db.group_commit import Committer, Item, Together, Work, get_committer
from ketaguard.db.session import get_db, request_transaction
from tests.databases import requested_url, reset_postgres_schema, scratch_database
from tests.factories import Personas, login_over_http, make_eligible, make_personas

T = TypeVar("T")

# An active plan for patient A and a check-in open now: for the check-in API's tests and the
# portal's pages.
pytest_plugins = ["tests.checkins.fixtures"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = requested_url()
    if url is None:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if url.get_backend_name() == "postgresql":
        reset_postgres_schema(url)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, env=Environment.test)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = build_engine(settings)
    prepare_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Commits made by the code under test only release a savepoint, so each test sees a clean
    database and the suite's order does not matter.
    """
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


class InlineCommitter:
    """Runs a group-commit route's work in the test's session, as `get_db` is overridden."""

    def __init__(self, db: Session) -> None:
        self.db = db

    async def run(self, work: Work[T], *, lock_key: str = "") -> T:
        def in_transaction() -> T:
            self.db.commit()
            with contextmanager(request_transaction)(self.db) as session:
                return work(session)

        return await run_in_threadpool(in_transaction)

    async def run_together(
        self, item: Item, together: Together[Item, T], *, lock_key: str = ""
    ) -> T:
        return await self.run(lambda db: together(db, [item])[0], lock_key=lock_key)


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, db: Session) -> Iterator[TestClient]:
    """Real HTTP through the ASGI app, with requests sharing the test's transaction."""

    def test_db() -> Iterator[Session]:
        # Keep what the test set up out of reach of a request's rollback.
        db.commit()
        yield from request_transaction(db)

    async def test_committer() -> Committer:
        return InlineCommitter(db)

    app.dependency_overrides[get_db] = test_db
    app.dependency_overrides[get_committer] = test_committer
    try:
        with TestClient(app) as test_client:
            yield test_client
    finally:
        app.dependency_overrides.pop(get_db, None)
        app.dependency_overrides.pop(get_committer, None)


@pytest.fixture
def login(app: FastAPI, client: TestClient, db: Session) -> Callable[[User], TestClient]:
    """Log a user in over HTTP, with MFA where their role needs it, in a client of their own."""

    def log_in(user: User) -> TestClient:
        return login_over_http(TestClient(app), db, user)

    return log_in


@pytest.fixture
def personas(db: Session) -> Personas:
    return make_personas(db)


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, for work that must really commit."""
    with scratch_database(tmp_path) as url:
        yield url


@pytest.fixture
def scratch_engine(scratch_url: str) -> Iterator[Engine]:
    """An engine on `scratch_url`, migrated and holding the built-in protocols."""
    engine = build_engine(Settings(database_url=scratch_url))
    prepare_database(engine)
    yield engine
    engine.dispose()


def pytest_report_header() -> str:
    url = requested_url()
    where = url.render_as_string(hide_password=True) if url else "a temporary SQLite file"
    return f"ketaguard tests against {where} (CI={os.environ.get('CI', 'false')})"


@pytest.fixture
def eligible(db: Session, personas: Personas) -> Personas:
    """Patient A with intake, baseline screenings and a signed 'eligible' decision."""
    return make_eligible(db, personas)

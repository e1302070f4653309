"""The request owns the transaction, and commits before the client hears the answer."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ketaguard.app import create_app
from ketaguard.clinics.models import Organisation
from ketaguard.config import Settings
from ketaguard.db.engine import build_engine
from ketaguard.db.migrate import upgrade
from ketaguard.db.session import DbSession, unit_of_work


@pytest.fixture
def scratch_app(scratch_url: str) -> Iterator[FastAPI]:
    settings = Settings(database_url=scratch_url)
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    app = create_app(settings)

    @app.post("/_test/organisations/{name}")
    def add_twice(name: str, db: DbSession, twice: bool = False) -> dict[str, str]:
        db.add(Organisation(name=name))
        if twice:  # the unique name fails only when the request's commit flushes
            db.add(Organisation(name=name))
        return {"status": "saved"}

    yield app
    app.state.engine.dispose()


def _count(app: FastAPI) -> int:
    with unit_of_work(app.state.sessionmaker) as db:
        return db.scalar(select(func.count()).select_from(Organisation)) or 0


def test_a_successful_request_is_committed(scratch_app: FastAPI) -> None:
    with TestClient(scratch_app) as client:
        assert client.post("/_test/organisations/Kept").status_code == 200
    assert _count(scratch_app) == 1


def test_a_commit_that_fails_is_never_acknowledged(scratch_app: FastAPI) -> None:
    with TestClient(scratch_app, raise_server_exceptions=False) as client:
        response = client.post("/_test/organisations/Twice", params={"twice": True})
    assert response.status_code == 500
    assert _count(scratch_app) == 0

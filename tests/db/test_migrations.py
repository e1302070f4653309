import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ketaguard.app import create_app
from ketaguard.config import Settings
from ketaguard.db.base import Base
from ketaguard.db.engine import build_engine
from ketaguard.db.migrate import (
    SchemaOutOfDate,
    current_revision,
    ensure_schema_current,
    head_revision,
    upgrade,
)


def test_migrations_and_models_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_test_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision() is not None


def test_upgrade_from_empty_then_again_is_a_no_op(scratch_url: str) -> None:
    engine = build_engine(Settings(database_url=scratch_url))
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        ensure_schema_current(engine)
    finally:
        engine.dispose()


def test_app_refuses_to_start_on_a_schema_behind_the_code(scratch_url: str) -> None:
    app = create_app(Settings(database_url=scratch_url))
    with pytest.raises(SchemaOutOfDate, match="ketaguard db upgrade"), TestClient(app):
        pass
    app.state.engine.dispose()

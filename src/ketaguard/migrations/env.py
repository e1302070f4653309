"""Alembic environment: runs against the engine ketaguard built, so SQLite gets its pragmas."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Engine

import ketaguard.models  # noqa: F401  (registers every table on the metadata)
from ketaguard.db.base import Base
from ketaguard.db.types import UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations stay free of application imports: a UTC timestamp is a plain timestamptz there.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    engine: Engine | None = context.config.attributes.get("engine")
    if engine is None:
        from ketaguard.config import load_settings
        from ketaguard.db.engine import build_engine

        engine = build_engine(load_settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()

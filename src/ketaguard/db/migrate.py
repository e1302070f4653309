"""Alembic is the only way the schema is made or changed; these helpers drive it from code."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ketaguard.config import ConfigurationError
from ketaguard.db.engine import READ_ONLY_OPTION

UPGRADE_COMMAND = "ketaguard db upgrade"


class SchemaOutOfDate(ConfigurationError):
    pass


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "ketaguard:migrations")
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def ensure_schema_current(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate(
            f"The database has no ketaguard schema yet; run `{UPGRADE_COMMAND}` "
            "(or `ketaguard init` for a new installation)"
        )
    raise SchemaOutOfDate(
        f"The database schema is at revision {current} but this ketaguard needs {head}; "
        f"run `{UPGRADE_COMMAND}`"
    )

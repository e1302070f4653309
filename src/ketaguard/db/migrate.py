"""Alembic is the only way the schema is made or changed; these helpers drive it from code."""

from functools import cache

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


@cache
def head_revision() -> str | None:
    """The newest revision this code ships. The revisions ship inside the package, so it is
    fixed for the life of the process: reading the scripts on every /healthz took about 15 ms."""
    config = Config()
    config.set_main_option("script_location", "ketaguard:migrations")
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def ensure_schema_current(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
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

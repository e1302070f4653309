"""Bringing a database up to what this ketaguard needs: schema first, then shipped data."""

from sqlalchemy import Engine

from ketaguard.db.engine import build_sessionmaker
from ketaguard.db.migrate import upgrade
from ketaguard.db.session import unit_of_work
from ketaguard.protocols.service import sync_builtin


def prepare_database(engine: Engine) -> list[str]:
    """Migrate, then store any built-in protocol version not stored yet; returns those added."""
    upgrade(engine)
    with unit_of_work(build_sessionmaker(engine)) as db:
        return sync_builtin(db)

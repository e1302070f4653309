"""What every console command shares: output, one-line errors, settings and the database."""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.config import ConfigurationError, Settings, load_settings
from ketaguard.db.engine import build_engine, build_sessionmaker, parse_database_url
from ketaguard.db.migrate import ensure_schema_current
from ketaguard.db.session import unit_of_work
from ketaguard.kit.errors import DomainError

# soft_wrap: never break an e-mail or URL the operator may copy.
console = Console(soft_wrap=True)
err_console = Console(stderr=True)
PIPED_TABLE_WIDTH = 200


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def clear_errors(settings: Settings | None = None) -> Iterator[None]:
    """Turn the failures an operator can fix into one line instead of a traceback."""
    try:
        yield
    except (ConfigurationError, DomainError) as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        where = ""
        if settings is not None:
            url = parse_database_url(settings.database_url)
            where = f" at {url.render_as_string(hide_password=True)}"
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"Cannot use the database{where}: {detail}")


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        fail(str(exc))


def engine_or_exit(settings: Settings) -> Engine:
    with clear_errors(settings):
        return build_engine(settings)
    raise AssertionError("unreachable")  # pragma: no cover  (clear_errors exits on failure)


@contextmanager
def console_transaction() -> Iterator[Session]:
    """One transaction on the configured, up-to-date database, with errors as one line."""
    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    try:
        with clear_errors(settings):
            ensure_schema_current(engine)
            with unit_of_work(build_sessionmaker(engine)) as db:
                yield db
    finally:
        engine.dispose()


def console_context() -> AuditContext:
    """How the audit trail names work done at the server's console."""
    return AuditContext(actor_role="console", address="console", user_agent=getpass.getuser())


def print_table(table: Table) -> None:
    if console.is_terminal:
        console.print(table)
        return
    # Piped output has no width of its own; Rich would squeeze it to 80 columns and cut values.
    Console(file=console.file, width=PIPED_TABLE_WIDTH).print(table)

"""`ketaguard audit`: console tools for the audit trail."""

import typer
from sqlalchemy.orm import Session

from ketaguard.audit.service import verify_chain
from ketaguard.db.engine import READ_ONLY_OPTION
from ketaguard.db.migrate import ensure_schema_current
from ketaguard.kit.cli import clear_errors, console, engine_or_exit, fail, settings_or_exit

audit_app = typer.Typer(help="Audit trail commands.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Check that no audit event was removed, inserted, altered or reordered.

    Exits 1 and names the first bad event if the trail is broken. Only reads, so it can run while
    ketaguard serves.
    """
    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    try:
        with clear_errors(settings):
            ensure_schema_current(engine)
            with (
                engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection,
                Session(bind=connection) as db,
            ):
                report = verify_chain(db)
    finally:
        engine.dispose()
    if not report.ok:
        fail(f"Audit trail broken: {report.problem}")
    noun = "event" if report.checked == 1 else "events"
    console.print(f"Audit trail intact: {report.checked} {noun} verified.")

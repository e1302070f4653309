"""The `ketaguard` command: set up, migrate, serve and demo."""

import os
import sys
from dataclasses import replace
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

import ketaguard
from ketaguard.audit.cli import audit_app
from ketaguard.audit.service import record
from ketaguard.auth.cli import users_app
from ketaguard.bootstrap import prepare_database
from ketaguard.db.engine import build_sessionmaker
from ketaguard.db.migrate import current_revision, ensure_schema_current, head_revision
from ketaguard.db.session import unit_of_work
from ketaguard.kit.cli import (
    clear_errors,
    console,
    console_context,
    engine_or_exit,
    err_console,
    fail,
    print_table,
    settings_or_exit,
)
from ketaguard.protocols.cli import protocols_app
from ketaguard.screening.cli import score_command

app = typer.Typer(
    help="ketaguard: safeguards for ketamine and esketamine therapy.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.command("score")(score_command)
app.add_typer(protocols_app, name="protocols")

ADMIN_PASSWORD_ENV = "KETAGUARD_ADMIN_PASSWORD"  # noqa: S105  (a variable name, not a secret)


def _version(value: bool) -> None:
    if value:
        console.print(f"ketaguard {ketaguard.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """ketaguard: safeguards for ketamine and esketamine therapy."""


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending schema migration."""
    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with clear_errors(settings):
        before = current_revision(engine)
        added = prepare_database(engine)
        after = current_revision(engine)
    if before == after:
        console.print(f"Schema already at the latest revision ({after}).")
    else:
        console.print(f"Schema upgraded from {before or 'empty'} to {after}.")
    if added:
        console.print(f"Built-in protocols stored: {', '.join(added)}.")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one this ketaguard needs."""
    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with clear_errors(settings):
        console.print(f"database: {current_revision(engine) or 'empty'}")
        console.print(f"code:     {head_revision()}")


def _admin_password() -> str:
    from_env = os.environ.get(ADMIN_PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        fail(f"No terminal to ask for the admin password: set {ADMIN_PASSWORD_ENV}")
    return str(typer.prompt("Admin password", hide_input=True, confirmation_prompt=True))


@app.command()
def init(
    organisation: Annotated[str, typer.Option(help="Name of your organisation.", prompt=True)],
    clinic: Annotated[str, typer.Option(help="Name of the first clinic.", prompt=True)],
    timezone: Annotated[
        str, typer.Option(help="IANA timezone of the clinic, e.g. America/Chicago.", prompt=True)
    ],
    admin_email: Annotated[str, typer.Option(help="E-mail of the first admin.", prompt=True)],
    admin_name: Annotated[str, typer.Option(help="Full name of the first admin.", prompt=True)],
) -> None:
    """Create the schema, the first organisation, its first clinic and an admin.

    The password is read from KETAGUARD_ADMIN_PASSWORD or asked for; it is never a flag, so it
    stays out of shell history and process lists.
    """
    from ketaguard.auth.passwords import check_password_policy
    from ketaguard.auth.service import count_users, create_user
    from ketaguard.clinics.models import Role
    from ketaguard.clinics.service import (
        add_membership,
        create_clinic,
        create_organisation,
        validate_timezone,
    )

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with clear_errors(settings):
        validate_timezone(timezone)
        password = _admin_password()
        check_password_policy(password)
        prepare_database(engine)
        with unit_of_work(build_sessionmaker(engine)) as db:
            if count_users(db):
                fail("ketaguard is already initialised here (users exist); nothing was changed")
            org = create_organisation(db, organisation)
            first_clinic = create_clinic(db, org, name=clinic, timezone=timezone)
            admin = create_user(
                db,
                organisation_id=org.id,
                email=admin_email,
                full_name=admin_name,
                password=password,
            )
            add_membership(db, user_id=admin.id, clinic=first_clinic, role=Role.admin)
            context = replace(console_context(), organisation_id=org.id)
            record(
                db, context, "organisation.create", resource_type="organisation", resource_id=org.id
            )
            record(
                db,
                context,
                "user.create",
                clinic_id=first_clinic.id,
                resource_type="user",
                resource_id=admin.id,
                detail={"email": admin.email, "role": Role.admin.value},
            )
    console.print(f"Initialised {org.name} with clinic {first_clinic.name}; admin {admin.email}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes. On PostgreSQL, one per core; SQLite writes one at a time, "
            "and queues its writers fairly only within one process.",
            min=1,
        ),
    ] = 1,
) -> None:
    """Serve the web application and API."""
    import uvicorn

    from ketaguard.app import create_app
    from ketaguard.serving import APP_FACTORY, PortTaken, Supervisor, serve_app, spreads_connections

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with clear_errors(settings):
        ensure_schema_current(engine)
        engine.dispose()
        application = create_app(settings) if workers == 1 else None
    console.print(
        f"ketaguard {ketaguard.__version__} on http://{host}:{port} ({settings.env.value})"
    )
    if application is not None:
        serve_app(application, host, port)
    elif spreads_connections():
        # Each worker process builds its own app from the same environment.
        try:
            code = Supervisor(host, port, workers, err_console.print).run()
        except PortTaken as exc:
            fail(str(exc))
        raise typer.Exit(code)
    else:
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers)


def print_demo_logins() -> None:
    from ketaguard.demo import DEMO_PASSWORD, demo_logins

    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    logins = demo_logins()
    # Never cut an e-mail short, even on a narrow or non-terminal output: people copy them.
    table.add_column("e-mail", no_wrap=True, min_width=max(len(login.email) for login in logins))
    table.add_column("role", no_wrap=True)
    table.add_column("clinics")
    for login in logins:
        table.add_row(login.email, login.role, login.clinics)
    print_table(table)


@app.command()
def demo() -> None:
    """Build a synthetic demo organisation (two clinics, staff, patients) and print its logins."""
    from ketaguard.demo import DEMO_STEPS, build_demo, demo_exists

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with clear_errors(settings):
        prepare_database(engine)
        with unit_of_work(build_sessionmaker(engine)) as db:
            if demo_exists(db):
                console.print("The demo organisation already exists; nothing was added.")
            else:
                with Progress(console=console, transient=True) as progress:
                    task = progress.add_task("Building the demo", total=len(DEMO_STEPS))
                    for label in build_demo(db):
                        progress.update(task, advance=1, description=label)
                console.print("Demo built.")
    print_demo_logins()


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Run the jobs once and exit.")] = False,
) -> None:
    """Escalate unacknowledged alerts, raise alerts for missed vital-sign checks, open weekly
    check-ins, mark missed ones, escalate overdue dependence reviews, remind of referral
    follow-ups, and send messages from the outbox."""
    import time

    from ketaguard.alerts.worker import run_once
    from ketaguard.checkins.outbox import deliver_pending, delivery_from_settings
    from ketaguard.kit.time import utcnow

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with clear_errors(settings):
        ensure_schema_current(engine)
        factory = build_sessionmaker(engine)
        delivery = delivery_from_settings(settings)
        while True:
            with unit_of_work(factory) as db:
                result = run_once(db, settings, utcnow())
            # After the commit above: reminders queued in it are sent in this same run.
            sent = deliver_pending(factory, delivery, settings, utcnow())
            console.print(
                f"{utcnow():%Y-%m-%d %H:%M:%S}Z escalated {result.escalated}, "
                f"missed readings {result.missed}, check-ins opened {result.checkins_opened}, "
                f"check-ins missed {result.checkins_missed}, reminders queued "
                f"{result.reminders_queued}, dependence reviews escalated "
                f"{result.reviews_escalated}, referral reminders {result.referral_reminders}, "
                f"messages sent {sent.sent}, retrying {sent.retrying}, failed {sent.failed}"
            )
            if once:
                return
            time.sleep(settings.worker_interval_seconds)

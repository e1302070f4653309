"""`ketaguard users`: account administration at the server's console, every change audited."""

import os
import sys
from dataclasses import replace
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.mfa_service import reset_mfa
from ketaguard.auth.models import User
from ketaguard.auth.service import create_user, disable_account, memberships
from ketaguard.clinics.models import Clinic, Role
from ketaguard.clinics.service import add_membership
from ketaguard.kit.cli import (
    console,
    console_context,
    console_transaction,
    fail,
    print_table,
)
from ketaguard.kit.errors import InvalidInput, NotFound

users_app = typer.Typer(help="Create, list, disable accounts and reset MFA.", no_args_is_help=True)

USER_PASSWORD_ENV = "KETAGUARD_USER_PASSWORD"  # noqa: S105  (a variable name, not a secret)


def _find_user(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No account with e-mail {email.strip().lower()}")
    return user


def _find_clinic(db: Session, name: str) -> Clinic:
    clinics = db.scalars(select(Clinic).where(Clinic.name == name.strip())).all()
    if not clinics:
        known = ", ".join(db.scalars(select(Clinic.name).order_by(Clinic.name))) or "none yet"
        raise NotFound(f"No clinic named {name.strip()!r} (clinics: {known})")
    if len(clinics) > 1:
        raise InvalidInput(f"More than one clinic is named {name.strip()!r}")
    return clinics[0]


def _acting_for(user: User) -> AuditContext:
    return replace(console_context(), organisation_id=user.organisation_id)


def _password() -> str:
    from_env = os.environ.get(USER_PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        fail(f"No terminal to ask for the password: set {USER_PASSWORD_ENV}")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create")
def create(
    email: Annotated[str, typer.Option(help="E-mail address, used to log in.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    clinic: Annotated[str, typer.Option(help="Name of the clinic they work in.")],
    role: Annotated[Role, typer.Option(help="Their role in that clinic.")],
) -> None:
    """Create a staff account. The password comes from KETAGUARD_USER_PASSWORD or a prompt."""
    with console_transaction() as db:
        place = _find_clinic(db, clinic)
        user = create_user(
            db,
            organisation_id=place.organisation_id,
            email=email,
            full_name=name,
            password=_password(),
        )
        add_membership(db, user_id=user.id, clinic=place, role=role)
        record(
            db,
            _acting_for(user),
            "user.create",
            clinic_id=place.id,
            resource_type="user",
            resource_id=user.id,
            detail={"email": user.email, "role": role.value},
        )
    console.print(f"Created {user.email} as {role.value} in {place.name}.")


@users_app.command("list")
def list_users() -> None:
    """List every account with its roles, MFA and lock-out state."""
    table = Table()
    for column in ("e-mail", "name", "kind", "roles", "active", "MFA", "locked until"):
        table.add_column(column, no_wrap=column == "e-mail")
    with console_transaction() as db:
        clinic_names = {row.id: row.name for row in db.execute(select(Clinic.id, Clinic.name))}
        for user in db.scalars(select(User).order_by(User.email)):
            roles = ", ".join(
                f"{role.value} @ {clinic_names[clinic_id]}"
                for clinic_id, role in memberships(db, user.id).items()
            )
            table.add_row(
                user.email,
                user.full_name,
                user.kind.value,
                roles or "-",
                "yes" if user.is_active else "no",
                "on" if user.mfa_enabled_at else "off",
                user.locked_until.isoformat(timespec="minutes") if user.locked_until else "",
            )
    print_table(table)


@users_app.command("disable")
def disable(email: Annotated[str, typer.Argument(help="E-mail of the account.")]) -> None:
    """Disable an account and end its login sessions."""
    with console_transaction() as db:
        user = _find_user(db, email)
        ended = disable_account(db, _acting_for(user), user)
    console.print(f"Disabled {user.email}; ended {ended} session(s).")


@users_app.command("reset-mfa")
def reset(email: Annotated[str, typer.Argument(help="E-mail of the account.")]) -> None:
    """Turn MFA off for a lost device; the person sets it up again at their next login."""
    with console_transaction() as db:
        user = _find_user(db, email)
        reset_mfa(db, _acting_for(user), user)
    console.print(f"MFA reset for {user.email}; they will enrol again at their next login.")

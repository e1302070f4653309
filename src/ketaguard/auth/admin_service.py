"""What an admin does to accounts, sessions, tokens, policy and emergency-access reviews.

An admin acts only on the clinics where they hold the permission; anything else is not found.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CompoundSelect, Select, select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.models import AccountKind, ApiToken, BreakGlassGrant, LoginSession, User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.service import (
    IssuedToken,
    create_api_token,
    create_user,
    disable_account,
    find_user_by_email,
    memberships,
)
from ketaguard.clinics.models import Clinic, Membership, Organisation, Role
from ketaguard.clinics.service import add_membership
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient


def managed_clinic(db: Session, principal: Principal, clinic_id: uuid.UUID) -> Clinic:
    if not principal.can(Permission.user_manage, clinic_id):
        raise NotFound("No such clinic")
    return db.get_one(Clinic, clinic_id)


def clinics_with(db: Session, principal: Principal, permission: Permission) -> list[Clinic]:
    """The clinics where the principal holds `permission`, by name: what a form offers."""
    return list(
        db.scalars(
            select(Clinic)
            .where(Clinic.id.in_(principal.clinics_with(permission)))
            .order_by(Clinic.name)
        )
    )


def clinic_names(db: Session, principal: Principal) -> dict[uuid.UUID, str]:
    """Every clinic of the principal's organisation by id, to name them in lists."""
    rows = db.execute(
        select(Clinic.id, Clinic.name).where(Clinic.organisation_id == principal.organisation_id)
    )
    return {clinic_id: name for clinic_id, name in rows}


def organisation_users(
    db: Session, principal: Principal, user_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, User]:
    """The principal's organisation's accounts among `user_ids`, to name them in reports."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    users = db.scalars(
        select(User).where(User.id.in_(wanted), User.organisation_id == principal.organisation_id)
    )
    return {user.id: user for user in users}


def organisation_user_by_email(db: Session, principal: Principal, email: str) -> User | None:
    user = find_user_by_email(db, email)
    if user is None or user.organisation_id != principal.organisation_id:
        return None
    return user


def _managed_user_ids(principal: Principal, permission: Permission) -> CompoundSelect[Any]:
    clinics = principal.clinics_with(permission)
    staff = select(Membership.user_id).where(Membership.clinic_id.in_(clinics))
    patients = (
        select(User.id)
        .join(Patient, Patient.id == User.patient_id)
        .where(Patient.clinic_id.in_(clinics))
    )
    return staff.union(patients)


def list_users(db: Session, principal: Principal) -> list[tuple[User, dict[uuid.UUID, Role]]]:
    users = db.scalars(
        select(User)
        .where(User.id.in_(_managed_user_ids(principal, Permission.user_manage)))
        .order_by(User.email)
    ).all()
    return [(user, memberships(db, user.id)) for user in users]


def managed_user(db: Session, principal: Principal, user_id: uuid.UUID) -> User:
    user = db.scalar(
        select(User).where(
            User.id == user_id,
            User.id.in_(_managed_user_ids(principal, Permission.user_manage)),
        )
    )
    if user is None:
        raise NotFound("No such user")
    return user


def create_staff(
    db: Session,
    principal: Principal,
    context: AuditContext,
    *,
    email: str,
    full_name: str,
    password: str,
    clinic_id: uuid.UUID,
    role: Role,
) -> User:
    clinic = managed_clinic(db, principal, clinic_id)
    user = create_user(
        db,
        organisation_id=clinic.organisation_id,
        email=email,
        full_name=full_name,
        password=password,
    )
    add_membership(db, user_id=user.id, clinic=clinic, role=role)
    record(
        db,
        context,
        "user.create",
        clinic_id=clinic.id,
        resource_type="user",
        resource_id=user.id,
        detail={"email": user.email, "role": role.value},
    )
    return user


def create_patient_account(
    db: Session,
    principal: Principal,
    context: AuditContext,
    *,
    patient_id: uuid.UUID,
    email: str,
    password: str,
) -> User:
    patient = db.get(Patient, patient_id)
    if patient is None or not principal.can(Permission.user_manage, patient.clinic_id):
        raise NotFound("No such patient")
    if db.scalar(select(User.id).where(User.patient_id == patient.id)) is not None:
        raise Conflict("This patient already has an account", field="patient_id")
    clinic = db.get_one(Clinic, patient.clinic_id)
    user = create_user(
        db,
        organisation_id=clinic.organisation_id,
        email=email,
        full_name=f"{patient.given_name} {patient.family_name}",
        password=password,
        kind=AccountKind.patient,
        patient_id=patient.id,
    )
    record(
        db,
        context,
        "user.create",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="user",
        resource_id=user.id,
        detail={"email": user.email, "kind": "patient"},
    )
    return user


def disable_user(db: Session, principal: Principal, context: AuditContext, user: User) -> None:
    if user.id == principal.user_id:
        raise Conflict("You cannot disable your own account")
    disable_account(db, context, user)


def unlock_user(db: Session, context: AuditContext, user: User) -> None:
    user.failed_login_count = 0
    user.locked_until = None
    record(db, context, "user.unlock", resource_type="user", resource_id=user.id)


def sessions_of(db: Session, user: User) -> list[LoginSession]:
    return list(
        db.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id)
            .order_by(LoginSession.created_at.desc())
        )
    )


def list_tokens(db: Session, principal: Principal) -> list[ApiToken]:
    clinics = principal.clinics_with(Permission.token_manage)
    return list(
        db.scalars(
            select(ApiToken).where(ApiToken.clinic_id.in_(clinics)).order_by(ApiToken.created_at)
        )
    )


def issue_token(
    db: Session,
    principal: Principal,
    context: AuditContext,
    *,
    name: str,
    clinic_id: uuid.UUID,
    scopes: list[Permission],
) -> IssuedToken:
    """A new token for one of the admin's clinics; its secret is in the result and nowhere else."""
    if not principal.can(Permission.token_manage, clinic_id):
        raise NotFound("No such clinic")
    clinic = managed_clinic(db, principal, clinic_id)
    assert principal.user_id is not None
    return create_api_token(
        db, context, clinic=clinic, name=name, scopes=scopes, created_by=principal.user_id
    )


def revoke_token(
    db: Session, principal: Principal, context: AuditContext, token_id: uuid.UUID
) -> ApiToken:
    token = db.get(ApiToken, token_id)
    if token is None or not principal.can(Permission.token_manage, token.clinic_id):
        raise NotFound("No such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(
            db,
            context,
            "token.revoke",
            clinic_id=token.clinic_id,
            resource_type="api_token",
            resource_id=token.id,
        )
    return token


def update_policy(
    db: Session,
    principal: Principal,
    context: AuditContext,
    *,
    idle_timeout_minutes: int | None,
    require_mfa_for_all: bool | None,
) -> Organisation:
    if idle_timeout_minutes is None and require_mfa_for_all is None:
        raise InvalidInput("Nothing to change")
    organisation = db.get_one(Organisation, principal.organisation_id)
    before = {
        "idle_timeout_minutes": organisation.idle_timeout_minutes,
        "require_mfa_for_all": organisation.require_mfa_for_all,
    }
    if idle_timeout_minutes is not None:
        organisation.idle_timeout_minutes = idle_timeout_minutes
    if require_mfa_for_all is not None:
        organisation.require_mfa_for_all = require_mfa_for_all
    record(
        db,
        context,
        "organisation.policy",
        resource_type="organisation",
        resource_id=organisation.id,
        detail={
            "before": before,
            "after": {
                "idle_timeout_minutes": organisation.idle_timeout_minutes,
                "require_mfa_for_all": organisation.require_mfa_for_all,
            },
        },
    )
    return organisation


def _reviewable_grants(principal: Principal) -> Select[BreakGlassGrant]:
    return (
        select(BreakGlassGrant)
        .join(Patient, Patient.id == BreakGlassGrant.patient_id)
        .where(Patient.clinic_id.in_(principal.clinics_with(Permission.break_glass_review)))
    )


def break_glass_grants(
    db: Session, principal: Principal, *, pending_only: bool
) -> list[BreakGlassGrant]:
    """Emergency accesses to the admin's clinics' patients, unreviewed first, newest first."""
    query = _reviewable_grants(principal).order_by(
        BreakGlassGrant.reviewed_at.is_not(None), BreakGlassGrant.created_at.desc()
    )
    if pending_only:
        query = query.where(BreakGlassGrant.reviewed_at.is_(None))
    return list(db.scalars(query))


def review_break_glass(
    db: Session, principal: Principal, context: AuditContext, grant_id: uuid.UUID, note: str
) -> BreakGlassGrant:
    grant = db.scalar(_reviewable_grants(principal).where(BreakGlassGrant.id == grant_id))
    if grant is None:
        raise NotFound("No such emergency access")
    if grant.reviewed_at is not None:
        raise Conflict("This emergency access was already reviewed")
    grant.reviewed_at = utcnow()
    grant.reviewed_by_id = principal.user_id
    grant.review_note = note.strip()
    record(
        db,
        context,
        "break_glass.review",
        patient_id=grant.patient_id,
        resource_type="break_glass_grant",
        resource_id=grant.id,
        detail={"note": grant.review_note},
    )
    return grant

"""Admin API: accounts, sessions, API tokens, organisation policy, emergency-access reviews."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Request

from ketaguard.auth import admin_service, mfa_service
from ketaguard.auth.deps import audit_context, require
from ketaguard.auth.models import User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.schemas import (
    BreakGlassGrantOut,
    BreakGlassReviewIn,
    LoginSessionOut,
    OrganisationPolicy,
    OrganisationPolicyOut,
    PatientAccountCreate,
    TokenCreate,
    TokenIssued,
    TokenOut,
    UserCreate,
    UserOut,
)
from ketaguard.auth.service import memberships, revoke_sessions
from ketaguard.clinics.models import Clinic, Role
from ketaguard.clinics.schemas import ScreeningSettings, ScreeningSettingsOut
from ketaguard.db.session import DbSession
from ketaguard.dependence import service as dependence_service
from ketaguard.kit.errors import NotFound

router = APIRouter(prefix="/api/admin", tags=["admin"])

UserManager = Annotated[Principal, require(Permission.user_manage)]
TokenManager = Annotated[Principal, require(Permission.token_manage)]


def _user_out(user: User, roles: dict[uuid.UUID, Role]) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        kind=user.kind,
        is_active=user.is_active,
        roles=roles,
        mfa_enabled=user.mfa_enabled_at is not None,
        failed_login_count=user.failed_login_count,
        locked_until=user.locked_until,
    )


@router.get("/users", response_model=list[UserOut])
def list_users(db: DbSession, principal: UserManager) -> list[UserOut]:
    return [_user_out(user, roles) for user, roles in admin_service.list_users(db, principal)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    body: UserCreate, request: Request, db: DbSession, principal: UserManager
) -> UserOut:
    user = admin_service.create_staff(
        db, principal, audit_context(request, principal), **body.model_dump()
    )
    return _user_out(user, memberships(db, user.id))


@router.post("/patient-accounts", response_model=UserOut, status_code=201)
def create_patient_account(
    body: PatientAccountCreate, request: Request, db: DbSession, principal: UserManager
) -> UserOut:
    user = admin_service.create_patient_account(
        db, principal, audit_context(request, principal), **body.model_dump()
    )
    return _user_out(user, {})


@router.post("/users/{user_id}/disable", response_model=UserOut)
def disable_user(
    user_id: uuid.UUID, request: Request, db: DbSession, principal: UserManager
) -> UserOut:
    user = admin_service.managed_user(db, principal, user_id)
    admin_service.disable_user(db, principal, audit_context(request, principal), user)
    return _user_out(user, memberships(db, user.id))


@router.post("/users/{user_id}/unlock", response_model=UserOut)
def unlock_user(
    user_id: uuid.UUID, request: Request, db: DbSession, principal: UserManager
) -> UserOut:
    user = admin_service.managed_user(db, principal, user_id)
    admin_service.unlock_user(db, audit_context(request, principal), user)
    return _user_out(user, memberships(db, user.id))


@router.post("/users/{user_id}/reset-mfa", response_model=UserOut)
def reset_mfa(
    user_id: uuid.UUID, request: Request, db: DbSession, principal: UserManager
) -> UserOut:
    user = admin_service.managed_user(db, principal, user_id)
    mfa_service.reset_mfa(db, audit_context(request, principal), user)
    return _user_out(user, memberships(db, user.id))


@router.get("/users/{user_id}/sessions", response_model=list[LoginSessionOut])
def user_sessions(
    user_id: uuid.UUID, db: DbSession, principal: UserManager
) -> list[LoginSessionOut]:
    user = admin_service.managed_user(db, principal, user_id)
    return [LoginSessionOut.model_validate(s) for s in admin_service.sessions_of(db, user)]


@router.post("/users/{user_id}/sessions/revoke")
def revoke_user_sessions(
    user_id: uuid.UUID, request: Request, db: DbSession, principal: UserManager
) -> dict[str, int]:
    user = admin_service.managed_user(db, principal, user_id)
    return {"revoked": revoke_sessions(db, audit_context(request, principal), user.id)}


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(db: DbSession, principal: TokenManager) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in admin_service.list_tokens(db, principal)]


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def create_token(
    body: TokenCreate, request: Request, db: DbSession, principal: TokenManager
) -> TokenIssued:
    issued = admin_service.issue_token(
        db, principal, audit_context(request, principal), **body.model_dump()
    )
    return TokenIssued(**TokenOut.model_validate(issued.token).model_dump(), token=issued.secret)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut)
def revoke_token(
    token_id: uuid.UUID, request: Request, db: DbSession, principal: TokenManager
) -> TokenOut:
    token = admin_service.revoke_token(db, principal, audit_context(request, principal), token_id)
    return TokenOut.model_validate(token)


@router.patch("/organisation", response_model=OrganisationPolicyOut)
def update_policy(
    body: OrganisationPolicy,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.organisation_manage)],
) -> OrganisationPolicyOut:
    organisation = admin_service.update_policy(
        db, principal, audit_context(request, principal), **body.model_dump()
    )
    return OrganisationPolicyOut.model_validate(organisation)


@router.patch("/clinics/{clinic_id}/screening", response_model=ScreeningSettingsOut)
def update_screening_settings(
    clinic_id: uuid.UUID,
    body: ScreeningSettings,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.organisation_manage)],
) -> ScreeningSettingsOut:
    if not principal.can(Permission.organisation_manage, clinic_id):
        raise NotFound("No such clinic")
    clinic = db.get_one(Clinic, clinic_id)
    updated = dependence_service.update_screening_settings(
        db, audit_context(request, principal), clinic, body.model_dump(exclude_unset=True)
    )
    return ScreeningSettingsOut.model_validate(updated)


@router.get("/break-glass", response_model=list[BreakGlassGrantOut])
def break_glass_reviews(
    db: DbSession,
    principal: Annotated[Principal, require(Permission.break_glass_review)],
    pending: bool = True,
) -> list[BreakGlassGrantOut]:
    grants = admin_service.break_glass_grants(db, principal, pending_only=pending)
    return [BreakGlassGrantOut.model_validate(g) for g in grants]


@router.post("/break-glass/{grant_id}/review", response_model=BreakGlassGrantOut)
def review_break_glass(
    grant_id: uuid.UUID,
    body: BreakGlassReviewIn,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.break_glass_review)],
) -> BreakGlassGrantOut:
    grant = admin_service.review_break_glass(
        db, principal, audit_context(request, principal), grant_id, body.note
    )
    return BreakGlassGrantOut.model_validate(grant)

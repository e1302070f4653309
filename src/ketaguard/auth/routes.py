"""Login, logout, the second factor, and who-am-I."""

from fastapi import APIRouter, Request, Response

from ketaguard.auth import mfa_service
from ketaguard.auth.deps import (
    CurrentPrincipal,
    PendingLogin,
    audit_context,
    clear_session_cookie,
    client_context,
    set_session_cookie,
    settings_of,
)
from ketaguard.auth.schemas import (
    EnrolmentOut,
    LoginRequest,
    LoginResponse,
    MeOut,
    MfaCode,
    RecoveryCodesOut,
)
from ketaguard.auth.service import login_with_password, logout, principal_for_user
from ketaguard.db.session import DbSession

router = APIRouter(prefix="/api/auth", tags=["authentication"])


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response, db: DbSession) -> LoginResponse:
    settings = settings_of(request)
    result = login_with_password(
        db, settings, client_context(request), email=body.email, password=body.password
    )
    set_session_cookie(response, settings, result.cookie_token)
    return LoginResponse(mfa=result.mfa, csrf_token=result.session.csrf_token)


@router.post("/logout", status_code=204)
def end_login(request: Request, response: Response, db: DbSession, current: PendingLogin) -> None:
    session, user = current
    logout(db, audit_context(request, principal_for_user(db, user, session.id)), session)
    clear_session_cookie(response, settings_of(request))


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        kind=principal.kind.value,
        user_id=principal.user_id,
        organisation_id=principal.organisation_id,
        roles=principal.roles,
        patient_id=principal.patient_id,
    )


@router.post("/mfa/enrol", response_model=EnrolmentOut)
def start_mfa_enrolment(request: Request, db: DbSession, current: PendingLogin) -> EnrolmentOut:
    _, user = current
    enrolment = mfa_service.start_enrolment(db, settings_of(request), user)
    return EnrolmentOut(
        secret=enrolment.secret,
        provisioning_uri=enrolment.provisioning_uri,
        qr_svg=enrolment.qr_svg,
    )


@router.post("/mfa/enrol/confirm", response_model=RecoveryCodesOut)
def confirm_mfa_enrolment(
    body: MfaCode, request: Request, db: DbSession, current: PendingLogin
) -> RecoveryCodesOut:
    session, user = current
    codes = mfa_service.confirm_enrolment(
        db,
        settings_of(request),
        audit_context(request, principal_for_user(db, user, session.id)),
        session,
        user,
        body.code or "",
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/mfa/verify", status_code=204)
def verify_mfa(body: MfaCode, request: Request, db: DbSession, current: PendingLogin) -> None:
    session, user = current
    mfa_service.verify_second_factor(
        db,
        settings_of(request),
        audit_context(request, principal_for_user(db, user, session.id)),
        session,
        user,
        code=body.code,
        recovery_code=body.recovery_code,
    )

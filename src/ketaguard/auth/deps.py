"""Authentication and authorization as typed dependencies that routes declare.

A route with none of these is public; tests/auth/test_route_guard.py lists the few that may be.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record_token_use
from ketaguard.auth.models import LoginSession, User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal, PrincipalKind
from ketaguard.auth.secrets import sign, unsign
from ketaguard.auth.service import (
    principal_for_token,
    principal_for_user,
    refuse,
    resolve_session,
)
from ketaguard.config import Settings
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import Forbidden, Unauthenticated

SESSION_COOKIE = "ketaguard_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sent by a page's automatic refresh (polling): it must not count as someone using the page, or
# an open chair-side screen would never reach the idle time-out.
AUTO_REFRESH_HEADER = "X-Auto-Refresh"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_context(request: Request) -> AuditContext:
    return AuditContext(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def audit_context(request: Request, principal: Principal) -> AuditContext:
    anonymous = client_context(request)
    return AuditContext(
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
        actor_role=principal.role_label,
        organisation_id=principal.organisation_id,
        address=anonymous.address,
        user_agent=anonymous.user_agent,
    )


def set_session_cookie(response: Response, settings: Settings, cookie_token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign(cookie_token, settings.secret_key),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


# Declared as security schemes so /docs offers them under "Authorize"; checking happens below.
csrf_header = APIKeyHeader(
    name=CSRF_HEADER,
    scheme_name="csrf",
    description="The csrf_token from the login response; needed for every state change.",
    auto_error=False,
)
bearer_token = HTTPBearer(
    scheme_name="api_token", description="An API token issued by an admin.", auto_error=False
)


async def csrf_token_sent(
    request: Request, header: Annotated[str | None, Security(csrf_header)]
) -> str | None:
    """The CSRF token a state-changing request carries, from its header or form field."""
    if request.method in SAFE_METHODS:
        return None
    sent = header
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FORM_FIELD)
        sent = field if isinstance(field, str) else None
    return sent


def login_session(
    request: Request, db: DbSession, csrf: Annotated[str | None, Depends(csrf_token_sent)]
) -> tuple[LoginSession, User] | None:
    """The caller's live login session (MFA done or not), or None without a session cookie."""
    return resolve_login(db, request, csrf)


def resolve_login(
    db: Session, request: Request, csrf: str | None
) -> tuple[LoginSession, User] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw is None:
        return None
    cookie_token = unsign(raw, settings_of(request).secret_key)
    if cookie_token is None:
        raise Unauthenticated("Your session cookie is not valid; please log in again")
    session, user = resolve_session(
        db,
        settings_of(request),
        client_context(request),
        cookie_token,
        activity=request.headers.get(AUTO_REFRESH_HEADER) != "true",
    )
    if request.method not in SAFE_METHODS and csrf != session.csrf_token:
        refuse(
            db,
            audit_context(request, principal_for_user(db, user, session.id)),
            "auth.csrf",
            Forbidden("Missing or wrong CSRF token; reload the page and try again"),
            detail={"route": f"{request.method} {request.url.path}"},
        )
    return session, user


LoginSessionDep = Annotated[tuple[LoginSession, User] | None, Depends(login_session)]


def pending_login(current: LoginSessionDep) -> tuple[LoginSession, User]:
    """A session that may still be waiting for its second factor (the MFA routes use this)."""
    if current is None:
        raise Unauthenticated("Log in first")
    return current


PendingLogin = Annotated[tuple[LoginSession, User], Depends(pending_login)]


# The same words whether the missing credentials are noticed before the body is read
# (`credentials`) or once the request's transaction looks (`_principal`).
NOT_LOGGED_IN = "Log in, or send an API token, to use this"


def current_principal(
    request: Request,
    db: DbSession,
    current: LoginSessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)],
) -> Principal:
    principal = _principal(db, request, current, bearer)
    if principal.token_id is not None:
        record_token_use(
            db,
            audit_context(request, principal),
            clinic_id=principal.token_clinic_id,
            detail={"route": f"{request.method} {request.url.path}"},
        )
    return principal


def _principal(
    db: Session,
    request: Request,
    current: tuple[LoginSession, User] | None,
    bearer: HTTPAuthorizationCredentials | None,
) -> Principal:
    if bearer is not None and bearer.credentials:
        return principal_for_token(db, client_context(request), bearer.credentials.strip())
    if current is None:
        raise Unauthenticated(NOT_LOGGED_IN)
    session, user = current
    if not session.mfa_satisfied:
        raise Unauthenticated("Finish multi-factor authentication first")
    return principal_for_user(db, user, session.id)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*permissions: Permission) -> Any:
    """A dependency that yields the principal if it holds every permission in some clinic."""

    def dependency(request: Request, db: DbSession, principal: CurrentPrincipal) -> Principal:
        return permitted(db, request, principal, permissions)

    return Depends(dependency)


def permitted(
    db: Session, request: Request, principal: Principal, permissions: tuple[Permission, ...]
) -> Principal:
    missing = [p.value for p in permissions if not principal.can(p)]
    if missing:
        refuse(
            db,
            audit_context(request, principal),
            "auth.permission_denied",
            Forbidden(f"Your role does not allow this ({', '.join(missing)})"),
            detail={"route": f"{request.method} {request.url.path}", "missing": missing},
        )
    return principal


# --- for routes whose work runs in a group commit (ketaguard.db.group_commit) ---------------


@dataclass(frozen=True)
class Credentials:
    """What a request presented, checked later inside the transaction that does its work."""

    request: Request
    bearer: HTTPAuthorizationCredentials | None
    csrf: str | None

    def principal(self, db: Session, *permissions: Permission) -> Principal:
        """The checks `require(*permissions)` makes, in `db`. A token's use is not audited
        separately: the work audits itself with the token as its actor."""
        current = resolve_login(db, self.request, self.csrf)
        principal = _principal(db, self.request, current, self.bearer)
        return permitted(db, self.request, principal, permissions)


async def credentials(request: Request) -> Credentials:
    """A token or a session cookie, or 401 at once: before the body is read and validated.

    It asks the security schemes itself rather than declaring them as sub-dependencies: gateways
    call these routes many times a second, and FastAPI's solving of the three sub-dependencies
    cost about 5% of a single reading's CPU. `CREDENTIALS_SECURITY` documents the schemes."""
    bearer = await bearer_token(request)
    csrf = await csrf_token_sent(request, await csrf_header(request))
    if (bearer is None or not bearer.credentials) and SESSION_COOKIE not in request.cookies:
        raise Unauthenticated(NOT_LOGGED_IN)
    return Credentials(request, bearer, csrf)


# What OpenAPI would say of a route that declared the schemes: a token or a session with its CSRF.
CREDENTIALS_SECURITY: dict[str, Any] = {
    "security": [{bearer_token.scheme_name: []}, {csrf_header.scheme_name: []}]
}


def require_patient_account(
    request: Request, db: DbSession, principal: CurrentPrincipal
) -> Principal:
    if principal.kind is not PrincipalKind.patient or principal.patient_id is None:
        refuse(
            db,
            audit_context(request, principal),
            "auth.permission_denied",
            Forbidden("Only a patient's own account can use this"),
            detail={"route": f"{request.method} {request.url.path}"},
        )
    return principal


PatientAccount = Annotated[Principal, Depends(require_patient_account)]

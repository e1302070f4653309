"""Who is looking at a page: the signed-in account, its login session and its idle time-out.

Pages use the login cookie only (never API tokens) and the same session checks as the API. An
anonymous caller gets the API's 401; web/errors.py turns it into the login page for a browser.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ketaguard.auth.deps import LoginSessionDep, audit_context
from ketaguard.auth.models import LoginSession, User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal, PrincipalKind
from ketaguard.auth.service import principal_for_user, refuse
from ketaguard.clinics.models import Organisation
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import Forbidden, Unauthenticated

# The idle warning shows this long before the time-out, or halfway for time-outs under twice it.
IDLE_WARNING_SECONDS = 120


class MfaPending(Unauthenticated):
    """Logged in with a password, but the second factor is still owed."""


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    user: User
    login: LoginSession
    idle_timeout_minutes: int

    @property
    def csrf_token(self) -> str:
        return self.login.csrf_token

    @property
    def idle_timeout_seconds(self) -> int:
        return self.idle_timeout_minutes * 60

    @property
    def idle_warning_seconds(self) -> int:
        return min(IDLE_WARNING_SECONDS, self.idle_timeout_seconds // 2)

    @property
    def role_label(self) -> str:
        if self.principal.kind is PrincipalKind.patient:
            return "patient"
        roles = sorted({role.value.replace("_", " ") for role in self.principal.roles.values()})
        return ", ".join(roles) or "staff"


def signed_in(db: DbSession, current: LoginSessionDep) -> Viewer:
    if current is None:
        raise Unauthenticated("Log in to see this page")
    login, user = current
    if not login.mfa_satisfied:
        raise MfaPending("Finish multi-factor authentication first")
    organisation = db.get_one(Organisation, user.organisation_id)
    return Viewer(
        principal=principal_for_user(db, user, login.id),
        user=user,
        login=login,
        idle_timeout_minutes=organisation.idle_timeout_minutes,
    )


SignedIn = Annotated[Viewer, Depends(signed_in)]


def patient_viewer(request: Request, db: DbSession, viewer: SignedIn) -> Viewer:
    if viewer.principal.kind is not PrincipalKind.patient:
        refuse(
            db,
            audit_context(request, viewer.principal),
            "auth.permission_denied",
            Forbidden("This page is for patients, signed in with their own account"),
            detail={"route": f"{request.method} {request.url.path}"},
        )
    return viewer


PatientViewer = Annotated[Viewer, Depends(patient_viewer)]


def require_page(*permissions: Permission) -> Any:
    """A page dependency: the signed-in viewer, if they hold every permission in some clinic.

    The same refusal as the API's `require`, audited, shown to a browser as the 403 page.
    """

    def dependency(request: Request, db: DbSession, viewer: SignedIn) -> Viewer:
        missing = [p.value for p in permissions if not viewer.principal.can(p)]
        if missing:
            refuse(
                db,
                audit_context(request, viewer.principal),
                "auth.permission_denied",
                Forbidden("Your role does not allow this page"),
                detail={"route": f"{request.method} {request.url.path}", "missing": missing},
            )
        return viewer

    return Depends(dependency)

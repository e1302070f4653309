"""The landing pages after login, and the idle time-out's "stay signed in"."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from ketaguard.auth.deps import audit_context
from ketaguard.auth.principal import PrincipalKind
from ketaguard.clinics.service import memberships_of
from ketaguard.db.session import DbSession
from ketaguard.kit.time import utcnow
from ketaguard.web.dashboard_view import dashboard
from ketaguard.web.dependence_view import STATUS_LABELS
from ketaguard.web.deps import SignedIn
from ketaguard.web.pages import render
from ketaguard.web.portal_routes import PORTAL

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, db: DbSession, viewer: SignedIn) -> Response:
    if viewer.principal.kind is PrincipalKind.patient:
        return RedirectResponse(PORTAL, status_code=303)
    board = dashboard(db, viewer.principal, audit_context(request, viewer.principal), utcnow())
    return render(
        request,
        "home.html",
        viewer=viewer,
        memberships=memberships_of(db, viewer.user.id),
        board=board,
        status_labels=STATUS_LABELS,
    )


@router.post("/session/keepalive", status_code=204)
def keep_alive(viewer: SignedIn) -> Response:
    # Resolving the login session (SignedIn) is what records the activity.
    return Response(status_code=204)

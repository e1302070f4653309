"""The patient portal: a patient's own upcoming sessions, due check-ins and trend."""

from fastapi import APIRouter, Request, Response

from ketaguard.web.deps import PatientViewer
from ketaguard.web.pages import render

router = APIRouter(include_in_schema=False)

PORTAL = "/portal"


@router.get(PORTAL)
def portal(request: Request, viewer: PatientViewer) -> Response:
    return render(request, "portal.html", viewer=viewer)

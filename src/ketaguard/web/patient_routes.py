"""Staff pages for patients: the clinic's patient list and a patient's chart.

Thin like the API routes: each calls the view module, which reads through the API's own service
functions (so each read is scoped and audited as the API's is), and renders a template.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response

from ketaguard.auth.deps import audit_context
from ketaguard.auth.permissions import Permission
from ketaguard.db.session import DbSession
from ketaguard.web import patient_view
from ketaguard.web.dependence_view import REFERRED_TO
from ketaguard.web.deps import Viewer, require_page
from ketaguard.web.pages import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Viewer, require_page(Permission.patient_read)]


@router.get("/patients")
def patient_list(request: Request, db: DbSession, viewer: Reader, q: str = "") -> Response:
    context = audit_context(request, viewer.principal)
    rows = patient_view.patient_list(db, viewer, context, q)
    return render(request, "patients/list.html", viewer=viewer, rows=rows, q=q.strip())


@router.get("/patients/{patient_id}")
def patient_chart(
    patient_id: uuid.UUID, request: Request, db: DbSession, viewer: Reader
) -> Response:
    context = audit_context(request, viewer.principal)
    chart = patient_view.chart(db, viewer, context, patient_id)
    return render(
        request,
        "patients/chart.html",
        viewer=viewer,
        chart=chart,
        when=chart.when,
        eligibility_notice=patient_view.ELIGIBILITY_NOTICE,
        dependence_notice=patient_view.DEPENDENCE_NOTICE,
        referral_words=REFERRED_TO,
    )

"""Staff pages for the dependence watch: the clinic worklist, a review with its decision, and
referrals; and the clinic's REMS forms by deadline.

Each page calls the same service function as the API (`dependence/routes.py`,
`sessions/routes.py`), which scopes and audits it; a refused decision or referral change comes
back on its form with the refusal next to its field and nothing changed.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from ketaguard.auth.deps import audit_context
from ketaguard.auth.permissions import Permission
from ketaguard.db.session import DbSession
from ketaguard.dependence import referrals, service
from ketaguard.dependence.models import ReferralStatus
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.rems.form import DeadlineState
from ketaguard.sessions import rems
from ketaguard.web import dependence_view as view
from ketaguard.web.deps import Viewer, require_page
from ketaguard.web.forms import FieldErrors, service_errors, undone_if_refused
from ketaguard.web.pages import render
from ketaguard.web.session_forms import FormInvalid

router = APIRouter(include_in_schema=False)

Reader = Annotated[Viewer, require_page(Permission.patient_read)]
Decider = Annotated[Viewer, require_page(Permission.dependence_review)]
ReferralManager = Annotated[Viewer, require_page(Permission.referral_manage)]
RemsViewer = Annotated[Viewer, require_page(Permission.rems_submit)]


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]

DONE = {"decided": "Decision recorded.", "status": "Referral updated."}


def _clinic_filter(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        raise NotFound("No such clinic") from None


@router.get("/dependence")
def worklist(request: Request, db: DbSession, viewer: Reader, clinic: str = "") -> Response:
    found = view.worklist(
        db, viewer.principal, audit_context(request, viewer.principal), _clinic_filter(clinic)
    )
    return render(
        request,
        "dependence/worklist.html",
        viewer=viewer,
        worklist=found,
        chosen=clinic,
        status_labels=view.STATUS_LABELS,
    )


def _review(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    review_id: uuid.UUID,
    *,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    page = view.review_page(
        db, viewer.principal, audit_context(request, viewer.principal), review_id
    )
    return render(
        request,
        "dependence/review.html",
        viewer=viewer,
        status_code=status_code,
        p=page,
        errors=errors or {},
        values=values or {},
        labels=view.DECISION_LABELS,
        done=DONE.get(done),
        status_labels=view.STATUS_LABELS,
        severity_meaning=view.SEVERITY_MEANING,
        decisions=view.DECISIONS,
        plan_status=view.PLAN_STATUS,
        referral_status=view.REFERRAL_STATUS,
    )


@router.get("/dependence/reviews/{review_id}")
def review(
    review_id: uuid.UUID, request: Request, db: DbSession, viewer: Reader, done: str = ""
) -> Response:
    return _review(request, db, viewer, review_id, done=done)


@router.post("/dependence/reviews/{review_id}")
def decide(
    review_id: uuid.UUID, request: Request, db: DbSession, viewer: Decider, form: PostedForm
) -> Response:
    values = view.field_values(form)
    try:
        body = view.decision_body(
            form, [str(seen) for seen in form.getlist("seen_signal") if isinstance(seen, str)]
        )
        with undone_if_refused(db):
            service.decide(
                db, viewer.principal, audit_context(request, viewer.principal), review_id, body
            )
    except FormInvalid as exc:
        errors, status_code = exc.errors, InvalidInput.status_code
    except (InvalidInput, Conflict) as exc:
        errors, status_code = service_errors(exc, "kind"), exc.status_code
    else:
        return RedirectResponse(f"/dependence/reviews/{review_id}?done=decided", status_code=303)
    return _review(
        request, db, viewer, review_id, errors=errors, values=values, status_code=status_code
    )


def _referral(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    referral_id: uuid.UUID,
    *,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    page = view.referral_page(
        db, viewer.principal, audit_context(request, viewer.principal), referral_id
    )
    return render(
        request,
        "dependence/referral.html",
        viewer=viewer,
        status_code=status_code,
        p=page,
        errors=errors or {},
        values=values or {},
        labels=view.REFERRAL_LABELS,
        done=DONE.get(done),
        referred_to=view.REFERRED_TO,
        referral_status=view.REFERRAL_STATUS,
        open_statuses=[ReferralStatus.sent, ReferralStatus.accepted],
    )


@router.get("/dependence/referrals/{referral_id}")
def referral(
    referral_id: uuid.UUID, request: Request, db: DbSession, viewer: Reader, done: str = ""
) -> Response:
    return _referral(request, db, viewer, referral_id, done=done)


@router.post("/dependence/referrals/{referral_id}")
def change_referral_status(
    referral_id: uuid.UUID,
    request: Request,
    db: DbSession,
    viewer: ReferralManager,
    form: PostedForm,
) -> Response:
    values = view.field_values(form)
    try:
        body = view.referral_change(form)
        with undone_if_refused(db):
            referrals.change_status(
                db, viewer.principal, audit_context(request, viewer.principal), referral_id, body
            )
    except FormInvalid as exc:
        errors, status_code = exc.errors, InvalidInput.status_code
    except (InvalidInput, Conflict) as exc:
        errors, status_code = service_errors(exc, "status"), exc.status_code
    else:
        return RedirectResponse(f"/dependence/referrals/{referral_id}?done=status", status_code=303)
    return _referral(
        request, db, viewer, referral_id, errors=errors, values=values, status_code=status_code
    )


# --- REMS forms ---------------------------------------------------------------------------------

REMS_STATES: tuple[tuple[DeadlineState, str], ...] = (
    ("overdue", "Overdue"),
    ("due_soon", "Due soon"),
    ("pending", "Pending"),
    ("submitted", "Submitted"),
)


@router.get("/rems")
def rems_forms(request: Request, db: DbSession, viewer: RemsViewer, state: str = "") -> Response:
    """The clinic's REMS monitoring forms by deadline state, soonest due first (the service of
    GET /api/rems/forms)."""
    chosen = next((s for s, _ in REMS_STATES if s == state), None)
    found = rems.forms(db, viewer.principal, utcnow(), chosen)
    clinics = view.worklist_clinics(db, viewer.principal)
    return render(
        request,
        "rems/forms.html",
        viewer=viewer,
        states=REMS_STATES,
        chosen=chosen,
        by_state={s: [form for form, current in found if current == s] for s, _ in REMS_STATES},
        clinics=clinics,
    )

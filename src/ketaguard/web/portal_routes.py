"""The patient portal: a patient's own upcoming sessions, due check-ins and trend.

A check-in is completed on its own page, checked with the API's own schema (`CheckinCreate`) and
stored by the same service as `POST /api/me/checkins`; a refusal is shown next to the question
it concerns and nothing is stored. The page after it shows crisis contacts whenever an answer
signalled suicide risk, as the API's answer does."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from ketaguard.auth.deps import audit_context, settings_of
from ketaguard.checkins import service as checkins
from ketaguard.checkins.models import Checkin, CheckinDue
from ketaguard.checkins.routes import CRISIS_MESSAGE
from ketaguard.checkins.schedule import ITEMS
from ketaguard.checkins.schemas import CheckinCreate, CrisisResources
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.screening.instruments import get_instrument
from ketaguard.web import portal_forms as forms
from ketaguard.web import portal_view as view
from ketaguard.web.deps import PatientViewer, Viewer
from ketaguard.web.forms import FieldErrors, undone_if_refused
from ketaguard.web.pages import render

router = APIRouter(include_in_schema=False)

PORTAL = "/portal"
CHECKIN_PAGE = PORTAL + "/checkins/{due_id}"
DONE_PAGE = PORTAL + "/checkins/done/{checkin_id}"


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


@router.get(PORTAL)
def portal(request: Request, db: DbSession, viewer: PatientViewer) -> Response:
    principal = viewer.principal
    context = audit_context(request, principal)
    patient, zone = view.own_patient(db, principal)
    when = view.patient_time(zone)
    sessions = view.own_sessions(db, principal, context, patient)
    by_id = {session.id: session for session in sessions}
    dues = view.shown_dues(checkins.own_dues(db, principal, context), by_id, when)
    return render(
        request,
        "portal.html",
        viewer=viewer,
        upcoming=view.upcoming(sessions, zone),
        open_dues=[due for due in dues if due.open],
        later_dues=[due for due in dues if not due.open],
        trend=view.own_trend(db, principal, context, patient),
        when=when,
    )


def _own_due(db: DbSession, request: Request, viewer: Viewer, due_id: uuid.UUID) -> CheckinDue:
    """One of the patient's check-ins still to do (done or closed ones are a conflict, anyone
    else's is not found)."""
    principal = viewer.principal
    for due in checkins.own_dues(db, principal, audit_context(request, principal)):
        if due.id == due_id:
            return due
    # A check-in of the patient's that is done, missed or cancelled: say so rather than "not
    # found" (someone else's stays not found).
    done = db.get(CheckinDue, due_id)
    if done is not None and done.patient_id == principal.patient_id:
        raise Conflict(
            "This check-in is no longer waiting for you: it was sent already, or its time is "
            "over. Your portal shows what is due now."
        )
    raise NotFound("No such check-in is waiting for you")


def _parts(due: CheckinDue) -> list[str]:
    return [part for part in ITEMS if part in due.items]


def _form(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    due: CheckinDue,
    *,
    values: FormData | dict[str, str],
    errors: FieldErrors,
    status_code: int = 200,
) -> Response:
    principal = viewer.principal
    patient, zone = view.own_patient(db, principal)
    when = view.patient_time(zone)
    sessions = view.own_sessions(db, principal, audit_context(request, principal), patient)
    parts = _parts(due)
    return render(
        request,
        "portal/checkin.html",
        viewer=viewer,
        status_code=status_code,
        due=due,
        title=view.due_title(due, {s.id: s for s in sessions}, when),
        is_open=checkins.is_open(due, utcnow()),
        parts=parts,
        questionnaires={
            part: (get_instrument(part), forms.questions(get_instrument(part)))
            for part in parts
            if part in checkins.QUESTIONNAIRES
        },
        f=forms,
        labels=forms.labels(parts),
        values=values,
        errors=errors,
        when=when,
    )


@router.get(CHECKIN_PAGE)
def checkin_page(
    due_id: uuid.UUID, request: Request, db: DbSession, viewer: PatientViewer
) -> Response:
    due = _own_due(db, request, viewer, due_id)
    return _form(request, db, viewer, due, values={}, errors={})


@router.post(CHECKIN_PAGE)
def send_checkin(
    due_id: uuid.UUID,
    request: Request,
    db: DbSession,
    viewer: PatientViewer,
    form: PostedForm,
) -> Response:
    principal = viewer.principal
    assert principal.patient_id is not None
    due = _own_due(db, request, viewer, due_id)
    parts = _parts(due)
    try:
        body = CheckinCreate.model_validate({**forms.body_from(form, parts), "due_id": due.id})
    except ValidationError as exc:
        errors = forms.checkin_errors(exc, parts)
        return _form(request, db, viewer, due, values=form, errors=errors, status_code=422)
    try:
        with undone_if_refused(db):
            result = checkins.submit_checkin(
                db, principal, audit_context(request, principal), principal.patient_id, body
            )
    except (Conflict, InvalidInput) as exc:
        db.refresh(due)
        errors = forms.refusal_errors(exc)
        return _form(
            request, db, viewer, due, values=form, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(DONE_PAGE.format(checkin_id=result.checkin.id), status_code=303)


def _own_checkin(db: DbSession, request: Request, viewer: Viewer, checkin_id: uuid.UUID) -> Checkin:
    principal = viewer.principal
    for checkin in checkins.own_checkins(db, principal, audit_context(request, principal)):
        if checkin.id == checkin_id:
            return checkin
    raise NotFound("No such check-in")


@router.get(DONE_PAGE)
def checkin_done(
    checkin_id: uuid.UUID, request: Request, db: DbSession, viewer: PatientViewer
) -> Response:
    checkin = _own_checkin(db, request, viewer, checkin_id)
    totals = checkins.questionnaire_totals(db, [checkin])
    _, zone = view.own_patient(db, viewer.principal)
    # The same crisis resources as the API's answer to this check-in.
    crisis = (
        CrisisResources(message=CRISIS_MESSAGE, contacts=settings_of(request).crisis_contacts)
        if checkin.suicide_risk
        else None
    )
    phq9 = get_instrument("phq9")
    return render(
        request,
        "portal/done.html",
        viewer=viewer,
        checkin=checkin,
        phq9_total=totals.get(checkin.phq9_response_id) if checkin.phq9_response_id else None,
        phq9_max=phq9.total_range[1] if phq9.total_range else None,
        crisis=crisis,
        when=view.patient_time(zone),
    )

"""Scheduling pages: a clinic's sessions on a day, the active plans that can be booked, and booking
one on the clinic's wall clock through the same service as the API (`sessions/booking.py`).

A refused booking shows every rule it breaks, in words with its numbers; a prescriber may book
past the overridable ones by giving a reason, which the service records with the booking.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from ketaguard.auth.deps import audit_context
from ketaguard.auth.permissions import Permission
from ketaguard.clinics.models import Clinic
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import Conflict, DomainError, Forbidden, InvalidInput
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans.models import TreatmentPlan
from ketaguard.plans.service import get_plan
from ketaguard.protocols.definition import FixedDose, ProtocolDefinition
from ketaguard.protocols.service import definition_by_id
from ketaguard.sessions import booking, queries
from ketaguard.sessions.schemas import BookingRequest
from ketaguard.web.deps import Viewer, require_page
from ketaguard.web.forms import FieldErrors, schema_errors
from ketaguard.web.pages import render
from ketaguard.web.schedule_view import ShownViolation, shown
from ketaguard.web.session_forms import FormInvalid
from ketaguard.web.session_view import Clock, status_label

router = APIRouter(include_in_schema=False)

Reader = Annotated[Viewer, require_page(Permission.patient_read)]
Booker = Annotated[Viewer, require_page(Permission.session_book)]


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]

BOOK_LABELS = {
    "date": "Date",
    "time": "Time",
    "dose_mg": "Dose",
    "override_reason": "Reason for booking past the plan's limits",
}
NO_REASON = "Write why this session should be booked past the plan's limits"


def _day(raw: str, default: date) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return default


@router.get("/sessions")
def sessions_of_day(
    request: Request, db: DbSession, viewer: Reader, clinic: str = "", day: str = ""
) -> Response:
    clinics = queries.clinics_for(db, viewer.principal, Permission.patient_read)
    chosen = next((c for c in clinics if str(c.id) == clinic), clinics[0] if clinics else None)
    if chosen is None:
        return render(request, "sessions/day.html", viewer=viewer, clinics=[], chosen=None)
    clock = Clock(chosen.timezone)
    today = clock.today(utcnow())
    shown_day = _day(day, today)
    rows = queries.sessions_on(db, viewer.principal, chosen, shown_day)
    return render(
        request,
        "sessions/day.html",
        viewer=viewer,
        clinics=clinics,
        chosen=chosen,
        clock=clock,
        day=shown_day,
        today=today,
        previous_day=shown_day - timedelta(days=1),
        next_day=shown_day + timedelta(days=1),
        rows=rows,
        status_label=status_label,
        can_run=viewer.principal.can(Permission.session_run, chosen.id),
        can_book=viewer.principal.can(Permission.session_book, chosen.id),
    )


@router.get("/booking")
def plans_to_book(request: Request, db: DbSession, viewer: Booker, q: str = "") -> Response:
    plans = queries.bookable_plans(db, viewer.principal, q)
    titles = {
        plan.protocol_version_id: definition_by_id(db, plan.protocol_version_id).title
        for plan, _ in plans
    }
    return render(
        request, "sessions/booking.html", viewer=viewer, plans=plans, titles=titles, q=q.strip()
    )


def _dose_choices(definition: ProtocolDefinition) -> list[tuple[str, str]] | None:
    """The doses to choose from for a fixed-dose protocol; None when the dose is typed."""
    if not isinstance(definition.dose, FixedDose):
        return None
    return [(f"{mg:g}", f"{mg:g} mg") for mg in definition.dose.allowed_mg.value]


def _book_page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    plan: TreatmentPlan,
    patient: Patient,
    *,
    values: Mapping[str, str] | None = None,
    errors: FieldErrors | None = None,
    violations: Sequence[ShownViolation] = (),
    booked: uuid.UUID | None = None,
    status_code: int = 200,
) -> Response:
    clinic = db.get_one(Clinic, patient.clinic_id)
    clock = Clock(clinic.timezone)
    definition = definition_by_id(db, plan.protocol_version_id)
    sessions = booking.sessions_of(db, viewer.principal, plan.id)
    now = utcnow()
    just_booked = queries.session_in_plan(db, plan.id, booked) if booked else None
    can_override = viewer.principal.can(Permission.schedule_override, clinic.id)
    return render(
        request,
        "sessions/book.html",
        viewer=viewer,
        status_code=status_code,
        plan=plan,
        patient=patient,
        clinic=clinic,
        clock=clock,
        definition=definition,
        upcoming=[s for s in sessions if s.scheduled_at >= now],
        past=[s for s in sessions if s.scheduled_at < now],
        status_label=status_label,
        dose_choices=_dose_choices(definition),
        values=values or {"dose_mg": f"{plan.dose_mg:g}"},
        errors=errors or {},
        labels=BOOK_LABELS,
        violations=violations,
        # The reason is asked for only where a prescriber can use it: every broken rule can be
        # overridden (a plan that is not active cannot).
        offer_override=can_override and bool(violations) and all(v.overridable for v in violations),
        can_override=can_override,
        just_booked=just_booked,
        today=clock.today(now).isoformat(),
    )


@router.get("/plans/{plan_id}/book")
def book_page(
    plan_id: uuid.UUID,
    request: Request,
    db: DbSession,
    viewer: Booker,
    booked: uuid.UUID | None = None,
) -> Response:
    plan, patient = get_plan(db, viewer.principal, plan_id, Permission.session_book)
    return _book_page(request, db, viewer, plan, patient, booked=booked)


def _booking_request(form: FormData, override: bool) -> BookingRequest:
    """The posted form as the API's BookingRequest, or FormInvalid naming each field."""
    text = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    errors: FieldErrors = {}
    when: dict[str, Any] = {}
    try:
        when["date"] = date.fromisoformat(text.get("date", ""))
    except ValueError:
        errors["date"] = "Enter the date of the session, like 2026-03-09"
    try:
        when["time"] = time.fromisoformat(text.get("time", ""))
    except ValueError:
        errors["time"] = "Enter the time the session starts, like 09:30"
    dose: float | None = None
    if text.get("dose_mg"):
        try:
            dose = float(text["dose_mg"].replace(",", "."))
        except ValueError:
            errors["dose_mg"] = "Enter the dose in mg, like 56"
    if errors:
        raise FormInvalid(errors)
    # An override with no reason goes to the service like any booking: its refusal (audited)
    # names the broken rules, and the page then asks for the reason.
    reason = text.get("override_reason", "") if override else ""
    local_start = datetime.combine(when["date"], when["time"])
    try:
        return BookingRequest(local_start=local_start, dose_mg=dose, override_reason=reason or None)
    except ValidationError as exc:
        raise FormInvalid(
            schema_errors(
                exc,
                {
                    "dose_mg": "Enter a dose above 0 mg",
                    "override_reason": "Keep the reason under 4000 characters",
                },
                fields={"local_start": "time"},
            )
        ) from exc


@router.post("/plans/{plan_id}/book")
def book(
    plan_id: uuid.UUID,
    request: Request,
    db: DbSession,
    viewer: Booker,
    form: PostedForm,
) -> Response:
    plan, patient = get_plan(db, viewer.principal, plan_id, Permission.session_book)
    override = form.get("override") == "yes"
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        body = _booking_request(form, override)
    except FormInvalid as exc:
        return _book_page(
            request, db, viewer, plan, patient, values=values, errors=exc.errors, status_code=422
        )
    try:
        session = booking.book(
            db, viewer.principal, audit_context(request, viewer.principal), plan.id, body
        )
    except (Conflict, Forbidden, InvalidInput) as exc:
        return _refused(request, db, viewer, plan_id, body, values, exc, override)
    return RedirectResponse(f"/plans/{plan_id}/book?booked={session.id}", status_code=303)


def _refused(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    plan_id: uuid.UUID,
    body: BookingRequest,
    values: Mapping[str, str],
    exc: DomainError,
    override: bool,
) -> Response:
    """The form again with the refusal. A refusal the service kept (its audit record) is
    committed by returning normally; any other is rolled back first, as the error path would."""
    if not exc.keep_records:
        db.rollback()
    plan, patient = get_plan(db, viewer.principal, plan_id, Permission.session_book)
    raw = exc.details.get("violations")
    if isinstance(raw, list):
        violations = [shown(v) for v in raw]
    else:
        try:
            violations = [shown(v) for v in booking.evaluate(db, plan, patient, body).violations]
        except DomainError:
            violations = []
    field = exc.details.get("field")
    errors: FieldErrors = {}
    if isinstance(exc, Forbidden) or field == "override_reason":
        errors["override_reason"] = exc.message
    elif field == "local_start":
        errors["time"] = exc.message
    elif isinstance(field, str):
        errors[field] = exc.message
    elif override and not body.override_reason:
        errors["override_reason"] = NO_REASON
    return _book_page(
        request,
        db,
        viewer,
        plan,
        patient,
        values=values,
        errors=errors,
        violations=violations,
        status_code=exc.status_code,
    )

"""The chair-side API: running a session, device gateways posting vitals, REMS forms."""

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.alerts.schemas import AlertOut
from ketaguard.auth.deps import (
    CREDENTIALS_SECURITY,
    Credentials,
    audit_context,
    credentials,
    require,
)
from ketaguard.auth.models import User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.group_commit import Committer, GroupWrites
from ketaguard.db.session import DbSession
from ketaguard.fhir.vitals import FhirBundleError, FhirError, FhirReading, parse_fhir
from ketaguard.kit.errors import InvalidInput
from ketaguard.kit.json_route import JsonBodyRoute
from ketaguard.kit.time import utcnow
from ketaguard.monitoring.vitals import Reading, readings_of
from ketaguard.rems.form import DeadlineState, missing_fields
from ketaguard.rems.pdf import render_html, render_pdf
from ketaguard.sessions import rems, run
from ketaguard.sessions.access import locked_session
from ketaguard.sessions.models import ReadingSource, SessionStatus, VitalReading
from ketaguard.sessions.schemas_run import (
    AdverseEventIn,
    DeviceBatch,
    DischargeIn,
    DoseComplete,
    DoseStart,
    IngestOut,
    PreDoseIn,
    RatingIn,
    Reason,
    SessionDetail,
    VitalsIn,
)

# Gateways post a hundred readings a batch: their bodies are read by pydantic from the bytes.
router = APIRouter(prefix="/api", tags=["sessions"], route_class=JsonBodyRoute)

Runner = Annotated[Principal, require(Permission.session_run)]
Caller = Annotated[Credentials, Depends(credentials)]
Reader = Annotated[Principal, require(Permission.patient_read)]


def _detail(session: Any) -> SessionDetail:
    return SessionDetail.model_validate(session)


def _ingested(result: run.Ingested) -> IngestOut:
    return IngestOut(
        added=result.added,
        duplicates=result.duplicates,
        alerts=[AlertOut.model_validate(a).model_dump(mode="json") for a in result.alerts],
    )


@router.get("/sessions/{session_id}", response_model=SessionDetail)
def get_session(session_id: uuid.UUID, db: DbSession, principal: Reader) -> SessionDetail:
    session, _ = locked_session(db, principal, session_id, Permission.patient_read, lock=False)
    return _detail(session)


@router.post("/sessions/{session_id}/check-in", response_model=SessionDetail)
def check_in(
    session_id: uuid.UUID, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    return _detail(run.check_in(db, principal, audit_context(request, principal), session_id))


@router.post("/sessions/{session_id}/pre-dose", response_model=SessionDetail)
def pre_dose(
    session_id: uuid.UUID, body: PreDoseIn, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    context = audit_context(request, principal)
    return _detail(run.clear_pre_dose(db, principal, context, session_id, body))


@router.post("/sessions/{session_id}/dose", response_model=SessionDetail)
def start_dose(
    session_id: uuid.UUID, body: DoseStart, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    context = audit_context(request, principal)
    return _detail(run.start_dose(db, principal, context, session_id, body))


@router.post("/sessions/{session_id}/dose/complete", response_model=SessionDetail)
def complete_dose(
    session_id: uuid.UUID, body: DoseComplete, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    context = audit_context(request, principal)
    return _detail(run.complete_dose(db, principal, context, session_id, body))


# The vitals routes run their work in the group commit (ketaguard.db.group_commit): a gateway's
# many small writes share commits instead of queueing one by one on the disk.


@router.post(
    "/sessions/{session_id}/vitals", response_model=IngestOut, openapi_extra=CREDENTIALS_SECURITY
)
async def record_vitals(
    session_id: uuid.UUID, body: VitalsIn, caller: Caller, writes: GroupWrites
) -> IngestOut:
    return await _ingest(
        caller, writes, session_id, lambda: {"": body.readings}, ReadingSource.staff
    )


@router.post(
    "/sessions/{session_id}/vitals/device",
    response_model=IngestOut,
    openapi_extra=CREDENTIALS_SECURITY,
)
async def device_batch(
    session_id: uuid.UUID, body: DeviceBatch, caller: Caller, writes: GroupWrites
) -> IngestOut:
    """A bedside gateway's batch: all or nothing, and a resent batch adds nothing."""
    return await _ingest(
        caller, writes, session_id, lambda: {body.device_id: body.readings}, ReadingSource.device
    )


@router.post(
    "/sessions/{session_id}/vitals/fhir",
    response_model=IngestOut,
    openapi_extra=CREDENTIALS_SECURITY,
)
async def fhir_vitals(
    session_id: uuid.UUID,
    caller: Caller,
    writes: GroupWrites,
    payload: Annotated[dict[str, Any], Body(description="A FHIR R4 Observation or Bundle")],
) -> IngestOut:
    """FHIR R4 vital-sign Observations, alone or in a batch/transaction Bundle (LOINC codes)."""
    return await _ingest(
        caller, writes, session_id, lambda: _fhir_by_device(payload), ReadingSource.device
    )


def _fhir_by_device(payload: dict[str, Any]) -> dict[str, list[Reading]]:
    try:
        readings = parse_fhir(payload)
    except FhirBundleError as exc:
        raise InvalidInput(
            "The Bundle was refused; nothing was stored",
            problems=[{"entry": e.entry, "path": e.path, "message": e.message} for e in exc.errors],
        ) from exc
    except FhirError as exc:
        raise InvalidInput(str(exc), path=exc.path) from exc
    by_device: dict[str, list[FhirReading]] = defaultdict(list)
    for r in readings:
        by_device[r.device_id or "fhir"].append(r)
    return {device: readings_of(group) for device, group in by_device.items()}


@dataclass(frozen=True)
class _VitalsPost:
    caller: Credentials
    session_id: uuid.UUID
    readings_by_device: Callable[[], Mapping[str, Sequence[Reading]]]
    source: ReadingSource


async def _ingest(
    caller: Credentials,
    writes: Committer,
    session_id: uuid.UUID,
    readings_by_device: Callable[[], Mapping[str, Sequence[Reading]]],
    source: ReadingSource,
) -> IngestOut:
    """Checks the caller, then reads the readings, then stores them, all in this request's
    share of a group commit. A FHIR body is read only once the caller is let in, so a refused
    caller learns nothing of its problems; a JSON body's shape was checked before, by its schema."""
    post = _VitalsPost(caller, session_id, readings_by_device, source)
    return await writes.run_together(post, _store_posts, lock_key=str(session_id))


def _store_posts(db: Session, posts: list[_VitalsPost]) -> list[IngestOut]:
    """The posts of a group, stored together: one statement of each kind for them all."""
    batches: list[run.VitalsBatch] = []
    posted_by: list[int] = []
    for number, post in enumerate(posts):
        principal = post.caller.principal(db, Permission.vitals_write)
        context = audit_context(post.caller.request, principal)
        for device, readings in post.readings_by_device().items():
            batches.append(
                run.VitalsBatch(principal, context, post.session_id, readings, post.source, device)
            )
            posted_by.append(number)
    results: list[list[run.Ingested]] = [[] for _ in posts]
    for number, result in zip(posted_by, run.ingest_batches(db, batches), strict=True):
        results[number].append(result)
    return [
        _ingested(
            run.Ingested(
                added=sum(r.added for r in of_post),
                duplicates=sum(r.duplicates for r in of_post),
                alerts=[alert for r in of_post for alert in r.alerts],
            )
        )
        for of_post in results
    ]


class ReadingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    vital: str
    value: float
    measured_at: Any
    source: str
    device_key: str


@router.get("/sessions/{session_id}/vitals", response_model=list[ReadingOut])
def list_vitals(session_id: uuid.UUID, db: DbSession, principal: Reader) -> list[ReadingOut]:
    session, _ = locked_session(db, principal, session_id, Permission.patient_read, lock=False)
    rows = db.scalars(
        select(VitalReading)
        .where(VitalReading.session_id == session.id)
        .order_by(VitalReading.measured_at, VitalReading.vital)
    )
    return [ReadingOut.model_validate(r) for r in rows]


@router.post("/sessions/{session_id}/ratings")
def add_rating(
    session_id: uuid.UUID, body: RatingIn, request: Request, db: DbSession, principal: Runner
) -> dict[str, Any]:
    rating, alerts = run.rate(db, principal, audit_context(request, principal), session_id, body)
    return {
        "scale": rating.scale,
        "total": rating.total,
        "alerts": [AlertOut.model_validate(a).model_dump(mode="json") for a in alerts],
    }


@router.post("/sessions/{session_id}/adverse-events", status_code=201)
def add_adverse_event(
    session_id: uuid.UUID, body: AdverseEventIn, request: Request, db: DbSession, principal: Runner
) -> dict[str, Any]:
    event = run.record_adverse_event(
        db, principal, audit_context(request, principal), session_id, body
    )
    return {"id": str(event.id), "type": event.type.value, "serious": event.serious}


@router.post("/sessions/{session_id}/clear", response_model=SessionDetail)
def prescriber_clears(
    session_id: uuid.UUID, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    context = audit_context(request, principal)
    return _detail(run.clear_for_discharge(db, principal, context, session_id))


@router.post("/sessions/{session_id}/discharge", response_model=SessionDetail)
def discharge(
    session_id: uuid.UUID, body: DischargeIn, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    assert principal.user_id is not None
    provider = db.get_one(User, principal.user_id).full_name
    context = audit_context(request, principal)
    return _detail(run.discharge(db, principal, context, session_id, body, provider))


@router.post("/sessions/{session_id}/abort", response_model=SessionDetail)
def abort(
    session_id: uuid.UUID, body: Reason, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    context = audit_context(request, principal)
    return _detail(
        run.end_early(db, principal, context, session_id, SessionStatus.aborted, body.reason)
    )


@router.post("/sessions/{session_id}/no-show", response_model=SessionDetail)
def no_show(
    session_id: uuid.UUID, body: Reason, request: Request, db: DbSession, principal: Runner
) -> SessionDetail:
    context = audit_context(request, principal)
    return _detail(
        run.end_early(db, principal, context, session_id, SessionStatus.no_show, body.reason)
    )


class RemsFormOut(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    due_on: date
    state: DeadlineState
    submitted_on: date | None
    submission_method: str | None
    total_minutes: int | None
    under_two_hours: bool
    fields: list[dict[str, Any]]


def _form_out(form: Any, state: DeadlineState) -> RemsFormOut:
    built = rems.built(form)
    return RemsFormOut(
        id=form.id,
        session_id=form.session_id,
        due_on=form.due_on,
        state=state,
        submitted_on=form.submitted_on,
        submission_method=form.submission_method,
        total_minutes=built.total_minutes,
        under_two_hours=built.under_two_hours,
        fields=[
            {"key": f.key, "label": f.label, "value": f.value, "required": f.required}
            for f in built.fields
        ],
    )


@router.get("/rems/forms", response_model=list[RemsFormOut], tags=["REMS"])
def rems_forms(
    db: DbSession, principal: Reader, state: DeadlineState | None = None
) -> list[RemsFormOut]:
    """The clinic's REMS monitoring forms, soonest due first; filter by deadline state."""
    return [_form_out(f, s) for f, s in rems.forms(db, principal, utcnow(), state)]


@router.get("/rems/forms/{form_id}.pdf", tags=["REMS"], response_class=Response)
def rems_form_pdf(form_id: uuid.UUID, db: DbSession, principal: Reader) -> Response:
    built = rems.built(rems.get_form(db, principal, form_id))
    assert not missing_fields(built)
    return Response(
        render_pdf(built),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="rems-{form_id}.pdf"'},
    )


@router.get("/rems/forms/{form_id}.html", tags=["REMS"], response_class=HTMLResponse)
def rems_form_page(form_id: uuid.UUID, db: DbSession, principal: Reader) -> HTMLResponse:
    return HTMLResponse(render_html(rems.built(rems.get_form(db, principal, form_id))))


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    submitted_on: date
    method: Literal["online", "fax"]


@router.post("/rems/forms/{form_id}/submitted", response_model=RemsFormOut, tags=["REMS"])
def rems_submitted(
    form_id: uuid.UUID,
    body: Submission,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.rems_submit)],
) -> RemsFormOut:
    form = rems.mark_submitted(
        db,
        principal,
        audit_context(request, principal),
        form_id,
        body.submitted_on,
        body.method,
        utcnow(),
    )
    return _form_out(form, "submitted")

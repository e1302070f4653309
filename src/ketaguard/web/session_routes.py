"""The chair-side screen: one page per session, usable on a tablet.

It shows the session's state and the steps that state allows next; each form posts to a route
that calls the same service as the chair-side API (`sessions/routes.py`) and comes back to the
page, with a refusal shown next to the field it concerns and nothing changed. Two fragments
refresh themselves (vitals with the chart's data, and open alerts) without reloading the page.
"""

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from ketaguard.alerts import service as alerts
from ketaguard.alerts.models import Alert
from ketaguard.audit.service import AuditContext
from ketaguard.auth.deps import audit_context
from ketaguard.auth.permissions import Permission
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.sessions import rems, run
from ketaguard.sessions.models import ReadingSource, SessionStatus
from ketaguard.sessions.schemas_run import RatingIn
from ketaguard.web import session_forms as forms
from ketaguard.web.deps import Viewer, require_page
from ketaguard.web.forms import undone_if_refused
from ketaguard.web.pages import render
from ketaguard.web.session_page import (
    DONE,
    LIVE_STATES,
    Loaded,
    alerts_context,
    allowed,
    load,
    page,
    vitals_context,
)
from ketaguard.web.session_view import device_count, pre_dose_vitals

router = APIRouter(include_in_schema=False)

Runner = Annotated[Viewer, require_page(Permission.session_run)]
VitalsWriter = Annotated[Viewer, require_page(Permission.vitals_write)]
Acknowledger = Annotated[Viewer, require_page(Permission.alert_acknowledge)]
RemsSubmitter = Annotated[Viewer, require_page(Permission.rems_submit)]


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


@router.get("/sessions/{session_id}")
def session_page(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, done: str = ""
) -> Response:
    loaded = load(db, viewer, session_id, Permission.session_run)
    return page(request, db, viewer, loaded, done=DONE.get(done))


@router.get("/sessions/{session_id}/live/vitals")
def live_vitals(
    session_id: uuid.UUID,
    request: Request,
    db: DbSession,
    viewer: Runner,
    revision: int = -1,
    page_status: str = "",
) -> Response:
    loaded = load(db, viewer, session_id, Permission.session_run)
    if loaded.session.revision == revision:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    context = vitals_context(db, loaded, page_status or loaded.session.status.value)
    return render(
        request, "sessions/_vitals_live.html", s=loaded.session, clock=loaded.clock, **context
    )


@router.get("/sessions/{session_id}/live/alerts")
def live_alerts(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, shown: str = ""
) -> Response:
    loaded = load(db, viewer, session_id, Permission.session_run)
    context = alerts_context(db, loaded)
    if context["alerts_key"] == shown:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    return render(
        request,
        "sessions/_alerts_live.html",
        viewer=viewer,
        s=loaded.session,
        clock=loaded.clock,
        can=allowed(viewer, loaded.session.clinic_id),
        errors={},
        values={},
        live=loaded.session.status in LIVE_STATES,
        **context,
    )


Action = Callable[[Loaded, forms.FormReader, AuditContext], object]


def _act(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    session_id: uuid.UUID,
    form: FormData,
    *,
    permission: Permission,
    done: str,
    anchor: str,
    default_field: str,
    action: Action,
    field_prefix: str = "",
    decision_field: str | None = None,
) -> Response:
    """Run one chair-side step; on success back to the page (at `anchor`), on a refusal the
    page again with the refusal next to its field and nothing the step wrote kept."""
    loaded = load(db, viewer, session_id, permission)
    reader = forms.FormReader(form, loaded.clock, utcnow())
    unmet: list[dict[str, Any]] = []
    try:
        with undone_if_refused(db):
            action(loaded, reader, audit_context(request, viewer.principal))
    except forms.FormInvalid as exc:
        errors, status_code = exc.errors, InvalidInput.status_code
    except (Conflict, InvalidInput, Forbidden) as exc:
        status_code = exc.status_code
        # Only a prescriber sees the decision field (run.clear_pre_dose takes it from them only).
        if not allowed(viewer, loaded.session.clinic_id)["decide"]:
            decision_field = None
        errors = forms.refusal_errors(exc, default_field, field_prefix, decision_field)
        unmet = list(exc.details.get("unmet") or [])
        if unmet:
            # The criteria are listed by the form; the summary points there.
            errors = {"discharge-unmet": f"{len(unmet)} of the protocol's criteria are not met"}
            for criterion in unmet:
                if criterion.get("id") == "transport_present":
                    errors["transport-present"] = str(criterion.get("message"))
    else:
        return RedirectResponse(f"/sessions/{session_id}?done={done}#{anchor}", status_code=303)
    return page(
        request,
        db,
        viewer,
        loaded,
        errors=errors,
        values=form,
        status_code=status_code,
        unmet=unmet,
    )


@router.post("/sessions/{session_id}/check-in")
def check_in(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        return run.check_in(db, viewer.principal, context, session_id)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done="checked-in",
        anchor="pre-dose",
        default_field="check-in",
        action=step,
    )


@router.post("/sessions/{session_id}/pre-dose")
def pre_dose(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        definition = loaded.definition
        body = forms.pre_dose(reader, definition, pre_dose_vitals(definition))
        return run.clear_pre_dose(db, viewer.principal, context, session_id, body)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done="pre-dose",
        anchor="dose",
        default_field="pre-dose",
        action=step,
        field_prefix="pre-",
        decision_field="prescriber-decision",
    )


@router.post("/sessions/{session_id}/dose")
def start_dose(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        body = forms.dose_start(reader)
        return run.start_dose(db, viewer.principal, context, session_id, body)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done="dose",
        anchor="dose-complete",
        default_field="dose-mg",
        action=step,
    )


@router.post("/sessions/{session_id}/dose/complete")
def complete_dose(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        session = loaded.session
        devices = device_count(loaded.definition, session.given_dose_mg)
        body = forms.dose_complete(reader, session.dosed_at, devices)
        return run.complete_dose(db, viewer.principal, context, session_id, body)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done="dose-complete",
        anchor="vitals",
        default_field="dose-complete",
        action=step,
    )


@router.post("/sessions/{session_id}/vitals")
def record_vitals(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: VitalsWriter, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        return run.ingest_vitals(
            db,
            viewer.principal,
            context,
            session_id,
            forms.vitals(reader),
            source=ReadingSource.staff,
        )

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.vitals_write,
        done="vitals",
        anchor="vitals",
        default_field="vitals",
        action=step,
        field_prefix="vitals-",
    )


# Each scale's form on the page: how its answers are read, and where its errors are shown.
RATING_FORMS: dict[str, Callable[[forms.FormReader], RatingIn]] = {
    "moaas": forms.rating_moaas,
    "cadss6": forms.rating_cadss6,
}


@router.post("/sessions/{session_id}/ratings/{scale}")
def rate(
    session_id: uuid.UUID,
    scale: Literal["moaas", "cadss6"],
    request: Request,
    db: DbSession,
    viewer: Runner,
    form: PostedForm,
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        body = RATING_FORMS[scale](reader)
        return run.rate(db, viewer.principal, context, session_id, body)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done=scale,
        anchor="ratings",
        default_field=f"{scale}-form",
        action=step,
    )


@router.post("/sessions/{session_id}/adverse-events")
def record_adverse_event(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        body = forms.adverse_event(reader)
        return run.record_adverse_event(db, viewer.principal, context, session_id, body)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done="adverse-event",
        anchor="adverse-events",
        default_field="adverse-event",
        action=step,
    )


@router.post("/sessions/{session_id}/clear")
def prescriber_clears(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        return run.clear_for_discharge(db, viewer.principal, context, session_id)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done="cleared",
        anchor="discharge",
        default_field="clear",
        action=step,
    )


@router.post("/sessions/{session_id}/discharge")
def discharge(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        body = forms.discharge(reader, loaded.definition.rems_required)
        # The API passes the signed-in provider's name the same way (sessions/routes.py).
        provider = viewer.user.full_name
        return run.discharge(db, viewer.principal, context, session_id, body, provider)

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done="discharged",
        anchor="rems",
        default_field="discharge",
        action=step,
    )


def _end_early(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    session_id: uuid.UUID,
    form: FormData,
    target: SessionStatus,
    field: str,
) -> Response:
    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        body = forms.reason(reader, field)
        return run.end_early(db, viewer.principal, context, session_id, target, body.reason)

    done = "no-show" if target is SessionStatus.no_show else "aborted"
    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.session_run,
        done=done,
        anchor="main",
        default_field=field,
        action=step,
    )


@router.post("/sessions/{session_id}/abort")
def abort(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    return _end_early(request, db, viewer, session_id, form, SessionStatus.aborted, "abort-reason")


@router.post("/sessions/{session_id}/no-show")
def no_show(
    session_id: uuid.UUID, request: Request, db: DbSession, viewer: Runner, form: PostedForm
) -> Response:
    return _end_early(
        request, db, viewer, session_id, form, SessionStatus.no_show, "no-show-reason"
    )


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: uuid.UUID,
    request: Request,
    db: DbSession,
    viewer: Acknowledger,
    form: PostedForm,
) -> Response:
    alert = db.get(Alert, alert_id)
    if alert is None or alert.session_id is None:
        raise NotFound("No such alert")
    session_id = alert.session_id
    field = forms.ack_field(alert_id)

    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        return alerts.acknowledge(db, viewer.principal, context, alert_id, reader.text(field))

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.alert_acknowledge,
        done="acknowledged",
        anchor="alerts",
        default_field=field,
        action=step,
    )


@router.post("/rems/forms/{form_id}/submitted")
def rems_submitted(
    form_id: uuid.UUID,
    request: Request,
    db: DbSession,
    viewer: RemsSubmitter,
    form: PostedForm,
) -> Response:
    session_id = rems.get_form(db, viewer.principal, form_id).session_id

    def step(loaded: Loaded, reader: forms.FormReader, context: AuditContext) -> object:
        submitted_on = _date(reader, "rems-submitted-on")
        method = forms.SUBMISSION_METHODS.get(reader.text("rems-method"))
        if method is None:
            reader.errors["rems-method"] = "Choose online or fax"
        reader.done()
        assert submitted_on is not None
        assert method is not None
        return rems.mark_submitted(
            db, viewer.principal, context, form_id, submitted_on, method, utcnow()
        )

    return _act(
        request,
        db,
        viewer,
        session_id,
        form,
        permission=Permission.patient_read,
        done="rems-submitted",
        anchor="rems",
        default_field="rems",
        action=step,
    )


def _date(reader: forms.FormReader, name: str) -> date | None:
    raw = reader.text(name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        reader.errors[name] = "Enter the date, like 2026-03-09"
        return None

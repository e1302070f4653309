"""What the chair-side screen shows: a session with its patient, protocol and clinic clock, the
forms its state allows, its alerts and vitals (the two parts that refresh themselves), and the
words for each field the error summary lists."""

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from starlette.datastructures import FormData

from ketaguard.alerts.models import Alert
from ketaguard.auth.permissions import Permission
from ketaguard.clinics.models import Clinic
from ketaguard.db.session import DbSession
from ketaguard.kit.time import utcnow
from ketaguard.monitoring.vitals import LABELS, UNITS, VITALS
from ketaguard.patients.models import Patient
from ketaguard.protocols.definition import ProtocolDefinition
from ketaguard.rems.form import deadline_state
from ketaguard.screening.instruments.cadss6 import ITEM_MAXIMUM as CADSS_ITEM_MAXIMUM
from ketaguard.screening.instruments.cadss6 import ITEMS as CADSS6_ITEMS
from ketaguard.screening.instruments.moaas import ITEM as MOAAS_ITEM
from ketaguard.sessions import lifecycle, queries, run
from ketaguard.sessions.access import locked_session
from ketaguard.sessions.models import SessionStatus, TreatmentSession
from ketaguard.web import session_forms as forms
from ketaguard.web.deps import Viewer
from ketaguard.web.forms import FieldErrors
from ketaguard.web.pages import render
from ketaguard.web.session_view import (
    OBSERVATION_START_WORDS,
    Clock,
    chart_data,
    chart_json,
    check_hint,
    device_count,
    earliest_device_times,
    fixed_dose,
    latest_readings,
    next_steps,
    observation_ends,
    pre_dose_vitals,
    status_label,
    thresholds,
)

# What the page says after a step succeeded, by the key the redirect carries (a key, so a link
# cannot put words on the page).
DONE: Mapping[str, str] = {
    "checked-in": "Checked in.",
    "pre-dose": "Pre-dose checklist complete: cleared to dose.",
    "dose": "Dose start recorded.",
    "dose-complete": "Dose complete: the observation is running.",
    "vitals": "Readings saved.",
    "moaas": "MOAA/S rating saved.",
    "cadss6": "CADSS-6 rating saved.",
    "adverse-event": "Adverse event recorded.",
    "cleared": "Recorded: a prescriber judges the patient clinically stable.",
    "discharged": "Discharged.",
    "aborted": "The session was stopped.",
    "no-show": "Recorded: the patient did not attend.",
    "acknowledged": "Alert acknowledged.",
    "rems-submitted": "The REMS form is recorded as submitted.",
}
# Form anchors and fields as the error summary names them.
LABELS_FOR_SUMMARY: Mapping[str, str] = {
    "check-in": "Check in",
    "pre-dose": "Pre-dose checklist",
    "pre-moaas": "MOAA/S before dosing",
    "prescriber-decision": "Prescriber's decision",
    "dose": "Dose",
    "dose-mg": "Dose given",
    "lot-number": "Lot number",
    "dose-started-at": "Dose start",
    "dose-complete": "Dose complete",
    "infusion-ended-at": "Infusion end",
    "vitals": "Readings",
    "moaas": "MOAA/S",
    "moaas-form": "MOAA/S",
    "cadss6-form": "CADSS-6",
    "adverse-event": "Adverse event",
    "clear": "Prescriber's judgement",
    "discharge": "Discharge",
    "discharge-unmet": "Not ready to leave",
    "transport-present": "Ride home",
    "rems-ready-minutes": "REMS evaluation question",
    "discharge-ended-at": "Monitoring end",
    "abort-reason": "Reason for stopping",
    "no-show-reason": "Reason",
    "rems": "REMS form",
    "rems-submitted-on": "Submitted on",
    "rems-method": "How it was submitted",
}
SEVERITY_LABELS = {"urgent": "Urgent", "same_day": "Same day", "routine": "Routine"}
SEVERITY_TAGS = {"urgent": "tag-red", "same_day": "tag-amber", "routine": "tag-grey"}
# While a session can still take readings its page refreshes itself; a closed one cannot change.
LIVE_STATES = lifecycle.RECORDING_STATES | {SessionStatus.scheduled}
MOAAS_HINT = (
    "Any drop from the rating before dosing counts as sedation; 0 is loss of consciousness."
)


@dataclass(frozen=True)
class Loaded:
    session: TreatmentSession
    patient: Patient
    clinic: Clinic
    definition: ProtocolDefinition
    clock: Clock


def load(db: DbSession, viewer: Viewer, session_id: uuid.UUID, permission: Permission) -> Loaded:
    """The session if the viewer may act on it with `permission` (404 outside their scope)."""
    session, patient = locked_session(db, viewer.principal, session_id, permission, lock=False)
    clinic = db.get_one(Clinic, session.clinic_id)
    return Loaded(session, patient, clinic, run.protocol_of(db, session), Clock(clinic.timezone))


def summary_labels(definition: ProtocolDefinition, alerts: list[Alert]) -> dict[str, str]:
    """How the error summary names each field of the page, the generated ones included."""
    labels = dict(LABELS_FOR_SUMMARY)
    for vital in VITALS:
        labels[f"pre-{vital}"] = f"{LABELS[vital]} before dosing"
        labels[f"vitals-{vital}"] = LABELS[vital]
    for check in definition.pre_dose_checks:
        labels[f"check-{check.id}"] = f"Pre-dose check: {check.what}"
    for item in CADSS6_ITEMS:
        labels[item.id] = f"CADSS item {item.id.split('-')[1]}"
    for row in range(1, forms.NEW_MEDICATION_ROWS + 1):
        labels[f"med-{row}-name"] = f"Medicine {row}"
        labels[f"med-{row}-class"] = f"Kind of medicine {row}"
    for alert in alerts:
        labels[forms.ack_field(alert.id)] = "Alert"
    return labels


def alerts_key(open_alerts: list[Alert]) -> str:
    """Names the set of open alerts a page shows, so a refresh can tell whether it changed."""
    joined = ",".join(sorted(str(a.id) for a in open_alerts))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def alerts_context(db: DbSession, loaded: Loaded) -> dict[str, Any]:
    everything = queries.alerts_of(db, loaded.session)
    open_alerts = [a for a in everything if a.acknowledged_at is None]
    return {
        "open_alerts": open_alerts,
        "acknowledged_alerts": [a for a in reversed(everything) if a.acknowledged_at is not None],
        "alerts_key": alerts_key(open_alerts),
        "severity_labels": SEVERITY_LABELS,
        "severity_tags": SEVERITY_TAGS,
    }


def vitals_context(db: DbSession, loaded: Loaded, page_status: str) -> dict[str, Any]:
    readings = queries.readings_of(db, loaded.session)
    data = chart_data(loaded.definition, loaded.session, readings, loaded.clock)
    return {
        "live": loaded.session.status in LIVE_STATES,
        "latest": latest_readings(readings),
        "chart_json": chart_json(data),
        "page_status": page_status,
        "status_label": status_label(loaded.session.status),
        "vital_names": LABELS,
        "units": UNITS,
    }


def allowed(viewer: Viewer, clinic_id: uuid.UUID) -> dict[str, bool]:
    """Which parts of the page the viewer may use, by the permission each service checks."""
    can = viewer.principal.can
    return {
        "run": can(Permission.session_run, clinic_id),
        "vitals": can(Permission.vitals_write, clinic_id),
        "acknowledge": can(Permission.alert_acknowledge, clinic_id),
        "rems": can(Permission.rems_submit, clinic_id),
        # A prescriber documents a decision to dose and clears a patient to leave (run.py).
        "decide": can(Permission.plan_approve, clinic_id),
    }


def _shown(session: TreatmentSession) -> dict[str, bool]:
    status, allowed = session.status, lifecycle.TRANSITIONS[session.status]
    return {
        "check_in": SessionStatus.checked_in in allowed,
        "pre_dose": SessionStatus.pre_dose_cleared in allowed,
        "dose": SessionStatus.dosed in allowed,
        "dose_complete": status is SessionStatus.dosed,
        "discharge": status in (SessionStatus.monitoring, SessionStatus.ready_for_discharge),
        "recording": status in lifecycle.RECORDING_STATES,
        "adverse": status in lifecycle.RECORDING_STATES or status is SessionStatus.discharged,
        "abort": SessionStatus.aborted in allowed,
        "no_show": SessionStatus.no_show in allowed,
    }


def _check_hints(definition: ProtocolDefinition) -> dict[str, str]:
    hints: dict[str, str] = {}
    for check in definition.pre_dose_checks:
        parts = [check_hint(check) or "", f"Source: {check.source}."]
        if check.review_locally:
            parts.append("Clinic default: review locally.")
        hints[check.id] = " ".join(p for p in parts if p)
    return hints


def page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    loaded: Loaded,
    *,
    errors: FieldErrors | None = None,
    values: FormData | None = None,
    status_code: int = 200,
    unmet: list[dict[str, Any]] | None = None,
    done: str | None = None,
) -> Response:
    """The whole chair-side page; after a refusal, with the posted `values`, the `errors` next to
    their fields and the discharge criteria still `unmet`."""
    session, definition, clock = loaded.session, loaded.definition, loaded.clock
    can = allowed(viewer, session.clinic_id)
    rems_form = queries.rems_form_of(db, session)
    today = clock.today(utcnow())
    local_day = session.scheduled_at.astimezone(clock.zone).date()
    fixed = fixed_dose(definition)
    alerts_shown = alerts_context(db, loaded)
    return render(
        request,
        "sessions/session.html",
        viewer=viewer,
        status_code=status_code,
        s=session,
        patient=loaded.patient,
        clinic=loaded.clinic,
        definition=definition,
        clock=clock,
        can=can,
        show=_shown(session),
        steps=next_steps(session.status),
        observation_ends=observation_ends(definition, session),
        observation_start_words=OBSERVATION_START_WORDS[
            definition.monitoring.observation_starts_at
        ],
        errors=errors or {},
        values=dict(values.multi_items()) if values is not None else {},
        labels=summary_labels(definition, alerts_shown["open_alerts"]),
        unmet=unmet or [],
        done=done,
        vitals=VITALS,
        vital_labels={v: f"{LABELS[v]} ({UNITS[v]})" for v in VITALS},
        asked_vitals=pre_dose_vitals(definition),
        all_thresholds=thresholds(definition),
        pre_dose_thresholds=thresholds(definition, phase="pre_dose"),
        check_hints=_check_hints(definition),
        pregnancy_options=[
            ("no", "Not pregnant"),
            ("yes", "Pregnant"),
            ("not_applicable", "Not applicable"),
        ],
        medication_rows=range(1, forms.NEW_MEDICATION_ROWS + 1),
        medication_classes=[(c.value, label) for c, label in forms.MEDICATION_CLASS_LABELS.items()],
        moaas_options=[
            (option.value, f"{option.value}: {option.label}")
            for option in reversed(MOAAS_ITEM.options)
        ],
        moaas_hint=MOAAS_HINT,
        cadss_items=CADSS6_ITEMS,
        cadss_options=[(n, str(n)) for n in range(CADSS_ITEM_MAXIMUM + 1)],
        scale_names={"moaas": "MOAA/S", "cadss6": "CADSS-6"},
        ratings=queries.ratings_of(db, session),
        events=queries.adverse_events_of(db, session),
        event_labels=forms.ADVERSE_EVENT_LABELS,
        event_types=[(t.value, label) for t, label in forms.ADVERSE_EVENT_LABELS.items()],
        severities=[("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe")],
        yes_no=[("no", "No"), ("yes", "Yes")],
        outcomes=[
            ("resolved", "Resolved"),
            ("resolving", "Resolving"),
            ("not_resolved", "Not resolved"),
            ("unknown", "Unknown"),
        ],
        adverse_open=bool(errors and any(k.startswith(("ae-", "adverse")) for k in errors)),
        fixed=fixed,
        planned_devices=device_count(definition, session.planned_dose_mg),
        device_times=earliest_device_times(definition, session),
        rems_form=rems_form,
        rems_state=(
            deadline_state(rems_form.due_on, today, rems_form.submitted_on) if rems_form else None
        ),
        rems_methods=[(m, m.capitalize()) for m in forms.SUBMISSION_METHODS],
        today=today.isoformat(),
        session_day=local_day.isoformat(),
        session_day_date=local_day,
        **alerts_shown,
        **vitals_context(db, loaded, session.status.value),
    )

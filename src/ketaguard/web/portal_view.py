"""What the patient portal shows a patient about themselves: their upcoming sessions, the
check-ins due, and their own trend and history, in the clinic's timezone and in plain words.

Every read goes through the patient's own account (never the staff scoping) and is audited like
the patient-facing API's reads (`own_record`)."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import get_args
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.principal import Principal
from ketaguard.checkins import outcomes as outcome_rules
from ketaguard.checkins import service as checkins
from ketaguard.checkins.models import Checkin, CheckinDue, DueAnchor
from ketaguard.checkins.schemas import CRAVING_MAX
from ketaguard.clinics.models import Clinic
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans.models import TreatmentPlan
from ketaguard.plans.queries import latest_approved_plan
from ketaguard.protocols.definition import Drug, ProtocolDefinition, Route
from ketaguard.protocols.service import definition_by_id
from ketaguard.screening.instruments import get_instrument
from ketaguard.sessions.models import SessionStatus, TreatmentSession
from ketaguard.web.trends import TrendChart, TrendLine, TrendPoint

# How the portal names what happens at a session, by the protocol's drug and route.
DRUG_WORDS = {"esketamine": "Esketamine", "racemic_ketamine": "Ketamine"}
ROUTE_WORDS = {
    "intranasal": "nasal spray",
    "iv": "infusion (a drip into a vein)",
    "im": "injection",
    "oral_sublingual": "tablet or lozenge",
}
assert set(DRUG_WORDS) == set(get_args(Drug))
assert set(ROUTE_WORDS) == set(get_args(Route))
# How many past check-ins the portal lists (the chart shows them all).
HISTORY_SHOWN = 8

Formatter = Callable[[datetime | None], str]


def patient_time(zone: ZoneInfo) -> Formatter:
    """An instant as a patient reads it: "Tuesday 8 December 2026, 09:00 CST"."""

    def shown(value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(zone)
        return f"{local:%A} {local.day} {local:%B %Y, %H:%M %Z}"

    return shown


def own_patient(db: Session, principal: Principal) -> tuple[Patient, ZoneInfo]:
    assert principal.patient_id is not None
    patient = db.get_one(Patient, principal.patient_id)
    return patient, ZoneInfo(db.get_one(Clinic, patient.clinic_id).timezone)


@dataclass(frozen=True)
class SessionShown:
    id: uuid.UUID
    at: datetime
    kind: str
    status: SessionStatus


def session_kind(definition: ProtocolDefinition) -> str:
    return f"{DRUG_WORDS[definition.drug]} {ROUTE_WORDS[definition.route]}"


def own_sessions(
    db: Session, principal: Principal, context: AuditContext, patient: Patient
) -> list[SessionShown]:
    """Every session booked for the patient and not cancelled, in time order, with what kind it
    is; audited."""
    assert principal.patient_id == patient.id
    rows = db.execute(
        select(TreatmentSession, TreatmentPlan.protocol_version_id)
        .join(TreatmentPlan, TreatmentPlan.id == TreatmentSession.plan_id)
        .where(
            TreatmentSession.patient_id == patient.id,
            TreatmentSession.status != SessionStatus.cancelled,
        )
        .order_by(TreatmentSession.scheduled_at)
    ).all()
    record(
        db,
        context,
        "session.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_session",
        detail={"count": len(rows), "own_record": True},
    )
    kinds: dict[uuid.UUID, str] = {}
    for _, version_id in rows:
        if version_id not in kinds:
            kinds[version_id] = session_kind(definition_by_id(db, version_id))
    return [
        SessionShown(
            id=session.id, at=session.scheduled_at, kind=kinds[version_id], status=session.status
        )
        for session, version_id in rows
    ]


def upcoming(sessions: Sequence[SessionShown], zone: ZoneInfo) -> list[SessionShown]:
    """The sessions still to come: booked, from the start of today in the clinic."""
    today = datetime.combine(utcnow().astimezone(zone).date(), time(), zone)
    return [s for s in sessions if s.status is SessionStatus.scheduled and s.at >= today]


@dataclass(frozen=True)
class DueShown:
    id: uuid.UUID
    title: str
    opens_at: datetime
    closes_at: datetime
    open: bool
    parts: list[str]


# What each part of a check-in is about, for a patient.
PART_WORDS = {
    "phq9": "your mood",
    "craving": "cravings",
    "substance_use": "use of ketamine or other drugs",
    "withdrawal": "how you have felt physically and emotionally",
    "urinary": "your bladder",
    "icsi": "bladder symptoms questionnaire",
    "memory": "your memory",
    "sds": "how much you rely on ketamine",
}


def due_title(due: CheckinDue, sessions: dict[uuid.UUID, SessionShown], when: Formatter) -> str:
    session = sessions.get(due.session_id) if due.session_id is not None else None
    if due.anchor is DueAnchor.before_session:
        return f"Before your session on {when(session.at)}" if session else "Before your session"
    if due.anchor is DueAnchor.after_dose:
        return f"After your session on {when(session.at)}" if session else "After your session"
    return "Your weekly check-in"


def shown_dues(
    dues: Sequence[CheckinDue], sessions: dict[uuid.UUID, SessionShown], when: Formatter
) -> list[DueShown]:
    now = utcnow()
    return [
        DueShown(
            id=due.id,
            title=due_title(due, sessions, when),
            opens_at=due.opens_at,
            closes_at=due.closes_at,
            open=checkins.is_open(due, now),
            parts=[PART_WORDS.get(part, part) for part in due.items],
        )
        for due in dues
        # A pending check-in whose time is over waits for the worker to mark it missed.
        if due.closes_at > now
    ]


@dataclass(frozen=True)
class CheckinShown:
    id: uuid.UUID
    completed_at: datetime
    phq9_total: int | None
    craving: int | None
    used_outside_sessions: bool | None
    by_staff: bool


@dataclass(frozen=True)
class Trend:
    mood: TrendChart
    craving: TrendChart
    baseline: int | None
    history: list[CheckinShown]


def _baseline(db: Session, context: AuditContext, patient: Patient) -> int | None:
    """The PHQ-9 total the latest approved plan's signed eligibility decision was made on (the
    baseline of checkins/outcomes.py); audited when there is one."""
    plan = latest_approved_plan(db, patient.id)
    response = checkins.baseline_phq9(db, plan) if plan is not None else None
    if response is None:
        return None
    record(
        db,
        context,
        "screening.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="screening_response",
        resource_id=response.id,
        detail={"instrument": "phq9", "baseline": True, "own_record": True},
    )
    return response.total


def mood_lines(baseline: int | None) -> list[TrendLine]:
    """The PHQ-9 references of checkins/outcomes.py, worded for the patient."""
    lines = [
        TrendLine(
            value=outcome_rules.REMISSION_BELOW,
            label=f"Below {outcome_rules.REMISSION_BELOW}: few or no symptoms (remission)",
        )
    ]
    if baseline:
        fall = outcome_rules.RESPONSE_FALL
        lines.append(
            TrendLine(
                value=float(baseline * (1 - fall)),
                label=f"{int(fall * 100)}% below your starting score (response)",
            )
        )
    return lines


def own_trend(db: Session, principal: Principal, context: AuditContext, patient: Patient) -> Trend:
    """The patient's PHQ-9 totals and craving over time, and their latest check-ins; audited by
    the same service the API's history uses."""
    rows = checkins.own_checkins(db, principal, context)
    totals = checkins.questionnaire_totals(db, rows)
    trend = checkins.trend_of(rows, totals)
    phq9 = get_instrument("phq9")
    assert phq9.total_range is not None
    low, high = phq9.total_range
    baseline = _baseline(db, context, patient)
    mood = TrendChart(
        key="mood",
        title="Your mood questionnaire (PHQ-9) over time",
        axis=f"PHQ-9 score ({low}-{high}, lower is better)",
        points=[TrendPoint(at, total) for at, total, _, _ in trend if total is not None],
        y_min=low,
        y_max=high,
        lines=mood_lines(baseline),
    )
    craving = TrendChart(
        key="craving",
        title="Your cravings over time",
        axis=f"Craving (0-{CRAVING_MAX}, 0 is none)",
        points=[TrendPoint(at, value) for at, _, value, _ in trend if value is not None],
        y_min=0,
        y_max=CRAVING_MAX,
    )
    return Trend(mood=mood, craving=craving, baseline=baseline, history=_history(rows, totals))


def _history(rows: list[Checkin], totals: dict[uuid.UUID, int | None]) -> list[CheckinShown]:
    latest = sorted(rows, key=lambda c: c.completed_at, reverse=True)[:HISTORY_SHOWN]
    return [
        CheckinShown(
            id=checkin.id,
            completed_at=checkin.completed_at,
            phq9_total=totals.get(checkin.phq9_response_id) if checkin.phq9_response_id else None,
            craving=checkin.craving,
            used_outside_sessions=checkin.used_outside_sessions,
            by_staff=checkin.completed_by.value == "staff",
        )
        for checkin in latest
    ]

"""Building a patient's course on the database through the services the API uses: screening and
a signed decision, a plan, sessions run from check-in to dose, check-ins, requests, and the
clinic's dependence settings. Every number is a synthetic test value, not a recommendation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.auth.principal import Principal
from ketaguard.auth.service import principal_for_user
from ketaguard.checkins.models import Checkin
from ketaguard.checkins.schemas import CheckinCreate
from ketaguard.checkins.service import submit_checkin
from ketaguard.dependence import service
from ketaguard.dependence.models import DependenceReview, DependenceSignal, SignalState
from ketaguard.dependence.schemas import SettingsIn
from ketaguard.intake.schemas import IntakeData
from ketaguard.intake.service import record_intake
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans import requests
from ketaguard.plans.models import PlanStatus, RequestDecision, RequestKind, TreatmentPlan
from ketaguard.plans.schemas import Goal, PlanCreate, RequestCreate
from ketaguard.plans.service import TREATABLE, change_status, create_plan
from ketaguard.protocols.loader import load_builtin
from ketaguard.screening import decisions
from ketaguard.screening.schemas import ResponseCreate, SignOff
from ketaguard.screening.service import administer
from ketaguard.sessions import booking, run
from ketaguard.sessions.models import TreatmentSession
from ketaguard.sessions.schemas import BookingRequest
from ketaguard.sessions.schemas_run import DoseComplete, DoseStart, PreDoseIn
from tests.factories import INTAKE, Personas

CONTEXT = AuditContext()
NO_URINARY = {
    "daytime_frequency": False,
    "nocturia": False,
    "urgency": False,
    "dysuria": False,
    "haematuria": False,
    "bladder_pain": False,
}

# The clinic's numbers used in these tests (the same as tests.dependence.scenarios.THRESHOLDS).
SETTINGS = {
    "craving_threshold": 7,
    "craving_rising_reports": 3,
    "rising_dose_sessions": 3,
    "repeated_requests": 2,
    "repeated_requests_days": 30,
    "sds_rising_scores": 2,
    "icsi_rising_scores": 3,
    "phq9_fading_rise_points": None,
    "review_due_hours": 72,
    "urgent_review_due_hours": 4,
    "medical_lead_id": None,
}


def spread(total: int, items: Sequence[str], most: int) -> dict[str, int]:
    """Answers adding up to ``total``, filling items in order up to ``most`` each."""
    answers, left = {}, total
    for item in items:
        answers[item] = min(most, left)
        left -= answers[item]
    assert left == 0, f"{total} does not fit {len(items)} items of at most {most}"
    return answers


def phq9(total: int) -> dict[str, int]:
    """Item 9 (self-harm) is always 0 here: a positive one raises a safety alert."""
    return {**spread(total, [f"phq9-{n}" for n in range(1, 9)], 3), "phq9-9": 0}


def icsi(total: int) -> dict[str, int]:
    return spread(total, [f"icsi-{n}" for n in range(1, 5)], 5)


def sds(total: int) -> dict[str, int]:
    return spread(total, [f"sds-{n}" for n in range(1, 6)], 3)


def set_settings(db: Session, personas: Personas, **changes: Any) -> None:
    prescriber = principal_for_user(db, personas.prescriber_a, None)
    body = SettingsIn.model_validate({**SETTINGS, **changes})
    service.update_settings(db, prescriber, CONTEXT, personas.clinic_a.id, body)


@dataclass
class Course:
    db: Session
    personas: Personas
    patient: Patient
    plan: TreatmentPlan
    start: date
    protocol: str

    @property
    def nurse(self) -> Principal:
        return principal_for_user(self.db, self.personas.nurse_a, None)

    @property
    def prescriber(self) -> Principal:
        return principal_for_user(self.db, self.personas.prescriber_a, None)

    def local(self, day: float) -> datetime:
        """09:00 in the clinic on the plan's ``day`` (0: its first day), as a naive wall time."""
        return datetime.combine(self.start, time(9)) + timedelta(days=day)

    def at(self, day: float, minutes: int = 0) -> datetime:
        zone = ZoneInfo(self.personas.clinic_a.timezone)
        return self.local(day).replace(tzinfo=zone) + timedelta(minutes=minutes)

    def book(self, day: float, dose: float | None = None, *, override: str | None = None) -> Any:
        who = self.prescriber if override else self.nurse
        body = BookingRequest(local_start=self.local(day), dose_mg=dose, override_reason=override)
        return booking.book(self.db, who, CONTEXT, self.plan.id, body)

    def pre_dose(
        self, session: TreatmentSession, day: float, *, craving: int | None, use: str | None
    ) -> None:
        run.check_in(self.db, self.nurse, CONTEXT, session.id)
        vitals = {
            "systolic_bp": 126,
            "diastolic_bp": 80,
            "heart_rate": 72,
            "spo2": 98,
            "respiratory_rate": 14,
        }
        checks = {check.id: True for check in load_builtin()[self.protocol].pre_dose_checks}
        body = PreDoseIn.model_validate(
            {
                "checks": checks,
                "vitals": [
                    {"vital": v, "value": x, "measured_at": self.at(day, 5).isoformat()}
                    for v, x in vitals.items()
                ],
                "moaas": 5,
                "craving": craving,
                "substance_use_since_last_session": use,
            }
        )
        run.clear_pre_dose(self.db, self.nurse, CONTEXT, session.id, body)

    def dose(
        self,
        day: float,
        dose: float,
        *,
        craving: int | None = None,
        use: str | None = None,
        override: str | None = None,
    ) -> TreatmentSession:
        """Book a session on ``day`` and run it to the end of the dose, as the chair-side API
        would: check-in, pre-dose checklist, dose, dose complete."""
        session = self.book(day, dose, override=override)
        self.pre_dose(session, day, craving=craving, use=use)
        return self.give(session, day, dose)

    def give(self, session: TreatmentSession, day: float, dose: float) -> TreatmentSession:
        """Give a cleared session's dose on ``day`` and complete it."""
        started = self.at(day, 15)
        body = DoseStart(dose_mg=dose, lot_number="LOT-TEST", started_at=started)
        run.start_dose(self.db, self.nurse, CONTEXT, session.id, body)
        if self.protocol.startswith("esketamine"):
            devices = [started + timedelta(minutes=5 * n) for n in range(round(dose / 28))]
            complete = DoseComplete(device_times=devices)
        else:
            complete = DoseComplete(infusion_ended_at=started + timedelta(minutes=40))
        run.complete_dose(self.db, self.nurse, CONTEXT, session.id, complete)
        return session

    def check_in(self, day: float, **parts: Any) -> Checkin:
        """A check-in the patient gave the nurse on ``day``; parts as the API takes them, with
        totals for phq9, icsi and sds."""
        answers = dict(parts)
        for name, answer in (("phq9", phq9), ("icsi", icsi), ("sds", sds)):
            if name in answers:
                answers[name] = answer(answers[name])
        body = CheckinCreate.model_validate(
            {"completed_at": self.at(day, 60).isoformat(), **answers}
        )
        return submit_checkin(self.db, self.nurse, CONTEXT, self.patient.id, body).checkin

    def ask(self, day: float, kind: RequestKind, decision: RequestDecision | None = None) -> None:
        request = requests.record_request(
            self.db,
            self.nurse,
            CONTEXT,
            self.plan.id,
            RequestCreate(kind=kind, details="Asked at the desk", requested_at=self.at(day)),
        )
        if decision is not None:
            requests.decide(
                self.db, self.prescriber, CONTEXT, request.id, decision, "Reviewed the request"
            )

    def open_signals(self) -> list[DependenceSignal]:
        return list(
            self.db.scalars(
                select(DependenceSignal).where(
                    DependenceSignal.patient_id == self.patient.id,
                    DependenceSignal.state == SignalState.open,
                )
            )
        )

    def reviews(self) -> list[DependenceReview]:
        return list(
            self.db.scalars(
                select(DependenceReview).where(DependenceReview.patient_id == self.patient.id)
            )
        )


def enrol(
    db: Session,
    personas: Personas,
    *,
    patient: Patient | None = None,
    protocol: str = "esketamine-trd",
    start_days_ago: int = 70,
    phq9_total: int = 20,
    dast10_yes: frozenset[int] = frozenset(),
    auditc: tuple[int, int, int] = (1, 0, 0),
    sds_total: int | None = 1,
    substance_use: list[dict[str, Any]] | None = None,
    weight_kg: float = 70.0,
) -> Course:
    """A patient screened a week before the plan's start, signed eligible, on an approved plan
    that started ``start_days_ago`` local days ago."""
    patient = patient or personas.patient_a
    personas.clinic_a.screening_valid_days = start_days_ago + 30
    nurse = principal_for_user(db, personas.nurse_a, None)
    prescriber = principal_for_user(db, personas.prescriber_a, None)
    zone = ZoneInfo(personas.clinic_a.timezone)
    start = utcnow().astimezone(zone).date() - timedelta(days=start_days_ago)
    intake = {
        **INTAKE,
        "weight": {"kg": weight_kg, "measured_on": (start - timedelta(days=7)).isoformat()},
        "substance_use": substance_use or [],
    }
    record_intake(db, nurse, CONTEXT, patient.id, IntakeData.model_validate(intake), None)
    screened = datetime.combine(start - timedelta(days=7), time(10), tzinfo=zone)
    screenings = {
        "phq9": phq9(phq9_total),
        "cssrs-screen": {"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 0},
        # Item 3 is reverse-scored: answering 1 ("always able to stop") scores nothing.
        "dast10": {f"dast10-{n}": int(n in dast10_yes or n == 3) for n in range(1, 11)},
        "audit-c": {f"auditc-{n}": v for n, v in enumerate(auditc, start=1)},
    }
    if sds_total is not None:
        screenings["sds"] = sds(sds_total)
    for instrument, answers in screenings.items():
        body = ResponseCreate(instrument=instrument, answers=answers, completed_at=screened)
        administer(db, nurse, CONTEXT, patient.id, body)
    decision = decisions.compute(db, nurse, CONTEXT, patient.id)
    sign_off = SignOff()
    if decision.computed_eligibility not in TREATABLE:
        sign_off = SignOff(eligibility="eligible", reason="Reviewed in clinic; test course")
    decisions.sign_off(db, prescriber, CONTEXT, patient.id, decision.id, sign_off)
    goals = [Goal(kind="phq9_response", description="PHQ-9 halved", by_week=4)]
    plan = create_plan(
        db,
        prescriber,
        CONTEXT,
        patient.id,
        PlanCreate(protocol=protocol, start_date=start, goals=goals),
    )
    change_status(db, prescriber, CONTEXT, plan.id, PlanStatus.active, "Eligible; start")
    return Course(db, personas, patient, plan, start, protocol)


def ketamine_use(course: Course, day: int, amount: str = "a bump") -> dict[str, Any]:
    """A check-in's report of ketamine used outside the clinic on the plan's ``day``."""
    used_on = (course.start + timedelta(days=day)).isoformat()
    return {
        "used": True,
        "entries": [{"substance": "ketamine", "used_on": used_on, "amount": amount}],
    }


def urinary(*present: str) -> dict[str, bool]:
    return {**NO_URINARY, **{symptom: True for symptom in present}}

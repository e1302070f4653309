"""Demo check-ins: an improving course after each dose, a maintenance patient in remission, one
missed, one reporting use outside sessions, and reminders waiting in the outbox. Synthetic;
everything goes through the services the API and the worker use.

Check-ins before today are generated as of the dose or week they belong to, as the hooks and the
worker would have generated them then (the demo's sessions were run after the fact)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.auth.models import User
from ketaguard.auth.principal import Principal
from ketaguard.auth.service import principal_for_user
from ketaguard.checkins.dues import sync_session_dues, sync_weekly_due
from ketaguard.checkins.models import CheckinDue, DueStatus
from ketaguard.checkins.schedule import local_midnight, plan_week
from ketaguard.checkins.schemas import CheckinCreate
from ketaguard.checkins.service import submit_checkin
from ketaguard.checkins.worker import run_checkin_jobs
from ketaguard.kit.demo import DemoContext, acting_as
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.sessions.models import TreatmentSession

NO_URINARY_SYMPTOMS = {
    "daytime_frequency": False,
    "nocturia": False,
    "urgency": False,
    "dysuria": False,
    "haematuria": False,
    "bladder_pain": False,
}


def _phq9(total: int) -> dict[str, int]:
    """Answers adding up to `total` over items 1-8; item 9 (self-harm) is 0 in every demo."""
    answers, left = {}, total
    for n in range(1, 9):
        answers[f"phq9-{n}"] = min(3, left)
        left -= answers[f"phq9-{n}"]
    return {**answers, "phq9-9": 0}


def _answers(items: list[str], phq9_total: int, *, craving: int, anxiety: str) -> dict[str, Any]:
    """A benign check-in: the parts the due asks for, answered."""
    parts: dict[str, Any] = {
        "phq9": _phq9(phq9_total),
        "craving": craving,
        "substance_use": {"used": False},
        "withdrawal": {
            "anxiety": anxiety,
            "low_mood": "mild" if phq9_total > 9 else "none",
            "fatigue": "mild",
            "abdominal_pain": "none",
        },
        "urinary": NO_URINARY_SYMPTOMS,
        "memory": "none",
        "sds": {"sds-1": 0, "sds-2": 1, "sds-3": 0, "sds-4": 0, "sds-5": 0},
    }
    return {item: parts[item] for item in items}


def _plan(db: Session, patient: Patient, status: PlanStatus) -> TreatmentPlan:
    plan = db.scalars(
        select(TreatmentPlan)
        .where(TreatmentPlan.patient_id == patient.id, TreatmentPlan.status == status)
        .order_by(TreatmentPlan.created_at.desc())
    ).first()
    assert plan is not None, f"the plans demo gives {patient.record_number} a {status} plan"
    return plan


def _closed_dues(db: Session, plan: TreatmentPlan, now: datetime) -> list[CheckinDue]:
    return list(
        db.scalars(
            select(CheckinDue)
            .where(
                CheckinDue.plan_id == plan.id,
                CheckinDue.status == DueStatus.pending,
                CheckinDue.closes_at <= now,
            )
            .order_by(CheckinDue.opens_at)
        )
    )


def _complete(
    db: Session,
    who: Principal,
    patient: Patient,
    due: CheckinDue,
    phq9_total: int,
    *,
    craving: int,
    anxiety: str = "none",
    hours_in: int = 3,
) -> None:
    body = CheckinCreate.model_validate(
        {
            "due_id": str(due.id),
            "completed_at": (due.opens_at + timedelta(hours=hours_in)).isoformat(),
            **_answers(due.items, phq9_total, craving=craving, anxiety=anxiety),
        }
    )
    submit_checkin(db, who, acting_as(who), patient.id, body)


def _sam(db: Session, ctx: DemoContext, now: datetime) -> None:
    """Induction under way: a check-in 24 hours, 72 hours and 7 days after each dose, mostly done
    by Sam in the portal, PHQ-9 falling from a baseline of 15 to a response; two were missed."""
    patient = ctx.patients["DT-0003"]
    plan = _plan(db, patient, PlanStatus.active)
    dosed = db.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.plan_id == plan.id, TreatmentSession.dosed_at.is_not(None))
        .order_by(TreatmentSession.dosed_at)
    ).all()
    for session in dosed:
        assert session.dosed_at is not None
        sync_session_dues(db, session, session.dosed_at)
    account = db.scalars(select(User).where(User.patient_id == patient.id)).one()
    sam = principal_for_user(db, account, None)
    phq9_course = iter((11, 7, 6, 5))
    closed = _closed_dues(db, plan, now)
    for n, due in enumerate(closed):
        # Two left undone, for the worker to mark missed.
        if n in (2, len(closed) - 2):
            continue
        total = next(phq9_course, 5) if "phq9" in due.items else 0
        craving, anxiety = (2, "mild") if n < 3 else (1, "none")
        _complete(db, sam, patient, due, total, craving=craving, anxiety=anxiety)


def _casey(db: Session, ctx: DemoContext, now: datetime) -> None:
    """Maintenance: last week's weekly check-in, given to the nurse by phone, in remission; this
    week's is open (Casey has no portal account, so no reminder goes out)."""
    patient = ctx.patients["DT-0004"]
    plan = _plan(db, patient, PlanStatus.active)
    timezone = ctx.clinics["downtown"].timezone
    last_week = plan_week(plan.start_date, now, timezone) - 1
    as_of = local_midnight(plan.start_date + timedelta(days=7 * (last_week - 1)), timezone)
    nurse = principal_for_user(db, ctx.staff["nurse.downtown"], None)
    for due in sync_weekly_due(db, plan, as_of):
        _complete(db, nurse, patient, due, 4, craving=0, hours_in=14)


def _robin(db: Session, ctx: DemoContext, now: datetime) -> None:
    """Paused plan: a check-in taken by the nurse reporting ketamine use outside sessions, with
    craving and new urinary urgency: what the dependence watch looks at."""
    patient = ctx.patients["DT-0005"]
    nurse = principal_for_user(db, ctx.staff["nurse.downtown"], None)
    used_on = (now - timedelta(days=3)).date()
    body = CheckinCreate.model_validate(
        {
            "completed_at": (now - timedelta(days=1)).isoformat(),
            "craving": 6,
            "substance_use": {
                "used": True,
                "entries": [
                    {"substance": "ketamine", "used_on": used_on.isoformat(), "amount": "a bump"}
                ],
            },
            "withdrawal": {
                "anxiety": "moderate",
                "low_mood": "mild",
                "fatigue": "mild",
                "abdominal_pain": "none",
            },
            "urinary": {**NO_URINARY_SYMPTOMS, "urgency": True, "daytime_frequency": True},
            "note": "Told the nurse by phone; agreed to come in to talk it through.",
        }
    )
    submit_checkin(db, nurse, acting_as(nurse), patient.id, body)


def _jamie(db: Session, ctx: DemoContext) -> None:
    """After the IV infusion: the 24-hour check-in came and went unanswered (missed)."""
    patient = ctx.patients["HB-0002"]
    plan = _plan(db, patient, PlanStatus.active)
    for session in db.scalars(
        select(TreatmentSession).where(
            TreatmentSession.plan_id == plan.id, TreatmentSession.dosed_at.is_not(None)
        )
    ):
        assert session.dosed_at is not None
        sync_session_dues(db, session, session.dosed_at)


def checkins_demo(db: Session, ctx: DemoContext) -> None:
    now = utcnow()
    _sam(db, ctx, now)
    _casey(db, ctx, now)
    _robin(db, ctx, now)
    _jamie(db, ctx)
    # What the worker would do now: mark the missed ones and queue reminders for the open ones.
    run_checkin_jobs(db, now)

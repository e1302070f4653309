"""The worker's check-in jobs: open each active plan's weekly check-in, mark the check-ins whose
window closed as missed, and queue reminders for the open ones. All in the worker's transaction;
sending the reminders is the outbox's separate step (checkins.outbox.deliver_pending)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.checkins.dues import mark_missed, sync_weekly_due
from ketaguard.checkins.models import CheckinDue
from ketaguard.checkins.outbox import WORKER
from ketaguard.checkins.reminders import queue_reminders
from ketaguard.plans.models import PlanStatus, TreatmentPlan


@dataclass(frozen=True)
class CheckinRun:
    weekly: int
    missed: int
    reminders: int


def generate_weekly(db: Session, context: AuditContext, now: datetime) -> list[CheckinDue]:
    added: list[CheckinDue] = []
    for plan in db.scalars(select(TreatmentPlan).where(TreatmentPlan.status == PlanStatus.active)):
        for due in sync_weekly_due(db, plan, now):
            record(
                db,
                context,
                "checkin.due",
                patient_id=due.patient_id,
                clinic_id=due.clinic_id,
                resource_type="checkin_due",
                resource_id=due.id,
                detail={"slot": due.slot, "items": due.items},
            )
            added.append(due)
    return added


def run_checkin_jobs(db: Session, now: datetime) -> CheckinRun:
    weekly = generate_weekly(db, WORKER, now)
    missed = mark_missed(db, WORKER, now)
    reminders = queue_reminders(db, WORKER, now)
    return CheckinRun(weekly=len(weekly), missed=len(missed), reminders=len(reminders))

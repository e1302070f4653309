"""The worker's jobs: escalate alerts nobody acknowledged, notice vital-sign checks that were due
but never recorded, the check-in jobs (checkins.worker) and the dependence jobs (dependence.worker:
overdue reviews, referral follow-ups). All are safe to run from several workers at once: each
claim is one conditional UPDATE that only one of them can win."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.audit.service import AuditContext, record
from ketaguard.checkins.worker import run_checkin_jobs
from ketaguard.config import Settings
from ketaguard.dependence.worker import run_dependence_jobs
from ketaguard.monitoring.rules import missed_readings
from ketaguard.monitoring.vitals import Reading
from ketaguard.sessions import lifecycle
from ketaguard.sessions.models import TreatmentSession, VitalReading
from ketaguard.sessions.run import protocol_of, raise_findings

WORKER = AuditContext(actor_role="worker", address="worker", user_agent="ketaguard worker")


@dataclass(frozen=True)
class WorkerRun:
    escalated: int
    missed: int
    # Check-ins: weekly ones opened, ones marked missed, reminders queued in the outbox.
    checkins_opened: int
    checkins_missed: int
    reminders_queued: int
    # The dependence watch: overdue reviews escalated, referral follow-up reminders queued.
    reviews_escalated: int
    referral_reminders: int


def escalate_due(db: Session, now: datetime, after: timedelta) -> list[Alert]:
    claimed_ids = db.scalars(
        update(Alert)
        .where(
            Alert.acknowledged_at.is_(None),
            Alert.escalated_at.is_(None),
            Alert.raised_at <= now - after,
        )
        .values(escalated_at=now)
        .returning(Alert.id)
    ).all()
    escalated = list(db.scalars(select(Alert).where(Alert.id.in_(claimed_ids))))
    for alert in escalated:
        record(
            db,
            WORKER,
            "alert.escalate",
            patient_id=alert.patient_id,
            clinic_id=alert.clinic_id,
            resource_type="alert",
            resource_id=alert.id,
            detail={"rule": alert.rule, "minutes_unacknowledged": after.total_seconds() // 60},
        )
    return escalated


def raise_missed_readings(db: Session, now: datetime, grace_minutes: int) -> list[Alert]:
    raised: list[Alert] = []
    running = db.scalars(
        select(TreatmentSession).where(TreatmentSession.status.in_(lifecycle.AFTER_DOSE_STATES))
    )
    for session in running:
        if session.dosed_at is None:
            continue
        by_vital: dict[str, list[Reading]] = defaultdict(list)
        for row in db.scalars(select(VitalReading).where(VitalReading.session_id == session.id)):
            by_vital[row.vital].append(
                Reading(vital=row.vital, value=row.value, measured_at=row.measured_at)  # type: ignore[arg-type]
            )
        findings = missed_readings(
            protocol_of(db, session),
            session.dosed_at,
            by_vital,  # type: ignore[arg-type]
            now,
            grace_minutes=grace_minutes,
            infusion_ended_at=session.infusion_ended_at,
        )
        raised.extend(raise_findings(db, session, findings))
    return raised


def run_once(db: Session, settings: Settings, now: datetime) -> WorkerRun:
    escalated = escalate_due(db, now, timedelta(minutes=settings.alert_escalation_minutes))
    missed = raise_missed_readings(db, now, settings.missed_reading_grace_minutes)
    checkins = run_checkin_jobs(db, now)
    dependence = run_dependence_jobs(db, now)
    return WorkerRun(
        escalated=len(escalated),
        missed=len(missed),
        checkins_opened=checkins.weekly,
        checkins_missed=checkins.missed,
        reminders_queued=checkins.reminders,
        reviews_escalated=dependence.escalated,
        referral_reminders=dependence.referral_reminders,
    )

"""The worker's dependence jobs: escalate reviews left undecided past their due time, and remind
staff of referrals whose follow-up date has come.

Each claim is one conditional UPDATE that only one worker can win (``escalated_at`` from NULL; a
referral's ``reminded_for`` to its current follow-up date), so two workers never escalate a review
or remind of a follow-up twice. Messages leave through the outbox after the worker's transaction
commits, and say nothing clinical: they go over e-mail.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert, AlertSeverity
from ketaguard.alerts.service import raise_alert
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.models import User
from ketaguard.checkins import outbox
from ketaguard.checkins.models import OutboxChannel, OutboxMessage
from ketaguard.checkins.outbox import WORKER
from ketaguard.clinics.models import Clinic, Membership, Role
from ketaguard.dependence.models import DependenceReview, Referral, ReviewStatus
from ketaguard.dependence.referrals import OPEN
from ketaguard.dependence.settings import CLINIC_SETTING_SOURCE, settings_of
from ketaguard.dependence.signals import Severity

ESCALATION_RULE = "dependence.review_overdue"
ESCALATION_SUBJECT = "A task in ketaguard is overdue"
ESCALATION_BODY = (
    "Hello,\n\n"
    "A task in ketaguard that you are responsible for is past its due time. Please log in to "
    "see it.\n\n"
    "This message was sent automatically; replies are not read."
)
FOLLOW_UP_SUBJECT = "A follow-up is due in ketaguard"
FOLLOW_UP_BODY = (
    "Hello,\n\n"
    "A follow-up you are responsible for is due today or earlier. Please log in to see it.\n\n"
    "This message was sent automatically; replies are not read."
)


@dataclass(frozen=True)
class DependenceRun:
    escalated: int
    referral_reminders: int


def escalation_recipients(db: Session, clinic_id: uuid.UUID) -> list[User]:
    """The clinic's medical lead while they are an active prescriber there; otherwise every
    active prescriber of the clinic."""
    prescribers = list(
        db.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.clinic_id == clinic_id,
                Membership.role == Role.prescriber,
                User.is_active.is_(True),
            )
            .order_by(User.email)
        )
    )
    settings = settings_of(db, clinic_id)
    lead = settings.medical_lead_id if settings is not None else None
    chosen = [user for user in prescribers if user.id == lead]
    return chosen or prescribers


def _queue_once(
    db: Session,
    *,
    key: str,
    user: User,
    subject: str,
    body: str,
    now: datetime,
    patient_id: uuid.UUID,
    clinic_id: uuid.UUID,
) -> OutboxMessage | None:
    if db.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None:
        return None
    return outbox.queue(
        db,
        dedupe_key=key,
        recipient=user.email,
        channel=OutboxChannel.email,
        subject=subject,
        body=body,
        not_before=now,
        patient_id=patient_id,
        clinic_id=clinic_id,
    )


def _local(at: datetime, timezone: str) -> str:
    return f"{at.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M} {timezone}"


def escalate_overdue_reviews(
    db: Session, context: AuditContext, now: datetime
) -> list[DependenceReview]:
    """Every open review past its due time, escalated once per severity (a review raised after
    its escalation is escalated again): a durable alert for the clinic's worklist, and a message
    to the clinic's medical lead (or, with none set, every prescriber)."""
    claimed = db.scalars(
        update(DependenceReview)
        .where(
            DependenceReview.status == ReviewStatus.open,
            DependenceReview.escalated_at.is_(None),
            DependenceReview.due_at <= now,
        )
        .values(escalated_at=now)
        .returning(DependenceReview.id)
    ).all()
    escalated = list(db.scalars(select(DependenceReview).where(DependenceReview.id.in_(claimed))))
    for review in escalated:
        clinic = db.get_one(Clinic, review.clinic_id)
        recipients = escalation_recipients(db, clinic.id)
        review.escalated_to = [str(user.id) for user in recipients]
        names = ", ".join(user.full_name for user in recipients) or "nobody (no prescriber)"
        alert: Alert = raise_alert(
            db,
            clinic_id=clinic.id,
            patient_id=review.patient_id,
            rule=ESCALATION_RULE,
            severity=AlertSeverity.urgent
            if review.severity is Severity.urgent
            else AlertSeverity.same_day,
            message=(
                f"A dependence review ({review.severity.value}) was due "
                f"{_local(review.due_at, clinic.timezone)} and is not decided; escalated to "
                f"{names}."
            ),
            evidence={"review_id": str(review.id), "escalated_to": review.escalated_to},
            source=f"Review due time and medical lead: {CLINIC_SETTING_SOURCE}",
        )
        for user in recipients:
            _queue_once(
                db,
                key=f"dependence-escalation:{review.id}:{review.severity.value}:{user.id}",
                user=user,
                subject=ESCALATION_SUBJECT,
                body=ESCALATION_BODY,
                now=now,
                patient_id=review.patient_id,
                clinic_id=clinic.id,
            )
        record(
            db,
            context,
            "dependence.review.escalate",
            patient_id=review.patient_id,
            clinic_id=clinic.id,
            resource_type="dependence_review",
            resource_id=review.id,
            detail={
                "due_at": review.due_at.isoformat(),
                "severity": review.severity.value,
                "escalated_to": review.escalated_to,
                "alert_id": str(alert.id),
            },
        )
    return escalated


def queue_referral_reminders(
    db: Session, context: AuditContext, now: datetime
) -> list[OutboxMessage]:
    """One reminder per open referral and follow-up date, once that date has come in the
    clinic's calendar, to the staff member who made it (or, if they have left, the clinic's
    escalation recipients). A closed referral has no follow-up date, so its reminders end."""
    clinics = db.scalars(
        select(Clinic).where(
            Clinic.id.in_(
                select(Referral.clinic_id).where(
                    Referral.status.in_(OPEN), Referral.next_follow_up_on.is_not(None)
                )
            )
        )
    )
    queued: list[OutboxMessage] = []
    for clinic in clinics:
        today = now.astimezone(ZoneInfo(clinic.timezone)).date()
        claimed = db.scalars(
            update(Referral)
            .where(
                Referral.clinic_id == clinic.id,
                Referral.status.in_(OPEN),
                Referral.next_follow_up_on <= today,
                or_(
                    Referral.reminded_for.is_(None),
                    Referral.reminded_for != Referral.next_follow_up_on,
                ),
            )
            .values(reminded_for=Referral.next_follow_up_on)
            .returning(Referral.id)
        ).all()
        for referral in db.scalars(select(Referral).where(Referral.id.in_(claimed))):
            maker = db.get_one(User, referral.referred_by_id)
            recipients = [maker] if maker.is_active else escalation_recipients(db, clinic.id)
            assert referral.next_follow_up_on is not None
            for user in recipients:
                message = _queue_once(
                    db,
                    key=f"referral-follow-up:{referral.id}:{referral.next_follow_up_on}:{user.id}",
                    user=user,
                    subject=FOLLOW_UP_SUBJECT,
                    body=FOLLOW_UP_BODY,
                    now=now,
                    patient_id=referral.patient_id,
                    clinic_id=clinic.id,
                )
                if message is not None:
                    queued.append(message)
            record(
                db,
                context,
                "referral.reminder",
                patient_id=referral.patient_id,
                clinic_id=clinic.id,
                resource_type="referral",
                resource_id=referral.id,
                detail={
                    "follow_up_on": referral.next_follow_up_on.isoformat(),
                    "to": [str(user.id) for user in recipients],
                },
            )
    return queued


def run_dependence_jobs(db: Session, now: datetime) -> DependenceRun:
    escalated = escalate_overdue_reviews(db, WORKER, now)
    reminders = queue_referral_reminders(db, WORKER, now)
    return DependenceRun(escalated=len(escalated), referral_reminders=len(reminders))

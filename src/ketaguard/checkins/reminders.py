"""Reminders for open check-ins, written to the outbox by the worker.

The wording goes over e-mail or SMS, which are not secure, so it says nothing clinical: no
treatment, drug, questionnaire, symptom, clinic or name; only that something waits in the portal.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.models import AccountKind, User
from ketaguard.checkins import outbox
from ketaguard.checkins.models import CheckinDue, DueStatus, OutboxChannel, OutboxMessage

SUBJECT = "Something is waiting for you in your portal"
BODY = (
    "Hello,\n\n"
    "There is something new for you to look at in your patient portal. Please log in when you "
    "have a moment.\n\n"
    "This message was sent automatically; replies are not read."
)


def queue_reminders(db: Session, context: AuditContext, now: datetime) -> list[OutboxMessage]:
    """One reminder per check-in whose window is open, to the patient's own account.

    Each due is claimed by one conditional UPDATE (reminder_queued_at from NULL), so two workers
    never queue the same reminder; the outbox's unique key would refuse a second one anyway.
    A patient without an active account gets none (staff may still record their check-in).
    """
    claimed = db.scalars(
        update(CheckinDue)
        .where(
            CheckinDue.status == DueStatus.pending,
            CheckinDue.reminder_queued_at.is_(None),
            CheckinDue.opens_at <= now,
            CheckinDue.closes_at > now,
        )
        .values(reminder_queued_at=now)
        .returning(CheckinDue.id)
    ).all()
    queued = []
    for due in db.scalars(select(CheckinDue).where(CheckinDue.id.in_(claimed))):
        account = db.scalar(
            select(User).where(
                User.patient_id == due.patient_id,
                User.kind == AccountKind.patient,
                User.is_active.is_(True),
            )
        )
        if account is None:
            continue
        message = outbox.queue(
            db,
            dedupe_key=f"checkin-reminder:{due.id}",
            recipient=account.email,
            channel=OutboxChannel.email,
            subject=SUBJECT,
            body=BODY,
            not_before=now,
            patient_id=due.patient_id,
            clinic_id=due.clinic_id,
        )
        record(
            db,
            context,
            "checkin.reminder",
            patient_id=due.patient_id,
            clinic_id=due.clinic_id,
            resource_type="outbox_message",
            resource_id=message.id,
            detail={"due_id": str(due.id), "channel": message.channel.value},
        )
        queued.append(message)
    return queued

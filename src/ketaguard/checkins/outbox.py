"""The outbox: messages written in a transaction and sent by the worker after it commits.

Sending is outside any transaction: a worker claims one message with a conditional UPDATE (it
must change exactly one row) and commits the claim, sends it through the delivery adapter, then
records the result. Two workers never send one message twice: the loser's UPDATE finds the claim
taken. A claim runs out after `outbox_claim_minutes`, so a message whose worker died is sent
later; only a worker that outlives its own claim could send a message twice.
"""

import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ketaguard.audit.models import Outcome
from ketaguard.audit.service import AuditContext, record
from ketaguard.checkins.models import OutboxChannel, OutboxMessage, OutboxStatus
from ketaguard.config import ConfigurationError, Settings
from ketaguard.db.session import unit_of_work

logger = logging.getLogger("ketaguard.outbox")

WORKER = AuditContext(actor_role="worker", address="worker", user_agent="ketaguard worker")
# Enough of an adapter's error to tell what went wrong, never a whole traceback.
ERROR_LIMIT = 1000


@dataclass(frozen=True)
class OutgoingMessage:
    recipient: str
    channel: OutboxChannel
    subject: str
    body: str


class Delivery(Protocol):
    """Sends one message or raises; an e-mail or SMS gateway plugs in through settings."""

    def send(self, message: OutgoingMessage) -> None: ...


class LogDelivery:
    """The default: writes each message to the log instead of sending it anywhere."""

    def send(self, message: OutgoingMessage) -> None:
        logger.info(
            "outbox %s to %s: %s", message.channel.value, message.recipient, message.subject
        )


def delivery_from_settings(settings: Settings) -> Delivery:
    """`KETAGUARD_OUTBOX_DELIVERY`: "log", or "package.module:factory" where the factory takes
    the settings and returns a `Delivery`."""
    name = settings.outbox_delivery
    if name == "log":
        return LogDelivery()
    module_name, _, attribute = name.partition(":")
    try:
        factory: Callable[[Settings], Delivery] = getattr(
            importlib.import_module(module_name), attribute
        )
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(
            f"KETAGUARD_OUTBOX_DELIVERY {name!r} is not 'log' or an importable "
            f"'package.module:factory' ({exc})"
        ) from exc
    return factory(settings)


def queue(
    db: Session,
    *,
    dedupe_key: str,
    recipient: str,
    channel: OutboxChannel,
    subject: str,
    body: str,
    not_before: datetime,
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
) -> OutboxMessage:
    """Write a message in the caller's transaction; it leaves only if that commits."""
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        patient_id=patient_id,
        clinic_id=clinic_id,
        recipient=recipient,
        channel=channel,
        subject=subject,
        body=body,
        not_before=not_before,
        status=OutboxStatus.pending,
        attempts=0,
    )
    db.add(message)
    db.flush()
    return message


def _sendable(now: datetime) -> list[ColumnElement[bool]]:
    return [
        OutboxMessage.status == OutboxStatus.pending,
        OutboxMessage.not_before <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
    ]


def claim(db: Session, message_id: uuid.UUID, now: datetime, claim_for: timedelta) -> bool:
    """Take one message for sending; False when another worker has it or it is not due."""
    claimed = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *_sendable(now))
        .values(claimed_until=now + claim_for, attempts=OutboxMessage.attempts + 1)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DeliveryRun:
    sent: int
    retrying: int
    failed: int


def _finish(
    factory: sessionmaker[Session],
    message_id: uuid.UUID,
    now: datetime,
    settings: Settings,
    error: str | None,
) -> OutboxStatus:
    with unit_of_work(factory) as db:
        message = db.get_one(OutboxMessage, message_id)
        if error is None:
            message.status, message.sent_at = OutboxStatus.sent, now
        elif message.attempts >= settings.outbox_max_attempts:
            message.status = OutboxStatus.failed
        else:
            message.not_before = now + timedelta(minutes=settings.outbox_retry_minutes)
        message.last_error = error
        message.claimed_until = None
        record(
            db,
            WORKER,
            "outbox.deliver",
            outcome=Outcome.success if error is None else Outcome.failure,
            patient_id=message.patient_id,
            clinic_id=message.clinic_id,
            resource_type="outbox_message",
            resource_id=message.id,
            detail={"channel": message.channel.value, "attempt": message.attempts, "error": error},
        )
        return message.status


def deliver_pending(
    factory: sessionmaker[Session],
    delivery: Delivery,
    settings: Settings,
    now: datetime,
    *,
    limit: int = 100,
) -> DeliveryRun:
    """Send the messages that are due, each claimed first, each in transactions of its own."""
    with unit_of_work(factory) as db:
        due = list(
            db.scalars(
                select(OutboxMessage.id)
                .where(*_sendable(now))
                .order_by(OutboxMessage.not_before)
                .limit(limit)
            )
        )
    claim_for = timedelta(minutes=settings.outbox_claim_minutes)
    sent = retrying = failed = 0
    for message_id in due:
        with unit_of_work(factory) as db:
            if not claim(db, message_id, now, claim_for):
                continue
            message = db.get_one(OutboxMessage, message_id)
            outgoing = OutgoingMessage(
                message.recipient, message.channel, message.subject, message.body
            )
        try:
            delivery.send(outgoing)
        except Exception as exc:  # any adapter failure is recorded and retried, never fatal
            status = _finish(factory, message_id, now, settings, f"{exc!r}"[:ERROR_LIMIT])
        else:
            status = _finish(factory, message_id, now, settings, None)
        if status is OutboxStatus.sent:
            sent += 1
        elif status is OutboxStatus.failed:
            failed += 1
        else:
            retrying += 1
    return DeliveryRun(sent=sent, retrying=retrying, failed=failed)

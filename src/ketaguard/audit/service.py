"""Appending to the hash-chained audit trail."""

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent, AuditHead, Outcome
from ketaguard.kit.time import utcnow

GENESIS_HASH = "0" * 64

# The fields that the hash covers, in a fixed order. Changing this list breaks every chain.
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_user_id",
    "actor_token_id",
    "actor_role",
    "organisation_id",
    "clinic_id",
    "patient_id",
    "resource_type",
    "resource_id",
    "address",
    "user_agent",
    "detail",
    "prev_hash",
)


@dataclass(frozen=True)
class AuditContext:
    """Who acts and from where; built once per request (or CLI command)."""

    actor_user_id: uuid.UUID | None = None
    actor_token_id: uuid.UUID | None = None
    actor_role: str | None = None
    organisation_id: uuid.UUID | None = None
    address: str | None = None
    user_agent: str | None = None


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def event_hash(event: AuditEvent) -> str:
    content = {name: _canonical(getattr(event, name)) for name in HASHED_FIELDS}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def record(
    db: Session,
    context: AuditContext,
    action: str,
    *,
    outcome: Outcome = Outcome.success,
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    resource_type: str | None = None,
    resource_id: str | uuid.UUID | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, so it commits or rolls back with the change.

    The head row is locked for the rest of the transaction: concurrent transactions append one
    after the other, and the chain never forks.
    """
    head = db.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=utcnow(),
        action=action,
        outcome=outcome.value,
        actor_user_id=context.actor_user_id,
        actor_token_id=context.actor_token_id,
        actor_role=context.actor_role,
        organisation_id=context.organisation_id,
        clinic_id=clinic_id,
        patient_id=patient_id,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        address=context.address,
        user_agent=context.user_agent[:400] if context.user_agent else None,
        detail=json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), default=str),
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    head.seq, head.hash = event.seq, event.hash
    db.add(event)
    db.flush()
    return event

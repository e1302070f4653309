"""The audit trail: append-only, hash-chained events (ONC 170.315(d)(2), HIPAA 164.312(b))."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SEQUENCE_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class Outcome(StrEnum):
    success = "success"
    failure = "failure"
    denied = "denied"


class AuditEvent(Base):
    """One auditable event. The database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_event"

    # Assigned from the chain head, not by the database, so order and chain always agree.
    seq: Mapped[int] = mapped_column(SEQUENCE_TYPE, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_token_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str | None] = mapped_column(String(32))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    clinic_id: Mapped[uuid.UUID | None]
    patient_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    # Canonical JSON with anything else worth keeping (never passwords or codes).
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row naming the newest event; locking it orders concurrent appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(SEQUENCE_TYPE)
    hash: Mapped[str] = mapped_column(String(64))

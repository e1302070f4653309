"""Safety alerts: durable rows raised in the same transaction as the data that triggered them."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, IdMixin, str_enum


class AlertSeverity(StrEnum):
    # Ordered from most to least pressing; worklists sort by this.
    urgent = "urgent"
    same_day = "same_day"
    routine = "routine"


class Alert(IdMixin, Base):
    __tablename__ = "alert"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[AlertSeverity] = mapped_column(str_enum(AlertSeverity, "alert_severity"))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, object]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    action_taken: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_session.id"), index=True
    )
    # Set when an unacknowledged alert was escalated (once), by the worker.
    escalated_at: Mapped[datetime | None]

"""Treatment sessions as booked against a plan."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Float, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum


class SessionStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class TreatmentSession(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "treatment_session"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plan.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(index=True)
    planned_dose_mg: Mapped[float] = mapped_column(Float)
    status: Mapped[SessionStatus] = mapped_column(str_enum(SessionStatus, "session_status"))
    booked_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    # Set when a prescriber booked past the plan's limits: which rules, and why.
    overridden_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_reason: Mapped[str | None] = mapped_column(Text)

"""Individual treatment plans and every change of their status."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum


class PlanStatus(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    completed = "completed"
    discontinued = "discontinued"


class TreatmentPlan(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "treatment_plan"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    protocol_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protocol_version.id"))
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus, "plan_status"))
    # Local date (clinic timezone) of week 1, day 1.
    start_date: Mapped[date]
    planned_end_date: Mapped[date | None]
    dose_mg: Mapped[float] = mapped_column(Float)
    # How the dose was reached, shown to staff: weight, its date, mg/kg and the arithmetic.
    dose_calculation: Mapped[dict[str, object]] = mapped_column(JSON)
    goals: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    integration_therapy: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    review_dates: Mapped[list[str]] = mapped_column(JSON)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    eligibility_decision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("eligibility_decision.id")
    )
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]


class PlanStatusChange(IdMixin, Base):
    __tablename__ = "plan_status_change"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plan.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime]


class RequestKind(StrEnum):
    extra = "extra"
    earlier = "earlier"
    higher_dose = "higher_dose"


class RequestDecision(StrEnum):
    pending = "pending"
    granted = "granted"
    declined = "declined"


class SessionRequest(IdMixin, CreatedAtMixin, Base):
    """A patient asking for an extra, earlier or higher-dose session: an input to the
    dependence signals whatever the answer."""

    __tablename__ = "session_request"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plan.id"), index=True)
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind, "request_kind"))
    details: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    # Who entered it: the patient through the portal, or a member of staff who heard it.
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[RequestDecision] = mapped_column(str_enum(RequestDecision, "request_decision"))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

"""Stored screening responses and eligibility decisions."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum


class CompletedBy(StrEnum):
    staff = "staff"
    patient = "patient"


class ScreeningResponse(IdMixin, CreatedAtMixin, Base):
    """One completed instrument. The score is computed here from the answers, never sent in."""

    __tablename__ = "screening_response"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(40), index=True)
    # Item id -> answer value, as asked (skipped items absent).
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int | None]
    band: Mapped[str | None] = mapped_column(String(40))
    flags: Mapped[list[str]] = mapped_column(JSON)
    # Instrument-specific results (C-SSRS risk, PCL-5 clusters, counted DSM-5 criteria, ...).
    extra: Mapped[dict[str, object]] = mapped_column(JSON)
    # What scoring depended on besides the answers (sex, supervision, clinic cut-offs).
    scoring_context: Mapped[dict[str, object]] = mapped_column(JSON)
    completed_at: Mapped[datetime] = mapped_column(index=True)
    completed_by: Mapped[CompletedBy] = mapped_column(str_enum(CompletedBy, "completed_by"))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class EligibilityDecision(IdMixin, CreatedAtMixin, Base):
    """Computed eligibility and baseline risk, with every reason, and the prescriber's sign-off."""

    __tablename__ = "eligibility_decision"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    computed_eligibility: Mapped[str] = mapped_column(String(32))
    computed_risk_tier: Mapped[str] = mapped_column(String(16))
    # Findings as shown to the clinician: rule id, severity, message, evidence, source.
    eligibility_reasons: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    risk_reasons: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    intake_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("intake_version.id"))
    screening_response_ids: Mapped[list[str]] = mapped_column(JSON)
    computed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    signed_off_at: Mapped[datetime | None]
    signed_off_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    # The decision that stands: the computed one, or the prescriber's override with its reason.
    final_eligibility: Mapped[str | None] = mapped_column(String(32))
    final_risk_tier: Mapped[str | None] = mapped_column(String(16))
    override_reason: Mapped[str | None] = mapped_column(Text)

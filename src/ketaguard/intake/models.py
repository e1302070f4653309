"""Intake: one validated document per patient, never edited in place — each change is a version."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin


class IntakeVersion(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "intake_version"
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    version: Mapped[int]
    # The whole intake as validated by intake.schemas.IntakeData, so any version can be re-read.
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    change_note: Mapped[str | None] = mapped_column(Text)
    # Set when this version was replaced, so "the current intake" is one indexed look-up.
    superseded_at: Mapped[datetime | None]

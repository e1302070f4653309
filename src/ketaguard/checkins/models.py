"""Patients' check-ins between sessions, the check-ins due under a plan's schedule, and the outbox
that carries reminders (and any other outgoing message) after the transaction commits."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum
from ketaguard.screening.models import CompletedBy


class CheckinSchedule(IdMixin, CreatedAtMixin, Base):
    """A plan's check-in schedule: stored when the plan starts, so later changes to ketaguard's
    defaults never move an existing plan's check-ins; a prescriber may adjust it."""

    __tablename__ = "checkin_schedule"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plan.id"), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    # The validated checkins.schedule.ScheduleDefinition.
    definition: Mapped[dict[str, object]] = mapped_column(JSON)
    adjusted_at: Mapped[datetime | None]
    adjusted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    adjust_reason: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=0)


class DueAnchor(StrEnum):
    before_session = "before_session"
    after_dose = "after_dose"
    weekly = "weekly"


class DueStatus(StrEnum):
    pending = "pending"
    completed = "completed"
    missed = "missed"
    cancelled = "cancelled"


class CheckinDue(IdMixin, CreatedAtMixin, Base):
    """One check-in the schedule asks for, open from `opens_at` until `closes_at`.

    `slot` names what it is anchored to (a session and an offset, or a plan week); the unique
    key makes generating the same check-in again add nothing.
    """

    __tablename__ = "checkin_due"
    __table_args__ = (UniqueConstraint("plan_id", "slot"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plan.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_session.id"), index=True
    )
    anchor: Mapped[DueAnchor] = mapped_column(str_enum(DueAnchor, "checkin_due_anchor"))
    slot: Mapped[str] = mapped_column(String(80))
    # Which parts the check-in asks for (checkins.schedule.Item values).
    items: Mapped[list[str]] = mapped_column(JSON)
    opens_at: Mapped[datetime] = mapped_column(index=True)
    closes_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[DueStatus] = mapped_column(str_enum(DueStatus, "checkin_due_status"), index=True)
    completed_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Set once, by the worker that queued the reminder (or found no one to remind).
    reminder_queued_at: Mapped[datetime | None]


class Severity(StrEnum):
    """How much a symptom bothered the patient since the last check-in, in their own words."""

    none = "none"
    mild = "mild"
    moderate = "moderate"
    severe = "severe"


class Checkin(IdMixin, CreatedAtMixin, Base):
    """One completed check-in. Questionnaires are stored as screening responses (scored by the
    server, like any other) and referenced here; the rest is kept as answered."""

    __tablename__ = "checkin"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_plan.id"), index=True)
    # NULL for a check-in the patient sent of their own accord; a due is completed once.
    due_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("checkin_due.id"), unique=True)
    completed_at: Mapped[datetime] = mapped_column(index=True)
    completed_by: Mapped[CompletedBy] = mapped_column(str_enum(CompletedBy, "checkin_completed_by"))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    # The parts answered (checkins.schedule.Item values).
    items: Mapped[list[str]] = mapped_column(JSON)
    phq9_response_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("screening_response.id"))
    sds_response_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("screening_response.id"))
    icsi_response_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("screening_response.id"))
    craving: Mapped[int | None]
    used_outside_sessions: Mapped[bool | None]
    # Each use outside sessions: substance, name, date, amount.
    substance_use: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    # Symptom -> Severity value; NULL when not asked.
    withdrawal: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Symptom -> present since the last check-in; NULL when not asked.
    urinary: Mapped[dict[str, bool] | None] = mapped_column(JSON)
    memory: Mapped[Severity | None] = mapped_column(str_enum(Severity, "checkin_severity"))
    note: Mapped[str | None] = mapped_column(Text)
    # An answer signalled suicide risk (PHQ-9 item 9 above 0); the same-day alert staff act on.
    suicide_risk: Mapped[bool] = mapped_column(default=False)
    follow_up_alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alert.id"))


class OutboxChannel(StrEnum):
    email = "email"
    sms = "sms"


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxMessage(IdMixin, CreatedAtMixin, Base):
    """A message to send after the transaction that wrote it commits (a rollback drops it).

    Messages go over channels that are not secure: they never carry clinical details.
    """

    __tablename__ = "outbox_message"

    # What the message is about, so the same reminder is never queued twice.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinic.id"))
    recipient: Mapped[str] = mapped_column(String(320))
    channel: Mapped[OutboxChannel] = mapped_column(str_enum(OutboxChannel, "outbox_channel"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A worker's claim: nobody else sends the message until it runs out.
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

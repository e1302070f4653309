"""Treatment sessions as booked against a plan."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum
from ketaguard.kit.ids import uuid7


class SessionStatus(StrEnum):
    scheduled = "scheduled"
    checked_in = "checked_in"
    pre_dose_cleared = "pre_dose_cleared"
    dosed = "dosed"
    monitoring = "monitoring"
    ready_for_discharge = "ready_for_discharge"
    discharged = "discharged"
    cancelled = "cancelled"
    no_show = "no_show"
    aborted = "aborted"


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

    checked_in_at: Mapped[datetime | None]
    # The protocol's pre-dose checklist as answered, and a prescriber's decision when a pre-dose
    # value needed one (e.g. raised blood pressure before esketamine).
    pre_dose: Mapped[dict[str, object] | None] = mapped_column(JSON)
    prescriber_decision: Mapped[dict[str, object] | None] = mapped_column(JSON)
    pre_dose_cleared_at: Mapped[datetime | None]
    cleared_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    pre_dose_moaas: Mapped[int | None]
    # Dose as given: devices and their times (intranasal) or infusion start and end (IV).
    given_dose_mg: Mapped[float | None] = mapped_column(Float)
    lot_number: Mapped[str | None] = mapped_column(String(64))
    given_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    device_times: Mapped[list[str]] = mapped_column(JSON, default=list)
    dosed_at: Mapped[datetime | None]
    infusion_ended_at: Mapped[datetime | None]
    observation_started_at: Mapped[datetime | None]
    transport_present: Mapped[bool] = mapped_column(default=False)
    prescriber_cleared_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]
    discharged_at: Mapped[datetime | None]
    discharged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    aborted_reason: Mapped[str | None] = mapped_column(Text)
    # Bumped on every change, so a screen can tell when what it shows is out of date.
    revision: Mapped[int] = mapped_column(default=0)


class ReadingSource(StrEnum):
    staff = "staff"
    device = "device"


class VitalReading(CreatedAtMixin, Base):
    """One measured vital sign. A device resending a batch adds nothing: the unique key is the
    session, the device, the time measured and the vital. In that order its index also finds a
    session's readings."""

    __tablename__ = "vital_reading"
    __table_args__ = (UniqueConstraint("session_id", "device_key", "measured_at", "vital"),)

    # Time-ordered: readings arrive by the hundred a second (see ketaguard.kit.ids).
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_session.id"))
    vital: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    measured_at: Mapped[datetime]
    source: Mapped[ReadingSource] = mapped_column(str_enum(ReadingSource, "reading_source"))
    # "" for staff entries: a NULL would never collide, on either database.
    device_key: Mapped[str] = mapped_column(String(128), default="")
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_token_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_token.id"))


class SessionRating(IdMixin, CreatedAtMixin, Base):
    """A sedation (MOAA/S) or dissociation (CADSS-6) rating during a session."""

    __tablename__ = "session_rating"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    scale: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int]
    measured_at: Mapped[datetime]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class AdverseEventType(StrEnum):
    nausea_vomiting = "nausea_vomiting"
    bp_elevation = "bp_elevation"
    dissociation = "dissociation"
    sedation = "sedation"
    anxiety = "anxiety"
    headache = "headache"
    dizziness = "dizziness"
    respiratory_depression = "respiratory_depression"
    urinary_symptoms = "urinary_symptoms"
    cognitive_complaints = "cognitive_complaints"
    other = "other"


class AdverseEvent(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "adverse_event"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    type: Mapped[AdverseEventType] = mapped_column(str_enum(AdverseEventType, "ae_type"))
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    serious: Mapped[bool]
    action_taken: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(24))
    onset_at: Mapped[datetime]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class RemsForm(IdMixin, CreatedAtMixin, Base):
    """The REMS Patient Monitoring Form data of one esketamine session ([S5][S8])."""

    __tablename__ = "rems_form"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_session.id"), unique=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    fields: Mapped[dict[str, object]] = mapped_column(JSON)
    due_on: Mapped[date] = mapped_column(index=True)
    submitted_on: Mapped[date | None]
    submission_method: Mapped[str | None] = mapped_column(String(16))
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))

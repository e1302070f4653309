"""The dependence watch on the database: each clinic's numbers, the signals raised for a patient,
the review a prescriber owes, the decision taken, and the referrals made."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum
from ketaguard.dependence.signals import Severity


class DependenceSettings(IdMixin, CreatedAtMixin, Base):
    """A clinic's numbers for the dependence watch. The clinical reference gives none of them, so
    none has a default: NULL means "not set", and switches off only the rule that needs it (see
    ``dependence.thresholds.CLINIC_SETTINGS``). The SDS cut-off is ``Clinic.sds_cutoff``, shared
    with SDS scoring. A clinic without a row has set nothing."""

    __tablename__ = "dependence_settings"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), unique=True)
    craving_threshold: Mapped[int | None]
    craving_rising_reports: Mapped[int | None]
    rising_dose_sessions: Mapped[int | None]
    repeated_requests: Mapped[int | None]
    repeated_requests_days: Mapped[int | None]
    sds_rising_scores: Mapped[int | None]
    icsi_rising_scores: Mapped[int | None]
    phq9_fading_rise_points: Mapped[int | None]
    # Hours from opening a review to its due time, by the status that opened it. NULL: due at once.
    review_due_hours: Mapped[int | None]
    urgent_review_due_hours: Mapped[int | None]
    # The prescriber overdue reviews escalate to; NULL: every prescriber of the clinic.
    medical_lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))


class ReviewStatus(StrEnum):
    open = "open"
    decided = "decided"


class DependenceReview(IdMixin, CreatedAtMixin, Base):
    """A prescriber's review of a patient's open signals. A patient has at most one open review
    (the evaluation that would open a second one updates the first, under the patient's row
    lock)."""

    __tablename__ = "dependence_review"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plan.id"), index=True)
    # The plan's prescriber (the one who approved it).
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    # How the due time was reached, naming the clinic setting (or that it is unset).
    due_note: Mapped[str] = mapped_column(Text)
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "dependence_review_severity"))
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus, "dependence_review_status"), index=True
    )
    # Set once, by the worker that claimed the overdue review; with the user ids it went to.
    escalated_at: Mapped[datetime | None]
    escalated_to: Mapped[list[str]] = mapped_column(JSON, default=list)


class DecisionKind(StrEnum):
    continue_ = "continue"
    closer_monitoring = "closer_monitoring"
    pause = "pause"
    taper = "taper"
    discontinue = "discontinue"
    refer_addiction_care = "refer_addiction_care"


class DependenceDecision(IdMixin, CreatedAtMixin, Base):
    """What the prescriber decided on a review, why, and when to look again."""

    __tablename__ = "dependence_decision"

    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dependence_review.id"), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[DecisionKind] = mapped_column(str_enum(DecisionKind, "dependence_decision_kind"))
    reason: Mapped[str] = mapped_column(Text)
    # A local date in the clinic's timezone.
    follow_up_on: Mapped[date]
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime]
    # What the decision did at once: the plan's new status, the schedule's revision, the referral.
    actions: Mapped[dict[str, object]] = mapped_column(JSON)


class SignalState(StrEnum):
    open = "open"
    closed = "closed"


class Closure(StrEnum):
    review_decision = "review_decision"
    # A signal judged at the latest record that a later evaluation no longer gave.
    auto_resolved = "auto_resolved"


class DependenceSignal(IdMixin, CreatedAtMixin, Base):
    """One signal a detector raised for a patient, kept by its key (``Signal.key``: the rule and
    the records it rests on) so each evaluation updates it rather than adding it again."""

    __tablename__ = "dependence_signal"
    __table_args__ = (UniqueConstraint("patient_id", "key_hash"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plan.id"))
    key: Mapped[str] = mapped_column(Text)
    # SHA-256 of the key: a key naming many records can outgrow what an index holds.
    key_hash: Mapped[str] = mapped_column(String(64))
    detector: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[str] = mapped_column(String(64))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "dependence_signal_severity"))
    summary: Mapped[str] = mapped_column(Text)
    # Each record behind it: kind, record_id, at (ISO 8601 or null), description.
    evidence: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    # The severity before baseline risk raised it, and the baseline facts that did.
    raised_from: Mapped[Severity | None] = mapped_column(
        str_enum(Severity, "dependence_signal_raised_from")
    )
    raised_by: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    # Judged at the latest record (detectors.JUDGED_AT_LATEST): resolved when no longer given.
    trend: Mapped[bool]
    first_raised_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    state: Mapped[SignalState] = mapped_column(
        str_enum(SignalState, "dependence_signal_state"), index=True
    )
    closure: Mapped[Closure | None] = mapped_column(str_enum(Closure, "dependence_closure"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    closed_reason: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dependence_decision.id"))


class ReferralTo(StrEnum):
    addiction_service = "addiction_service"
    # New bladder symptoms: refer to urology (reference §4.3 [S38]).
    urology = "urology"
    therapist = "therapist"
    other = "other"


class ReferralStatus(StrEnum):
    sent = "sent"
    accepted = "accepted"
    attended = "attended"
    declined = "declined"


class Referral(IdMixin, CreatedAtMixin, Base):
    """A referral made because of the dependence watch, followed up until it is attended or
    declined."""

    __tablename__ = "dependence_referral"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dependence_decision.id"))
    referred_to: Mapped[ReferralTo] = mapped_column(str_enum(ReferralTo, "referral_to"))
    # Who exactly (a service's or person's name); required for "other".
    name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    referred_at: Mapped[datetime]
    referred_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[ReferralStatus] = mapped_column(
        str_enum(ReferralStatus, "referral_status"), index=True
    )
    # Every status with when, by whom and any note, oldest first.
    history: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    # A local date in the clinic's timezone; NULL once the referral is closed.
    next_follow_up_on: Mapped[date | None] = mapped_column(index=True)
    # The follow-up date a reminder was queued for, set once per date by the worker's claim.
    reminded_for: Mapped[date | None]
    closed_at: Mapped[datetime | None]

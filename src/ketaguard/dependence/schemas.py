"""What the dependence API takes and returns."""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ketaguard.checkins.schedule import ScheduleDefinition
from ketaguard.dependence.models import (
    Closure,
    DecisionKind,
    ReferralStatus,
    ReferralTo,
    ReviewStatus,
    SignalState,
)
from ketaguard.dependence.signals import RecordKind, Severity
from ketaguard.dependence.status import DependenceStatus

# A decision is a clinical judgement: it must say why, as an override must elsewhere.
MIN_REASON = 10


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- Signals and status -------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    kind: RecordKind
    record_id: str
    at: datetime | None
    description: str
    href: str = Field(description="Where the API shows the record")


class SignalOut(BaseModel):
    id: uuid.UUID
    key: str
    detector: str
    rule_id: str
    severity: Severity
    raised_from: Severity | None
    raised_by: list[EvidenceOut]
    summary: str
    evidence: list[EvidenceOut]
    source: str
    trend: bool = Field(description="Judged at the latest record: resolved when no longer given")
    state: SignalState
    first_raised_at: datetime
    last_seen_at: datetime
    closure: Closure | None
    closed_at: datetime | None
    closed_by_id: uuid.UUID | None
    closed_reason: str | None
    decision_id: uuid.UUID | None


class SwitchedOffOut(BaseModel):
    rule_id: str
    settings: list[str]
    partly: bool
    reason: str


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    review_id: uuid.UUID
    kind: DecisionKind
    reason: str
    follow_up_on: date
    decided_by_id: uuid.UUID
    decided_at: datetime
    actions: dict[str, Any]


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    plan_id: uuid.UUID
    assigned_to_id: uuid.UUID | None
    opened_at: datetime
    due_at: datetime
    due_note: str
    overdue: bool = False
    severity: Severity
    status: ReviewStatus
    escalated_at: datetime | None
    escalated_to: list[str]
    decision: DecisionOut | None = None


class PatientDependenceOut(BaseModel):
    patient_id: uuid.UUID
    status: DependenceStatus
    explanation: str
    deciding: list[uuid.UUID] = Field(description="The open signals that set the status")
    open_signals: list[SignalOut]
    closed_signals: list[SignalOut] = Field(
        default_factory=list, description="Only with include_closed=true"
    )
    switched_off: list[SwitchedOffOut]
    open_review: ReviewOut | None
    latest_decision: DecisionOut | None
    notice: str = (
        "Signals support the prescriber's judgement and never replace it. A rule listed under "
        "switched_off is not watched (or watched less) until the clinic sets its number."
    )


class WorklistEntry(BaseModel):
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    record_number: str
    given_name: str
    family_name: str
    status: DependenceStatus
    open_signals: int
    review: ReviewOut | None


# --- Decisions ----------------------------------------------------------------------------------


class DecisionCreate(_In):
    kind: DecisionKind
    reason: str = Field(min_length=MIN_REASON, max_length=4000)
    follow_up_on: date = Field(description="When to look again, in the clinic's calendar")
    schedule: ScheduleDefinition | None = Field(
        default=None,
        description=(
            "closer_monitoring only: the check-in schedule to use. Left out, every check-in asks "
            "every item and weekly check-ins start this week."
        ),
    )
    referral_name: str | None = Field(
        default=None,
        max_length=200,
        description="refer_addiction_care only: the service referred to",
    )
    seen_signals: list[uuid.UUID] | None = Field(
        default=None,
        description=(
            "The open signals the prescriber read before deciding. A decision closes every open "
            "signal, so when one raised since is missing here the decision is refused (409) "
            "naming it, instead of closing a signal nobody read."
        ),
    )


class DecisionMade(DecisionOut):
    closed_signals: list[uuid.UUID]


# --- Referrals ----------------------------------------------------------------------------------


class ReferralCreate(_In):
    referred_to: ReferralTo
    name: str | None = Field(default=None, max_length=200, description="Required for 'other'")
    note: str | None = Field(default=None, max_length=4000)
    next_follow_up_on: date = Field(description="When to check on it, in the clinic's calendar")


class ReferralUpdate(_In):
    name: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=4000)
    next_follow_up_on: date | None = None


class ReferralStatusChange(_In):
    status: ReferralStatus
    note: str | None = Field(default=None, max_length=4000)
    next_follow_up_on: date | None = Field(
        default=None,
        description="Required while the referral stays open (sent, accepted); none once closed",
    )


class ReferralOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    decision_id: uuid.UUID | None
    referred_to: ReferralTo
    name: str | None
    note: str | None
    referred_at: datetime
    referred_by_id: uuid.UUID
    status: ReferralStatus
    history: list[dict[str, Any]]
    next_follow_up_on: date | None
    closed_at: datetime | None


# --- Clinic settings ----------------------------------------------------------------------------


class SettingsIn(_In):
    """Every number, each stated (null: not set, which switches off what needs it). None has a
    default: the clinical reference gives none of them."""

    craving_threshold: int | None = Field(description="Craving (0-10) that needs review")
    craving_rising_reports: int | None = Field(description="Craving reports in a rising run")
    rising_dose_sessions: int | None = Field(description="Sessions in a rising-dose run")
    repeated_requests: int | None = Field(description="Session requests that need review")
    repeated_requests_days: int | None = Field(description="Their window, in calendar days")
    sds_rising_scores: int | None = Field(description="SDS totals in a rising run")
    icsi_rising_scores: int | None = Field(description="ICSI totals in a rising run")
    phq9_fading_rise_points: int | None = Field(
        description="PHQ-9 rise from the lowest since a response that counts as fading"
    )
    review_due_hours: int | None = Field(
        ge=0, le=24 * 90, description="Hours to review a review_needed status; null: at once"
    )
    urgent_review_due_hours: int | None = Field(
        ge=0, le=24 * 90, description="Hours to review an urgent status; null: at once"
    )
    medical_lead_id: uuid.UUID | None = Field(
        description="A prescriber of the clinic; null: overdue reviews go to every prescriber"
    )


class SettingOut(BaseModel):
    name: str
    value: int | str | None
    meaning: str
    source: str


class SettingsOut(BaseModel):
    clinic_id: uuid.UUID
    settings: list[SettingOut]
    reference_numbers: list[SettingOut]
    switched_off: list[SwitchedOffOut]
    updated_at: datetime | None
    updated_by_id: uuid.UUID | None

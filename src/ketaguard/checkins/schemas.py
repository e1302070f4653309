"""What patients send in a check-in and what the check-in API returns.

Every answer is checked here, before anything is stored: a bad check-in is refused with one 422
listing each field at fault (questionnaire answers by item id), and nothing is kept.
"""

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from ketaguard.checkins.models import DueAnchor, DueStatus, Severity
from ketaguard.checkins.schedule import ITEMS, Item, ScheduleDefinition
from ketaguard.kit.time import utcnow
from ketaguard.screening.instruments import AnswerError, get_instrument
from ketaguard.screening.models import CompletedBy

# The scale the patient rates craving on (0 none, 10 the strongest imaginable); a form's range,
# not a clinical threshold. Craving is DSM-5 criterion 4 and a sign of dependence ([S113] §4.1,
# [S116] §4.2).
CRAVING_MAX = 10


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubstanceUseEntry(_In):
    """One use of ketamine or another drug outside the clinic's sessions (reference §7)."""

    substance: Literal["ketamine", "esketamine", "other"]
    name: str | None = Field(
        default=None, max_length=200, description="What it was; required for 'other'"
    )
    used_on: date = Field(description="The day it was used (the patient's own calendar)")
    amount: str = Field(
        min_length=1, max_length=200, description="How much, in the patient's words"
    )

    @model_validator(mode="after")
    def _named_and_past(self) -> Self:
        if self.substance == "other" and not (self.name or "").strip():
            raise ValueError("name: say what was used")
        # A day ahead of UTC still allows "today" in every timezone.
        if self.used_on > (utcnow() + timedelta(days=1)).date():
            raise ValueError("used_on: cannot be in the future")
        return self


class SubstanceUse(_In):
    used: bool = Field(
        description="Any ketamine or other drug use outside sessions since last time"
    )
    entries: list[SubstanceUseEntry] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _entries_match(self) -> Self:
        if self.used and not self.entries:
            raise ValueError("entries: list each use (what, when, how much)")
        if not self.used and self.entries:
            raise ValueError("entries: must be empty when used is false")
        return self


class Withdrawal(_In):
    """Withdrawal-like symptoms after stopping, reported anecdotally (UNCONFIRMED, low-quality;
    [S118] §4.2): anxiety, low mood, fatigue and abdominal pain ("K-cramps")."""

    anxiety: Severity
    low_mood: Severity
    fatigue: Severity
    abdominal_pain: Severity


class Urinary(_In):
    """The in-clinic uropathy questions of reference §4.3 ([S122][S123]), each present or not
    since the last check-in. The O'Leary-Sant ICSI ([S101][S102][S103]) is `icsi` beside it."""

    daytime_frequency: bool
    nocturia: bool
    urgency: bool
    dysuria: bool
    haematuria: bool
    bladder_pain: bool


def _checked(instrument_id: str, answers: dict[str, int]) -> dict[str, int]:
    try:
        return get_instrument(instrument_id).checked_answers(answers)
    except AnswerError as exc:
        raise ValueError(str(exc)) from None


class CheckinCreate(_In):
    due_id: uuid.UUID | None = Field(
        default=None, description="The due check-in this completes; leave out for one of your own"
    )
    completed_at: AwareDatetime | None = Field(
        default=None, description="When it was filled in; defaults to now"
    )
    phq9: dict[str, int] | None = Field(default=None, description="PHQ-9 answers by item id")
    craving: int | None = Field(default=None, ge=0, le=CRAVING_MAX)
    substance_use: SubstanceUse | None = None
    withdrawal: Withdrawal | None = None
    urinary: Urinary | None = None
    icsi: dict[str, int] | None = Field(
        default=None, description="O'Leary-Sant ICSI answers by item id, when asked"
    )
    memory: Severity | None = Field(
        default=None, description="Problems with memory since the last check-in"
    )
    sds: dict[str, int] | None = Field(default=None, description="SDS answers by item id")
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("phq9")
    @classmethod
    def _phq9(cls, answers: dict[str, int] | None) -> dict[str, int] | None:
        return None if answers is None else _checked("phq9", answers)

    @field_validator("sds")
    @classmethod
    def _sds(cls, answers: dict[str, int] | None) -> dict[str, int] | None:
        return None if answers is None else _checked("sds", answers)

    @field_validator("icsi")
    @classmethod
    def _icsi(cls, answers: dict[str, int] | None) -> dict[str, int] | None:
        return None if answers is None else _checked("icsi", answers)

    @model_validator(mode="after")
    def _something_answered(self) -> Self:
        if not self.answered():
            raise ValueError("answer at least one part of the check-in")
        return self

    def answered(self) -> list[Item]:
        """The parts of the check-in answered, in the schedule's order."""
        return [part for part in ITEMS if getattr(self, part) is not None]


class CheckinOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    plan_id: uuid.UUID | None
    due_id: uuid.UUID | None
    completed_at: datetime
    completed_by: CompletedBy
    items: list[str]
    phq9_total: int | None = None
    sds_total: int | None = None
    icsi_total: int | None = None
    craving: int | None
    used_outside_sessions: bool | None
    substance_use: list[dict[str, Any]]
    withdrawal: dict[str, str] | None
    urinary: dict[str, bool] | None
    memory: Severity | None
    note: str | None
    suicide_risk: bool
    follow_up_alert_id: uuid.UUID | None


class CrisisResources(BaseModel):
    message: str
    contacts: list[str]


class CheckinSubmitted(CheckinOut):
    # Set whenever an answer signals suicide risk: the patient sees it at once, whatever the
    # clinic does next.
    crisis: CrisisResources | None = None


class DueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    plan_id: uuid.UUID
    session_id: uuid.UUID | None
    anchor: DueAnchor
    items: list[str]
    opens_at: datetime
    closes_at: datetime
    status: DueStatus
    completed_at: datetime | None
    missed_at: datetime | None
    open: bool = Field(default=False, description="Can be completed now")


class TrendPoint(BaseModel):
    completed_at: datetime
    phq9_total: int | None
    craving: int | None
    sds_total: int | None


class CheckinHistory(BaseModel):
    checkins: list[CheckinOut]
    trend: list[TrendPoint]


class ScheduleOut(BaseModel):
    plan_id: uuid.UUID
    definition: dict[str, Any]
    revision: int
    adjusted_at: datetime | None
    adjusted_by_id: uuid.UUID | None
    adjust_reason: str | None
    notice: str = (
        "The clinical reference gives no schedule for check-ins between sessions: every number "
        "marked review_locally is a ketaguard default for the clinic to review."
    )


class ScheduleAdjust(_In):
    definition: ScheduleDefinition
    reason: str = Field(min_length=10, max_length=4000)


class ScheduleAdjusted(ScheduleOut):
    removed_dues: int
    added_dues: int


class PointOut(BaseModel):
    completed_at: datetime
    total: int
    change: int
    percent_change: float | None
    response: bool
    remission: bool


class EventOut(BaseModel):
    kind: Literal["response", "loss_of_response", "remission"]
    completed_at: datetime
    total: int


class OutcomesOut(BaseModel):
    plan_id: uuid.UUID | None
    baseline_total: int | None
    baseline_completed_at: datetime | None
    baseline_in_measure: bool
    first_dose_at: datetime | None
    points: list[PointOut]
    events: list[EventOut]
    days_to_response: int | None
    status: Literal[
        "no_baseline", "no_follow_up", "no_response", "response", "remission", "lost_response"
    ]
    definitions: dict[str, str]

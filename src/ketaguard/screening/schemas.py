import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ketaguard.alerts.schemas import AlertOut
from ketaguard.screening.models import CompletedBy

Eligibility = Literal["eligible", "eligible_with_precautions", "not_eligible", "needs_review"]
RiskTier = Literal["low", "elevated", "high"]


class ResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(min_length=1, max_length=40)
    # Item id -> answer; items that skip logic does not ask are left out.
    answers: dict[str, int]
    completed_at: AwareDatetime | None = Field(
        default=None, description="When it was filled in; defaults to now"
    )
    supervised: bool = Field(
        default=False,
        description="DSM-5 checklist only: the patient takes ketamine under medical supervision, "
        "so tolerance is not counted",
    )


class ResponseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    instrument: str
    answers: dict[str, int]
    total: int | None
    band: str | None
    flags: list[str]
    extra: dict[str, Any]
    completed_at: datetime
    completed_by: CompletedBy


class ResponseCreated(ResponseOut):
    alerts: list[AlertOut]


class Trend(BaseModel):
    instrument: str
    baseline_total: int | None
    latest_total: int | None
    change: int | None
    percent_change: float | None
    count: int


class ResponseHistory(BaseModel):
    responses: list[ResponseOut]
    trends: list[Trend]


class FindingOut(BaseModel):
    rule_id: str
    severity: str
    message: str
    evidence: dict[str, Any]
    source: str


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    computed_eligibility: Eligibility
    computed_risk_tier: RiskTier
    eligibility_reasons: list[FindingOut]
    risk_reasons: list[FindingOut]
    intake_version_id: uuid.UUID | None
    screening_response_ids: list[str]
    created_at: datetime
    signed_off_at: datetime | None
    signed_off_by_id: uuid.UUID | None
    final_eligibility: Eligibility | None
    final_risk_tier: RiskTier | None
    override_reason: str | None
    notice: str = (
        "These findings support the prescriber's judgement; they do not replace it. "
        "The decision stands only once a prescriber signs it off."
    )


class SignOff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    eligibility: Eligibility | None = Field(
        default=None, description="Leave out to accept the computed eligibility"
    )
    risk_tier: RiskTier | None = Field(
        default=None, description="Leave out to accept the computed risk tier"
    )
    reason: str | None = Field(
        default=None, max_length=4000, description="Required when overriding either"
    )

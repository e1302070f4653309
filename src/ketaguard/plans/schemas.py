import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ketaguard.plans.models import PlanStatus, RequestDecision, RequestKind


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["phq9_response", "phq9_remission", "max_course_length", "other"]
    description: str = Field(min_length=1, max_length=1000)
    by_week: int | None = Field(default=None, ge=1, le=520)


class IntegrationSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planned_on: date | None = None
    with_whom: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protocol: str = Field(
        min_length=1, max_length=64, description="Protocol id, e.g. esketamine-trd"
    )
    protocol_version: int | None = Field(default=None, ge=1, description="Latest when left out")
    start_date: date = Field(description="Week 1, day 1, in the clinic's timezone")
    planned_end_date: date | None = None
    dose_mg: float | None = Field(
        default=None,
        gt=0,
        description="Fixed-dose protocols: the planned dose; mg/kg protocols "
        "compute it from the latest weight",
    )
    goals: list[Goal] = Field(min_length=1)
    integration_therapy: list[IntegrationSession] = Field(default_factory=list)
    review_dates: list[date] = Field(default_factory=list)


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    protocol_version_id: uuid.UUID
    protocol: str
    protocol_version: int
    status: PlanStatus
    start_date: date
    planned_end_date: date | None
    dose_mg: float
    dose_calculation: dict[str, Any]
    goals: list[dict[str, Any]]
    integration_therapy: list[dict[str, Any]]
    review_dates: list[str]
    eligibility_decision_id: uuid.UUID | None
    approved_by_id: uuid.UUID | None
    approved_at: datetime | None
    created_at: datetime


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: PlanStatus
    reason: str = Field(min_length=10, max_length=4000)


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str
    to_status: str
    reason: str
    changed_by_id: uuid.UUID
    changed_at: datetime


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RequestKind
    details: str = Field(min_length=1, max_length=4000)
    requested_at: AwareDatetime | None = None


class RequestDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["granted", "declined"]
    reason: str = Field(min_length=5, max_length=4000)


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    plan_id: uuid.UUID
    kind: RequestKind
    details: str
    requested_at: datetime
    recorded_by_id: uuid.UUID
    decision: RequestDecision
    decided_by_id: uuid.UUID | None
    decided_at: datetime | None
    decision_reason: str | None

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime

from ketaguard.sessions.models import SessionStatus


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    local_start: NaiveDatetime = Field(
        description="Wall-clock start in the clinic's timezone, e.g. 2026-03-09T09:00"
    )
    dose_mg: float | None = Field(default=None, gt=0, description="The plan's dose when left out")
    override_reason: str | None = Field(
        default=None,
        max_length=4000,
        description="Prescribers only: book past the plan's limits, saying why",
    )
    reschedule_of: uuid.UUID | None = Field(
        default=None, description="An existing session this one replaces (it is cancelled)"
    )


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    scheduled_at: datetime
    local_start: str = ""
    planned_dose_mg: float
    status: SessionStatus
    overridden_rules: list[str]
    override_reason: str | None
    cancelled_reason: str | None


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ketaguard.alerts.models import AlertSeverity


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    rule: str
    severity: AlertSeverity
    message: str
    evidence: dict[str, Any]
    source: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: uuid.UUID | None
    action_taken: str | None


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1, max_length=2000, description="What was done")

"""The audit trail as the API shows it, and the filters it is searched by."""

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from ketaguard.audit.models import Outcome

# An action filter ending in this matches every action that starts with what comes before it.
ACTION_PREFIX_WILDCARD = ".*"


class AuditFilter(BaseModel):
    """Which events to find; unset fields do not filter. Usable as a FastAPI query model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_user_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    action: str | None = Field(
        default=None,
        min_length=1,
        description='An exact action, or a family ending in ".*" (e.g. "auth.*").',
    )
    since: AwareDatetime | None = Field(default=None, description="Inclusive.")
    until: AwareDatetime | None = Field(default=None, description="Exclusive.")

    @model_validator(mode="after")
    def _since_before_until(self) -> "AuditFilter":
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be earlier than until")
        return self


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    action: str
    outcome: Outcome
    actor_user_id: uuid.UUID | None
    actor_token_id: uuid.UUID | None
    actor_role: str | None
    organisation_id: uuid.UUID | None
    clinic_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    resource_type: str | None
    resource_id: str | None
    address: str | None
    user_agent: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    @field_validator("detail", mode="before")
    @classmethod
    def _parse_detail(cls, value: Any) -> Any:
        # Stored as canonical JSON text so the hash covers exact bytes; clients get the object.
        return json.loads(value) if isinstance(value, str) else value


class AuditPage(BaseModel):
    total: int
    items: list[AuditEventOut]


class AccessHistoryEntry(BaseModel):
    """One access to a patient's record, as the patient sees it (ONC (d)(3), HIPAA 164.528)."""

    occurred_at: datetime
    action: str
    outcome: Outcome
    by: str
    role: str | None

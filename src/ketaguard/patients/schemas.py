import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from ketaguard.patients.models import CareStatus


class PatientBase(BaseModel):
    record_number: str = Field(min_length=1, max_length=40)
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    care_status: CareStatus = CareStatus.referred


class PatientCreate(PatientBase):
    model_config = ConfigDict(extra="forbid")

    clinic_id: uuid.UUID


class PatientUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    family_name: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date | None = None
    care_status: CareStatus | None = None


class PatientOut(PatientBase):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    clinic_id: uuid.UUID
    created_at: datetime


class BreakGlassRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=10, max_length=2000)


class BreakGlassOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    reason: str
    expires_at: datetime

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ketaguard.auth.models import AccountKind
from ketaguard.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from ketaguard.auth.permissions import Permission
from ketaguard.auth.service import MfaStep
from ketaguard.clinics.models import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class LoginResponse(BaseModel):
    mfa: MfaStep
    csrf_token: str


class MfaCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, max_length=12)
    recovery_code: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _exactly_one(self) -> "MfaCode":
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send either code or recovery_code")
        return self


class EnrolmentOut(BaseModel):
    secret: str
    provisioning_uri: str
    qr_svg: str


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


class MeOut(BaseModel):
    kind: str
    user_id: uuid.UUID | None
    organisation_id: uuid.UUID
    roles: dict[uuid.UUID, Role]
    patient_id: uuid.UUID | None


class MembershipIn(BaseModel):
    clinic_id: uuid.UUID
    role: Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    clinic_id: uuid.UUID
    role: Role


class PatientAccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    kind: AccountKind
    is_active: bool
    roles: dict[uuid.UUID, Role]
    mfa_enabled: bool
    failed_login_count: int
    locked_until: datetime | None


class LoginSessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    address: str | None
    user_agent: str | None


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    clinic_id: uuid.UUID
    scopes: list[Permission] = Field(min_length=1)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    clinic_id: uuid.UUID
    scopes: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored")


class OrganisationPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idle_timeout_minutes: int | None = Field(default=None, ge=1, le=480)
    require_mfa_for_all: bool | None = None


class OrganisationPolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    idle_timeout_minutes: int
    require_mfa_for_all: bool


class BreakGlassReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000)


class BreakGlassGrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    patient_id: uuid.UUID
    reason: str
    created_at: datetime
    expires_at: datetime
    reviewed_at: datetime | None
    reviewed_by_id: uuid.UUID | None
    review_note: str | None

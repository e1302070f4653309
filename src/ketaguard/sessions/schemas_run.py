"""What staff and devices send while running a session."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, with_config

from ketaguard.intake.schemas import MedicationClass
from ketaguard.monitoring.vitals import Reading
from ketaguard.sessions.models import AdverseEventType


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Validated straight into the `Reading` the services take, so that a gateway's batch of a
# hundred is not built twice (198 -> 107 µs to parse one).
@with_config(Strict.model_config)
@dataclass(frozen=True, kw_only=True)
class ReadingIn(Reading):
    """One vital sign: its value in the vital's unit, and when it was measured, with the time
    zone."""

    measured_at: AwareDatetime


class VitalsIn(Strict):
    readings: list[ReadingIn] = Field(min_length=1, max_length=1000)


class DeviceBatch(Strict):
    device_id: str = Field(min_length=1, max_length=128)
    readings: list[ReadingIn] = Field(min_length=1, max_length=1000)


class NewMedication(Strict):
    name: str = Field(min_length=1, max_length=200)
    classes: list[MedicationClass] = Field(default_factory=list)


class PreDoseIn(Strict):
    # Check id (from the protocol's pre-dose checklist) -> confirmed. Every check must be answered.
    checks: dict[str, bool]
    vitals: list[ReadingIn] = Field(min_length=1)
    moaas: int = Field(ge=0, le=5, description="Baseline MOAA/S before dosing")
    craving: int | None = Field(default=None, ge=0, le=10)
    substance_use_since_last_session: str | None = Field(default=None, max_length=2000)
    new_medications: list[NewMedication] = Field(default_factory=list)
    pregnant: bool | None = None
    prescriber_decision: str | None = Field(
        default=None,
        max_length=4000,
        description="Prescribers only: the documented decision to dose despite a pre-dose value",
    )


class DoseStart(Strict):
    dose_mg: float = Field(gt=0)
    lot_number: str = Field(min_length=1, max_length=64)
    started_at: AwareDatetime = Field(description="First device (intranasal) or infusion start")


class DoseComplete(Strict):
    device_times: list[AwareDatetime] | None = Field(
        default=None, description="Intranasal: the time of every device, the first included"
    )
    infusion_ended_at: AwareDatetime | None = None


class RatingIn(Strict):
    scale: Literal["moaas", "cadss6"]
    answers: dict[str, int]
    measured_at: AwareDatetime


class AdverseEventIn(Strict):
    type: AdverseEventType
    description: str | None = Field(default=None, max_length=4000)
    severity: Literal["mild", "moderate", "severe"]
    serious: bool
    action_taken: str = Field(min_length=1, max_length=4000)
    outcome: Literal["resolved", "resolving", "not_resolved", "unknown"]
    onset_at: AwareDatetime


class DischargeIn(Strict):
    transport_present: bool
    ended_at: AwareDatetime | None = Field(
        default=None, description="When monitoring ended, if not now (e.g. recorded afterwards)"
    )
    rems_ready_to_leave_minutes: int | None = Field(
        default=None,
        ge=0,
        le=1440,
        description="REMS evaluation question: with no 2-hour minimum, when would the patient "
        "have been ready to leave (minutes from the start of dosing)?",
    )


class Reason(Strict):
    reason: str = Field(min_length=3, max_length=4000)


class IngestOut(BaseModel):
    added: int
    duplicates: int
    alerts: list[dict[str, Any]]


class UnmetOut(BaseModel):
    id: str
    message: str
    source: str


class SessionDetail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    status: str
    revision: int
    scheduled_at: datetime
    planned_dose_mg: float
    given_dose_mg: float | None
    lot_number: str | None
    device_times: list[str]
    dosed_at: datetime | None
    infusion_ended_at: datetime | None
    observation_started_at: datetime | None
    pre_dose_moaas: int | None
    pre_dose: dict[str, Any] | None
    prescriber_decision: dict[str, Any] | None
    transport_present: bool
    discharged_at: datetime | None
    aborted_reason: str | None

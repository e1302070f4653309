"""The chair-side forms as the API's own schemas, and the services' refusals next to their fields.

Each parser reads a posted form into the schema the API route takes (so both reach the service
with the same thing) or raises `FormInvalid` naming each field in plain words. Field names are
unique on the session page, so a message finds its field whichever form it came from.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from ketaguard.intake.schemas import MedicationClass
from ketaguard.kit.errors import DomainError, InvalidInput
from ketaguard.monitoring.vitals import LABELS, VITALS, Vital
from ketaguard.protocols.definition import ProtocolDefinition
from ketaguard.screening.instruments.cadss6 import ITEMS as CADSS6_ITEMS
from ketaguard.sessions.booking import to_utc
from ketaguard.sessions.models import AdverseEventType
from ketaguard.sessions.schemas_run import (
    AdverseEventIn,
    DischargeIn,
    DoseComplete,
    DoseStart,
    NewMedication,
    PreDoseIn,
    RatingIn,
    ReadingIn,
    Reason,
)
from ketaguard.web.forms import FieldErrors, schema_errors
from ketaguard.web.session_view import Clock

ModelT = TypeVar("ModelT", bound=BaseModel)

NEW_MEDICATION_ROWS = 3
PREGNANT_CHOICES = {"yes": True, "no": False, "not_applicable": None}
# How a REMS form was sent, as the page offers it -> the service's value.
SUBMISSION_METHODS: Mapping[str, Literal["online", "fax"]] = {"online": "online", "fax": "fax"}


class FormInvalid(Exception):
    def __init__(self, errors: FieldErrors) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class FormReader:
    """Typed values out of a posted form, collecting a message per field that cannot be read."""

    def __init__(self, data: FormData, clock: Clock, now: datetime) -> None:
        self.data, self.clock, self.now = data, clock, now
        self.errors: FieldErrors = {}

    def text(self, name: str) -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def checked(self, name: str) -> bool:
        return bool(self.text(name))

    def number(self, name: str, message: str) -> float | None:
        raw = self.text(name).replace(",", ".")
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            self.errors[name] = message
            return None

    def whole(self, name: str, message: str) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        if not raw.isdigit():
            self.errors[name] = message
            return None
        return int(raw)

    def when(self, name: str) -> datetime:
        """A clinic wall-clock time from a datetime-local field; empty means now."""
        raw = self.text(name)
        if not raw:
            return self.now
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            self.errors[name] = "Enter a date and time, like 2026-03-09 09:30"
            return self.now
        if local.tzinfo is not None:
            self.errors[name] = "Enter the time as the clinic's clocks show it"
            return self.now
        try:
            return to_utc(local, self.clock.timezone)
        except InvalidInput as exc:
            self.errors[name] = exc.message
            return self.now

    def require(self, name: str, message: str) -> None:
        if not self.text(name):
            self.errors.setdefault(name, message)

    def done(self) -> None:
        if self.errors:
            raise FormInvalid(self.errors)


def _validated(
    model: type[ModelT],
    values: Mapping[str, Any],
    messages: Mapping[str, str],
    fields: Mapping[str, str],
) -> ModelT:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise FormInvalid(schema_errors(exc, messages, fields=fields)) from exc


def _readings(reader: FormReader, prefix: str, at_field: str) -> list[ReadingIn]:
    measured_at = reader.when(at_field)
    readings = []
    for vital in VITALS:
        value = reader.number(f"{prefix}{vital}", f"Enter the {LABELS[vital]} as a number")
        if value is not None:
            readings.append(ReadingIn(vital=vital, value=value, measured_at=measured_at))
    return readings


def vitals(reader: FormReader) -> list[ReadingIn]:
    readings = _readings(reader, "vitals-", "vitals-measured-at")
    if not readings and not reader.errors:
        reader.errors["vitals"] = "Enter at least one reading"
    reader.done()
    return readings


def pre_dose(
    reader: FormReader, definition: ProtocolDefinition, asked: tuple[Vital, ...]
) -> PreDoseIn:
    for vital in asked:
        reader.require(f"pre-{vital}", f"Enter the {LABELS[vital]} measured before dosing")
    readings = _readings(reader, "pre-", "pre-measured-at")
    moaas = reader.whole("pre-moaas", "Choose the patient's MOAA/S rating")
    if moaas is None:
        reader.errors.setdefault("pre-moaas", "Choose the patient's MOAA/S rating before dosing")
    ids = {check.id for check in definition.pre_dose_checks}
    craving = reader.whole("craving", "Enter a whole number from 0 to 10")
    medications = []
    for row in range(1, NEW_MEDICATION_ROWS + 1):
        name = reader.text(f"med-{row}-name")
        kind = reader.text(f"med-{row}-class")
        if kind and kind not in {c.value for c in MedicationClass}:
            reader.errors[f"med-{row}-class"] = "Choose one of the listed kinds"
        elif name:
            classes = [MedicationClass(kind)] if kind else []
            medications.append(NewMedication(name=name, classes=classes))
        elif kind:
            reader.errors[f"med-{row}-name"] = "Enter the medicine's name"
    pregnancy = reader.text("pregnant")
    if pregnancy and pregnancy not in PREGNANT_CHOICES:
        reader.errors["pregnant"] = "Choose one of the answers"
    reader.done()
    values = {
        "checks": {check: reader.checked(f"check-{check}") for check in sorted(ids)},
        "vitals": readings,
        "moaas": moaas,
        "craving": craving if "craving_score" in ids else None,
        "substance_use_since_last_session": reader.text("substance-use") or None,
        "new_medications": medications,
        "pregnant": PREGNANT_CHOICES.get(pregnancy),
        "prescriber_decision": reader.text("prescriber-decision") or None,
    }
    return _validated(
        PreDoseIn,
        values,
        {
            "vitals": "Enter the readings taken before dosing",
            "moaas": "Choose a rating from 0 to 5",
            "craving": "Enter a whole number from 0 to 10",
            "substance_use_since_last_session": "Keep this under 2000 characters",
            "prescriber_decision": "Keep the decision under 4000 characters",
        },
        {
            "vitals": "pre-systolic_bp",
            "moaas": "pre-moaas",
            "substance_use_since_last_session": "substance-use",
            "prescriber_decision": "prescriber-decision",
        },
    )


def dose_start(reader: FormReader) -> DoseStart:
    dose = reader.number("dose-mg", "Enter the dose in mg, like 56")
    if dose is None:
        reader.errors.setdefault("dose-mg", "Enter the dose given, in mg")
    reader.require("lot-number", "Enter the lot number from the package")
    started_at = reader.when("dose-started-at")
    reader.done()
    return _validated(
        DoseStart,
        {"dose_mg": dose, "lot_number": reader.text("lot-number"), "started_at": started_at},
        {
            "dose_mg": "Enter a dose above 0 mg",
            "lot_number": "Keep the lot number under 64 characters",
        },
        {"dose_mg": "dose-mg", "lot_number": "lot-number", "started_at": "dose-started-at"},
    )


def dose_complete(reader: FormReader, first_device: datetime | None, devices: int) -> DoseComplete:
    """Devices (intranasal): the first is the dose start; each later one is entered. Otherwise
    the end of the infusion."""
    if first_device is None or devices == 0:
        ended = reader.when("infusion-ended-at")
        reader.done()
        return DoseComplete(infusion_ended_at=ended)
    times = [first_device] + [reader.when(f"device-{n}") for n in range(2, devices + 1)]
    reader.done()
    return DoseComplete(device_times=times)


def rating_moaas(reader: FormReader) -> RatingIn:
    rating = reader.whole("moaas", "Choose a rating")
    if rating is None:
        reader.errors.setdefault("moaas", "Choose how the patient responds")
    measured_at = reader.when("moaas-at")
    reader.done()
    assert rating is not None
    return RatingIn(scale="moaas", answers={"moaas-1": rating}, measured_at=measured_at)


def rating_cadss6(reader: FormReader) -> RatingIn:
    answers = {}
    for item in CADSS6_ITEMS:
        value = reader.whole(item.id, "Choose a rating from 0 to 4")
        if value is None:
            reader.errors.setdefault(item.id, "Rate this item")
        else:
            answers[item.id] = value
    measured_at = reader.when("cadss-at")
    reader.done()
    return RatingIn(scale="cadss6", answers=answers, measured_at=measured_at)


def adverse_event(reader: FormReader) -> AdverseEventIn:
    reader.require("ae-type", "Choose what happened")
    reader.require("ae-severity", "Choose how severe it is")
    reader.require("ae-serious", "Say whether it is a serious adverse event")
    reader.require("ae-action", "Say what was done about it")
    reader.require("ae-outcome", "Choose the outcome so far")
    onset = reader.when("ae-onset")
    reader.done()
    return _validated(
        AdverseEventIn,
        {
            "type": reader.text("ae-type"),
            "description": reader.text("ae-description") or None,
            "severity": reader.text("ae-severity"),
            "serious": reader.text("ae-serious") == "yes",
            "action_taken": reader.text("ae-action"),
            "outcome": reader.text("ae-outcome"),
            "onset_at": onset,
        },
        {
            "type": "Choose what happened",
            "severity": "Choose mild, moderate or severe",
            "outcome": "Choose one of the outcomes",
            "action_taken": "Say what was done, in under 4000 characters",
            "description": "Keep the description under 4000 characters",
        },
        {
            "type": "ae-type",
            "severity": "ae-severity",
            "outcome": "ae-outcome",
            "action_taken": "ae-action",
            "description": "ae-description",
        },
    )


def discharge(reader: FormReader, rems_required: bool) -> DischargeIn:
    ended = reader.when("discharge-ended-at") if reader.text("discharge-ended-at") else None
    minutes = None
    if rems_required:
        minutes = reader.whole("rems-ready-minutes", "Enter whole minutes, like 90")
    reader.done()
    return _validated(
        DischargeIn,
        {
            "transport_present": reader.checked("transport-present"),
            "ended_at": ended,
            "rems_ready_to_leave_minutes": minutes,
        },
        {"rems_ready_to_leave_minutes": "Enter minutes from 0 to 1440"},
        {"rems_ready_to_leave_minutes": "rems-ready-minutes", "ended_at": "discharge-ended-at"},
    )


def reason(reader: FormReader, field: str) -> Reason:
    return _validated(
        Reason,
        {"reason": reader.text(field)},
        {"reason": "Say why, in at least 3 characters"},
        {"reason": field},
    )


def ack_field(alert_id: uuid.UUID) -> str:
    return f"ack-{alert_id}"


ADVERSE_EVENT_LABELS: Mapping[AdverseEventType, str] = {
    AdverseEventType.nausea_vomiting: "Nausea or vomiting",
    AdverseEventType.bp_elevation: "Raised blood pressure",
    AdverseEventType.dissociation: "Dissociation",
    AdverseEventType.sedation: "Sedation",
    AdverseEventType.anxiety: "Anxiety",
    AdverseEventType.headache: "Headache",
    AdverseEventType.dizziness: "Dizziness",
    AdverseEventType.respiratory_depression: "Respiratory depression",
    AdverseEventType.urinary_symptoms: "Urinary symptoms",
    AdverseEventType.cognitive_complaints: "Cognitive complaints",
    AdverseEventType.other: "Other",
}
MEDICATION_CLASS_LABELS: Mapping[MedicationClass, str] = {
    MedicationClass.benzodiazepine: "Benzodiazepine (more sedation)",
    MedicationClass.cns_depressant: "Other sedative or CNS depressant (more sedation)",
    MedicationClass.opioid: "Opioid (more sedation)",
    MedicationClass.psychostimulant: "Psychostimulant (higher blood pressure)",
    MedicationClass.maoi: "MAOI (higher blood pressure)",
}


DECISION_NEEDED = "Record your decision to dose despite these values, or hold the dose"


def refusal_errors(
    exc: DomainError,
    default_field: str,
    field_prefix: str = "",
    decision_field: str | None = None,
) -> FieldErrors:
    """A service's refusal next to the fields it concerns: readings and threshold findings name
    their vital, pre-dose checks their check, other refusals their `field=`; else
    `default_field`. Findings that need a prescriber's decision also point at `decision_field`,
    when the page shows one."""
    details = exc.details
    errors: FieldErrors = {}
    for problem in details.get("problems") or []:
        vital = problem.get("vital") if isinstance(problem, dict) else None
        if vital:
            errors.setdefault(f"{field_prefix}{vital}", str(problem.get("message", exc.message)))
    for check in details.get("unconfirmed") or []:
        errors[f"check-{check}"] = "Confirm this before dosing, or hold the dose"
    for finding in details.get("findings") or []:
        parts = str(finding.get("rule", "")).split(".")
        if len(parts) == 3 and parts[0] == "vitals":
            errors.setdefault(f"{field_prefix}{parts[1]}", str(finding.get("message", "")))
        if decision_field:
            errors[decision_field] = DECISION_NEEDED
    if errors:
        return errors
    field = details.get("field")
    name = FIELD_NAMES.get(field, field) if isinstance(field, str) else default_field
    return {name: exc.message}


# A service's `field=` (the API's field name) -> the field's name on the page.
FIELD_NAMES: Mapping[str, str] = {
    "dose_mg": "dose-mg",
    "started_at": "dose-started-at",
    "device_times": "device-2",
    "infusion_ended_at": "infusion-ended-at",
    "ended_at": "discharge-ended-at",
    "submitted_on": "rems-submitted-on",
}

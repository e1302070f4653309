"""FHIR R4 vital-sign Observations, alone or in a Bundle, mapped to ketaguard vital readings.

Bedside gateways speak FHIR R4: each reading is an `Observation` in the vital-signs category,
coded with LOINC and valued with a UCUM `valueQuantity`, posted alone or in a `batch` /
`transaction` Bundle. This module turns such JSON (plain dicts, as decoded) into `FhirReading`s.
It is pure: no database, no HTTP, no clock; binding a reading to a patient or session is the
caller's job (`Observation.subject` is not read here).

What is accepted is deliberately narrow, because a misread vital sign is a safety problem:
- status final, amended, corrected or preliminary (cancelled and entered-in-error are refused);
- category vital-signs, or no category at all;
- one of the LOINC codes in `LOINC_VITALS` (a blood pressure panel gives two readings, from its
  systolic and diastolic components); other codings may sit beside it, but codes for two
  different vitals in one `Observation.code` are refused;
- an exact `valueQuantity` (no comparator) in the UCUM unit of its vital;
- the time it was measured as a full timestamp with a timezone (effectiveDateTime,
  effectivePeriod.start or effectiveInstant); date-only and naive values are refused.

Every problem raises `FhirError` naming the JSON path at fault ("Observation.code.coding",
"Bundle.entry[3].resource.valueQuantity.unit"). A Bundle is all-or-nothing: every entry is read,
and if any fails one `FhirBundleError` lists each entry's problem.
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from ketaguard.protocols.definition import SPO2_CEILING, VITAL_UNITS, Vital

__all__ = [
    "LOINC_SYSTEM",
    "LOINC_VITALS",
    "UCUM_SYSTEM",
    "UCUM_UNITS",
    "FhirBundleError",
    "FhirError",
    "FhirReading",
    "LoincCode",
    "parse_fhir",
    "readings_from_bundle",
    "readings_from_observation",
]

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS_CATEGORY = "vital-signs"

# A blood pressure panel carries no value of its own: its components are the readings.
Meaning = Vital | Literal["bp_panel"]


@dataclass(frozen=True)
class LoincCode:
    meaning: Meaning
    display: str
    source: str  # tag(s) and section of shared/clinical-reference.md


# The LOINC codes ketaguard reads, each with the clinical-reference tags it comes from.
LOINC_VITALS: Mapping[str, LoincCode] = MappingProxyType(
    {
        "85354-9": LoincCode("bp_panel", "Blood pressure panel", "[S144][S145] §6.1"),
        "8480-6": LoincCode("systolic_bp", "Systolic blood pressure", "[S144] §6.1"),
        "8462-4": LoincCode("diastolic_bp", "Diastolic blood pressure", "[S144] §6.1"),
        # §6.1 marks this "check"; the R4 heart rate profile fixes 8867-4.
        "8867-4": LoincCode("heart_rate", "Heart rate", "[S146] §6.1"),
        # The R4 oxygen saturation profile requires 2708-6; a more specific code such as
        # 59408-5 may be added beside it. Gateways send either or both; both mean SpO2.
        "2708-6": LoincCode("spo2", "Oxygen saturation in Arterial blood", "[S155] §6.1"),
        "59408-5": LoincCode(
            "spo2", "Oxygen saturation in Arterial blood by Pulse oximetry", "[S147] §6.1"
        ),
        "9279-1": LoincCode("respiratory_rate", "Respiratory rate", "[S144] §6.1"),
    }
)

# UCUM codes accepted for each vital. Curly-brace annotations carry no meaning in UCUM, so
# "{beats}/min" is "/min", as is "1/min".
_PER_MINUTE = frozenset({"/min", "1/min", "{beats}/min", "{breaths}/min"})
UCUM_UNITS: Mapping[Vital, frozenset[str]] = MappingProxyType(
    {
        "systolic_bp": frozenset({"mm[Hg]"}),
        "diastolic_bp": frozenset({"mm[Hg]"}),
        "heart_rate": _PER_MINUTE,
        "spo2": frozenset({"%"}),
        "respiratory_rate": _PER_MINUTE,
    }
)

_MEANINGS = frozenset(code.meaning for code in LOINC_VITALS.values())
_BP_COMPONENTS: tuple[Vital, ...] = ("systolic_bp", "diastolic_bp")

ACCEPTED_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})
_WITHDRAWN_STATUSES = frozenset({"cancelled", "entered-in-error"})
_BUNDLE_TYPES = frozenset({"batch", "transaction"})

_DATE_ONLY = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)


class FhirError(ValueError):
    """A FHIR payload ketaguard will not read: `path` names the element, `message` says why.

    `entry` is the Bundle entry index when the problem was found inside a Bundle.
    """

    def __init__(self, path: str, message: str, *, entry: int | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.entry = entry


class FhirBundleError(FhirError):
    """One or more Bundle entries were refused, so none was read; `errors` lists them all."""

    def __init__(self, errors: Sequence[FhirError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        lines = "".join(f"\n- {error}" for error in self.errors)
        noun = "entry was" if count == 1 else "entries were"
        super().__init__("Bundle.entry", f"{count} {noun} refused, so nothing was read:{lines}")

    @property
    def entries(self) -> tuple[int, ...]:
        return tuple(error.entry for error in self.errors if error.entry is not None)


@dataclass(frozen=True)
class FhirReading:
    vital: Vital
    value: float
    unit: str  # ketaguard's unit for the vital (protocols.definition.VITAL_UNITS)
    measured_at: datetime  # aware, in UTC
    device_id: str | None
    source_id: str | None


def parse_fhir(payload: Mapping[str, Any]) -> list[FhirReading]:
    """Read an Observation or a Bundle of them, by its resourceType."""
    resource = _object(payload, "resource")
    resource_type = resource.get("resourceType")
    if resource_type == "Observation":
        return readings_from_observation(resource)
    if resource_type == "Bundle":
        return readings_from_bundle(resource)
    raise FhirError("resourceType", f"must be 'Observation' or 'Bundle', got {resource_type!r}")


def readings_from_observation(resource: Mapping[str, Any]) -> list[FhirReading]:
    """The readings in one vital-sign Observation: two for a blood pressure panel, else one."""
    return _observation(resource, "Observation")


def readings_from_bundle(bundle: Mapping[str, Any]) -> list[FhirReading]:
    """Every reading of a batch or transaction Bundle of Observations, in entry order.

    All or nothing: if any entry is refused, `FhirBundleError` lists every refused entry.
    """
    found = _object(bundle, "Bundle")
    resource_type = found.get("resourceType")
    if resource_type != "Bundle":
        raise FhirError("Bundle.resourceType", f"must be 'Bundle', got {resource_type!r}")
    bundle_type = found.get("type")
    if bundle_type not in _BUNDLE_TYPES:
        raise FhirError("Bundle.type", f"must be 'batch' or 'transaction', got {bundle_type!r}")
    entries = _list(found.get("entry"), "Bundle.entry")
    readings: list[FhirReading] = []
    errors: list[FhirError] = []
    for index, entry in enumerate(entries):
        try:
            readings.extend(_entry(entry, f"Bundle.entry[{index}]"))
        except FhirError as error:
            errors.append(FhirError(error.path, error.message, entry=index))
    if errors:
        raise FhirBundleError(errors)
    return readings


def _entry(raw: object, at: str) -> list[FhirReading]:
    entry = _object(raw, at)
    if "request" in entry:
        method = _object(entry["request"], f"{at}.request").get("method")
        if method != "POST":
            raise FhirError(f"{at}.request.method", f"must be POST (a new reading), got {method!r}")
    return _observation(entry.get("resource"), f"{at}.resource")


def _observation(raw: object, at: str) -> list[FhirReading]:
    observation = _object(raw, at)
    resource_type = observation.get("resourceType")
    if resource_type != "Observation":
        raise FhirError(f"{at}.resourceType", f"must be 'Observation', got {resource_type!r}")
    _check_status(observation, at)
    _check_category(observation, at)
    meaning = _coded_meaning(observation.get("code"), at, _MEANINGS)
    if meaning is None:
        raise FhirError(f"{at}.code.coding", _unrecognised(observation["code"]))
    if meaning == "bp_panel":
        values = _blood_pressure(observation, at)
    else:
        values = [(meaning, _quantity(observation, at, meaning))]
    measured_at = _effective(observation, at)
    device_id = _device(observation, at)
    source_id = _source(observation, at)
    return [
        FhirReading(vital, value, VITAL_UNITS[vital], measured_at, device_id, source_id)
        for vital, value in values
    ]


def _check_status(observation: Mapping[str, Any], at: str) -> None:
    status = observation.get("status")
    if status in ACCEPTED_STATUSES:
        return
    if status in _WITHDRAWN_STATUSES:
        raise FhirError(f"{at}.status", f"is {status!r}: the Observation is not a reading")
    accepted = ", ".join(sorted(ACCEPTED_STATUSES))
    raise FhirError(f"{at}.status", f"must be one of {accepted}; got {status!r}")


def _check_category(observation: Mapping[str, Any], at: str) -> None:
    if "category" not in observation:
        return
    for index, raw in enumerate(_list(observation["category"], f"{at}.category")):
        concept = _object(raw, f"{at}.category[{index}]")
        codings = _list(concept.get("coding", []), f"{at}.category[{index}].coding", empty=True)
        for number, coding in enumerate(codings):
            found = _object(coding, f"{at}.category[{index}].coding[{number}]")
            if found.get("system") == CATEGORY_SYSTEM and found.get("code") == VITAL_SIGNS_CATEGORY:
                return
    raise FhirError(
        f"{at}.category",
        f"must include {VITAL_SIGNS_CATEGORY!r} from {CATEGORY_SYSTEM} (or be left out)",
    )


def _coded_meaning(raw: object, at: str, allowed: frozenset[Meaning]) -> Meaning | None:
    """What `at.code` means among `allowed`, or None; a known code under the wrong system fails."""
    path = f"{at}.code"
    codings = _list(_object(raw, path).get("coding"), f"{path}.coding")
    meanings: list[Meaning] = []
    misfiled: FhirError | None = None
    for index, raw_coding in enumerate(codings):
        coding_path = f"{path}.coding[{index}]"
        coding = _object(raw_coding, coding_path)
        code, system = coding.get("code"), coding.get("system")
        known = LOINC_VITALS.get(code) if isinstance(code, str) else None
        if known is None or known.meaning not in allowed:
            continue
        if system != LOINC_SYSTEM:
            misfiled = misfiled or FhirError(
                f"{coding_path}.system",
                f"LOINC code {code!r} needs system {LOINC_SYSTEM!r}, got {system!r}",
            )
        elif known.meaning not in meanings:
            meanings.append(known.meaning)
    if len(meanings) > 1:
        raise FhirError(
            f"{path}.coding", f"codes more than one vital ({', '.join(meanings)}); send one each"
        )
    if meanings:
        return meanings[0]
    if misfiled is not None:
        raise misfiled
    return None


def _unrecognised(concept: Mapping[str, Any]) -> str:
    sent = [
        f"{coding.get('system')}|{coding.get('code')}"
        for coding in concept.get("coding", [])
        if isinstance(coding, Mapping)
    ]
    accepted = ", ".join(f"{code} ({known.display})" for code, known in LOINC_VITALS.items())
    return (
        f"has no vital-sign code ketaguard reads (got {', '.join(sent) or 'none'}); "
        f"accepted with system {LOINC_SYSTEM}: {accepted}"
    )


def _blood_pressure(observation: Mapping[str, Any], at: str) -> list[tuple[Vital, float]]:
    components = _list(observation.get("component"), f"{at}.component")
    values: dict[Vital, float] = {}
    for index, raw in enumerate(components):
        path = f"{at}.component[{index}]"
        component = _object(raw, path)
        # Other components (e.g. mean arterial pressure) are not readings ketaguard keeps.
        vital = _coded_meaning(component.get("code"), path, frozenset(_BP_COMPONENTS))
        if vital is None or vital == "bp_panel":
            continue
        if vital in values:
            raise FhirError(f"{path}.code", f"is a second {vital} component")
        values[vital] = _quantity(component, path, vital)
    missing = [vital for vital in _BP_COMPONENTS if vital not in values]
    if missing:
        codes = ", ".join(
            f"{code} ({known.display})"
            for code, known in LOINC_VITALS.items()
            if known.meaning in missing
        )
        raise FhirError(f"{at}.component", f"a blood pressure panel needs a component {codes}")
    return [(vital, values[vital]) for vital in _BP_COMPONENTS]


def _quantity(element: Mapping[str, Any], at: str, vital: Vital) -> float:
    path = f"{at}.valueQuantity"
    if "valueQuantity" not in element:
        other = next((key for key in element if key.startswith("value")), None)
        if other is not None:
            raise FhirError(f"{at}.{other}", "a vital sign must be a valueQuantity")
        if "dataAbsentReason" in element:
            raise FhirError(path, "is missing (dataAbsentReason given): there is no reading")
        raise FhirError(path, "is missing")
    quantity = _object(element["valueQuantity"], path)
    if "comparator" in quantity:
        raise FhirError(f"{path}.comparator", "an inexact value (<, <=, >=, >) is not a reading")
    value = _number(quantity.get("value"), f"{path}.value")
    system = quantity.get("system")
    if system is not None and system != UCUM_SYSTEM:
        raise FhirError(f"{path}.system", f"must be {UCUM_SYSTEM!r} (UCUM), got {system!r}")
    # `code` is the UCUM code; `unit` is display text, read only when no code is given.
    unit_key = "code" if "code" in quantity else "unit"
    if quantity.get(unit_key) is None:
        raise FhirError(f"{path}.code", "is missing: a UCUM unit code is required")
    unit = _string(quantity[unit_key], f"{path}.{unit_key}")
    accepted = UCUM_UNITS[vital]
    if unit not in accepted:
        raise FhirError(
            f"{path}.{unit_key}",
            f"{vital} needs UCUM unit {' or '.join(map(repr, sorted(accepted)))}, got {unit!r}",
        )
    if value < 0:
        raise FhirError(f"{path}.value", f"cannot be negative, got {value}")
    if vital == "spo2" and value > SPO2_CEILING:
        raise FhirError(f"{path}.value", f"a percentage above {SPO2_CEILING}: {value}")
    return value


def _effective(observation: Mapping[str, Any], at: str) -> datetime:
    keys = [key for key in observation if key.startswith("effective")]
    if not keys:
        raise FhirError(
            f"{at}.effective[x]",
            "is missing: give effectiveDateTime, effectivePeriod.start or effectiveInstant",
        )
    if len(keys) > 1:
        raise FhirError(f"{at}.effective[x]", f"has more than one value ({', '.join(keys)})")
    key = keys[0]
    if key in ("effectiveDateTime", "effectiveInstant"):
        return _timestamp(observation[key], f"{at}.{key}")
    if key == "effectivePeriod":
        period = _object(observation[key], f"{at}.{key}")
        return _timestamp(period.get("start"), f"{at}.{key}.start")
    raise FhirError(
        f"{at}.{key}", "use effectiveDateTime, effectivePeriod.start or effectiveInstant"
    )


def _timestamp(raw: object, path: str) -> datetime:
    text = _string(raw, path)
    if _DATE_ONLY.fullmatch(text):
        raise FhirError(path, f"is date-only ({text!r}): a full timestamp with timezone is needed")
    if _NAIVE.fullmatch(text):
        raise FhirError(path, f"has no timezone ({text!r}): add 'Z' or an offset such as +01:00")
    if _TIMESTAMP.fullmatch(text):
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except ValueError:
            pass
    raise FhirError(path, f"is not a FHIR timestamp such as 2024-05-01T09:30:00Z: {text!r}")


def _device(observation: Mapping[str, Any], at: str) -> str | None:
    if observation.get("device") is None:
        return None
    path = f"{at}.device"
    device = _object(observation["device"], path)
    if device.get("identifier") is not None:
        identifier = _object(device["identifier"], f"{path}.identifier")
        value = _optional_string(identifier.get("value"), f"{path}.identifier.value")
        if value is not None:
            return value
    return _optional_string(device.get("display"), f"{path}.display") or _optional_string(
        device.get("reference"), f"{path}.reference"
    )


def _source(observation: Mapping[str, Any], at: str) -> str | None:
    resource_id = _optional_string(observation.get("id"), f"{at}.id")
    if resource_id is not None or observation.get("identifier") is None:
        return resource_id
    identifiers = _list(observation["identifier"], f"{at}.identifier", empty=True)
    for index, raw in enumerate(identifiers):
        identifier = _object(raw, f"{at}.identifier[{index}]")
        value = _optional_string(identifier.get("value"), f"{at}.identifier[{index}].value")
        if value is not None:
            return value
    return None


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    return "an array" if isinstance(value, list | tuple) else type(value).__name__


def _object(value: object, path: str) -> Mapping[str, Any]:
    if value is None:
        raise FhirError(path, "is missing")
    if not isinstance(value, Mapping):
        raise FhirError(path, f"must be an object, got {_describe(value)}")
    return value


def _list(value: object, path: str, *, empty: bool = False) -> Sequence[object]:
    if value is None:
        raise FhirError(path, "is missing")
    if not isinstance(value, list | tuple):
        raise FhirError(path, f"must be an array, got {_describe(value)}")
    if not value and not empty:
        raise FhirError(path, "is empty")
    return value


def _string(value: object, path: str) -> str:
    if value is None:
        raise FhirError(path, "is missing")
    if not isinstance(value, str):
        raise FhirError(path, f"must be a string, got {_describe(value)}")
    return value


def _optional_string(value: object, path: str) -> str | None:
    if value is None:
        return None
    return _string(value, path).strip() or None


def _number(value: object, path: str) -> float:
    if value is None:
        raise FhirError(path, "is missing")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise FhirError(path, f"must be a number, got {_describe(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise FhirError(path, f"must be a finite number, got {value!r}")
    return number

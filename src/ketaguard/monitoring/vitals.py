"""Vital-sign readings and the data-entry checks they pass before any rule reads them.

The vocabulary (`Vital`) and units come from the protocol format, so a reading and a protocol
threshold always speak of the same things. `check_readings` refuses values no living patient can
have and times that cannot be right; it says nothing about whether a value is safe: that is the
protocol's hold thresholds' job (`monitoring.rules`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Literal, Protocol, cast, get_args

from ketaguard.kit.time import fixed_offset
from ketaguard.protocols.definition import SPO2_CEILING, VITAL_UNITS, VITALS, Vital

__all__ = [
    "CLOCK_SKEW_ALLOWANCE",
    "LABELS",
    "PLAUSIBLE",
    "PROBLEM_CODES",
    "UNITS",
    "VITALS",
    "PlausibleRange",
    "ProblemCode",
    "Reading",
    "ReadingProblem",
    "Vital",
    "as_utc",
    "check_readings",
    "is_aware",
    "require_aware",
]

UNITS: Mapping[Vital, str] = VITAL_UNITS

LABELS: Mapping[Vital, str] = MappingProxyType(
    {
        "systolic_bp": "Systolic BP",
        "diastolic_bp": "Diastolic BP",
        "heart_rate": "Heart rate",
        "spo2": "SpO2",
        "respiratory_rate": "Respiratory rate",
    }
)


@dataclass(frozen=True)
class PlausibleRange:
    """Both ends included, in the vital's unit (`UNITS`)."""

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


# Data-entry guards, NOT clinical thresholds: they refuse values that are physiologically
# impossible (a typo, a unit mix-up, a probe off the finger) and are deliberately generous, so
# that every real reading, however alarming, is accepted and then judged by the protocol's hold
# thresholds. They decide nothing about safety and cite no clinical source.
PLAUSIBLE: Mapping[Vital, PlausibleRange] = MappingProxyType(
    {
        "systolic_bp": PlausibleRange(40, 300),
        "diastolic_bp": PlausibleRange(20, 200),
        "heart_rate": PlausibleRange(20, 300),
        "spo2": PlausibleRange(50, SPO2_CEILING),
        "respiratory_rate": PlausibleRange(2, 80),
    }
)

# How far ahead of the server's clock a device or a person may stamp a reading (clocks drift).
# Also a data-entry guard, not a clinical number.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)

ProblemCode = Literal[
    "unknown_vital",
    "not_a_number",
    "implausible",
    "naive_datetime",
    "in_future",
    "systolic_not_above_diastolic",
]
PROBLEM_CODES = cast(tuple[ProblemCode, ...], get_args(ProblemCode))


@dataclass(frozen=True, kw_only=True)
class Reading:
    """One measured vital sign. Not validated on construction, so that `check_readings` can
    report every problem of a batch at once; rules expect readings that passed it."""

    vital: Vital
    value: float
    measured_at: datetime


class MeasuredVital(Protocol):
    """Anything that carries one measurement: the API's and the pages' inputs, a FHIR reading."""

    @property
    def vital(self) -> Vital: ...
    @property
    def value(self) -> float: ...
    @property
    def measured_at(self) -> datetime: ...


def readings_of(items: Iterable[MeasuredVital]) -> list[Reading]:
    return [Reading(vital=i.vital, value=i.value, measured_at=i.measured_at) for i in items]


@dataclass(frozen=True, kw_only=True)
class ReadingProblem:
    """What is wrong with the reading at `index` of the batch."""

    index: int
    vital: str
    code: ProblemCode
    message: str


def is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def require_aware(value: datetime, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` (named ``name`` in the message) is timezone-aware."""
    if not is_aware(value):
        raise ValueError(f"{name} must be timezone-aware")


def as_utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC (``ValueError`` naming ``name`` if it is naive). Elapsed time is counted
    between UTC instants: Python subtracts and compares two datetimes that share a tzinfo by their
    wall-clock faces, which is wrong across a daylight-saving change."""
    require_aware(value, name)
    return value.astimezone(UTC)


def check_readings(readings: Sequence[Reading], now: datetime) -> list[ReadingProblem]:
    """Every problem in a batch of readings, by index (empty: all may be stored).

    A reading is refused when its vital is unknown, its value is not a finite number or is
    outside `PLAUSIBLE`, its time is naive or more than `CLOCK_SKEW_ALLOWANCE` after `now`, or,
    for blood pressure, its systolic value is not above the diastolic value measured at the same
    instant (both readings are named). ``now`` must be timezone-aware.
    """
    now = as_utc(now, "now")
    latest = now + CLOCK_SKEW_ALLOWANCE
    zone: tzinfo | None = UTC
    latest_in_zone: datetime | None = latest
    problems: list[ReadingProblem] = []
    sound: list[tuple[int, Reading]] = []
    for index, reading in enumerate(readings):
        # A gateway's batch is a hundred good readings: a few comparisons clear each one, and
        # only a reading they do not clear is examined for what is wrong with it.
        limits, value, measured_at = (
            PLAUSIBLE.get(reading.vital),
            reading.value,
            reading.measured_at,
        )
        if measured_at.tzinfo is not zone:
            zone = measured_at.tzinfo
            latest_in_zone = _in_fixed_zone(latest, zone)
        if (
            limits is not None
            and type(value) in _PLAIN_NUMBERS
            and limits.low <= value <= limits.high
            and latest_in_zone is not None
            and measured_at <= latest_in_zone
        ):
            sound.append((index, reading))
            continue
        found = _problems(index, reading, now)
        problems += found
        if not found:
            sound.append((index, reading))
    problems += _pressure_problems(sound)
    problems.sort(key=lambda problem: problem.index)
    return problems


def _in_fixed_zone(moment: datetime, zone: tzinfo | None) -> datetime | None:
    """`moment` in `zone` if that zone has one offset for all times (`fixed_offset`), else None.

    Two times in the same zone object compare by their fields alone, without asking the zone
    for its offset, which is exact for a fixed one: a gateway's batch of 100 took about 55 µs to
    check when each reading asked pydantic's zone twice, and 18 µs this way. Times in a region's
    zone, or in none, take the full checks."""
    if zone is None or fixed_offset(zone) is None:
        return None
    return moment.astimezone(zone)


# Not bool, which is an int to Python but no measurement; NaN and infinity fail the range.
_PLAIN_NUMBERS = (int, float)


def _problems(index: int, reading: Reading, now: datetime) -> list[ReadingProblem]:
    problems: list[ReadingProblem] = []

    def problem(code: ProblemCode, message: str) -> None:
        problems.append(ReadingProblem(index=index, vital=str(vital), code=code, message=message))

    vital, value = reading.vital, reading.value
    if vital not in VITALS:
        problem("unknown_vital", f"unknown vital {vital!r}; expected one of {', '.join(VITALS)}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problem("not_a_number", f"value {value!r} is not a finite number")
    elif vital in VITALS and value not in PLAUSIBLE[vital]:
        limits, unit = PLAUSIBLE[vital], UNITS[vital]
        problem(
            "implausible",
            f"{LABELS[vital]} {value:g} {unit} is not a possible value "
            f"(accepted {limits.low:g}-{limits.high:g} {unit}); check the entry and the unit",
        )
    if not is_aware(reading.measured_at):
        problem("naive_datetime", "measured_at has no timezone")
    elif (ahead := reading.measured_at.astimezone(UTC) - now) > CLOCK_SKEW_ALLOWANCE:
        problem(
            "in_future",
            f"measured_at {reading.measured_at.isoformat()} is {_minutes(ahead)} minutes in the "
            f"future (allowed clock skew {_minutes(CLOCK_SKEW_ALLOWANCE)} minutes)",
        )
    return problems


def _pressure_problems(sound: list[tuple[int, Reading]]) -> list[ReadingProblem]:
    """Systolic must exceed diastolic when both were measured at the same instant."""
    diastolic_at: dict[datetime, list[tuple[int, Reading]]] = {}
    for index, reading in sound:
        if reading.vital == "diastolic_bp":
            diastolic_at.setdefault(_instant(reading), []).append((index, reading))
    problems: list[ReadingProblem] = []
    for s_index, systolic in sound:
        if systolic.vital != "systolic_bp":
            continue
        for d_index, diastolic in diastolic_at.get(_instant(systolic), []):
            if systolic.value > diastolic.value:
                continue
            unit = UNITS["systolic_bp"]
            pair = f"systolic {systolic.value:g} {unit}, diastolic {diastolic.value:g} {unit}"
            problems.append(
                ReadingProblem(
                    index=s_index,
                    vital="systolic_bp",
                    code="systolic_not_above_diastolic",
                    message=f"systolic is not above the diastolic reading {d_index} measured at "
                    f"the same time ({pair})",
                )
            )
            problems.append(
                ReadingProblem(
                    index=d_index,
                    vital="diastolic_bp",
                    code="systolic_not_above_diastolic",
                    message=f"diastolic is not below the systolic reading {s_index} measured at "
                    f"the same time ({pair})",
                )
            )
    return problems


def _instant(reading: Reading) -> datetime:
    return reading.measured_at.astimezone(UTC)


def _minutes(delta: timedelta) -> str:
    return f"{round(delta.total_seconds() / 60, 1):g}"

"""Whether a patient may leave: the protocol's discharge criteria, each checked against the facts.

Only the criteria the protocol lists are checked, in its order, and each unmet one carries the
protocol's source. Every number (observation minutes, thresholds) comes from the definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from ketaguard.monitoring.rules import applies, trips
from ketaguard.monitoring.vitals import LABELS, UNITS, Reading, Vital, as_utc, require_aware
from ketaguard.protocols.definition import (
    DischargeCriterionId,
    ObservationStart,
    ProtocolDefinition,
)
from ketaguard.screening.instruments.moaas import ITEM as MOAAS_ITEM
from ketaguard.screening.instruments.moaas import sedation_from

__all__ = [
    "CHECKS",
    "DischargeFacts",
    "UnmetCriterion",
    "unmet_discharge_criteria",
]

_MOAAS_TOP = MOAAS_ITEM.options[-1].value  # answers readily: no baseline can be above it
_STARTS_AT_WORDS: Mapping[ObservationStart, str] = MappingProxyType(
    {
        "first_device": "the first device",
        "dose_start": "the start of the dose",
        "infusion_end": "the end of the infusion",
    }
)


@dataclass(frozen=True, kw_only=True)
class DischargeFacts:
    """What the session knows when someone asks whether the patient may leave.

    `latest_readings` holds the most recent reading of each vital measured; `observation_started_at`
    is None until the observation clock starts (the protocol says when: `observation_starts_at`).
    """

    observation_started_at: datetime | None
    latest_readings: Mapping[Vital, Reading]
    pre_dose_moaas: int | None
    latest_moaas: int | None
    transport_present: bool
    prescriber_cleared: bool

    def __post_init__(self) -> None:
        if self.observation_started_at is not None:
            require_aware(self.observation_started_at, "observation_started_at")
        for vital, reading in self.latest_readings.items():
            if reading.vital != vital:
                raise ValueError(f"a {reading.vital} reading is filed under {vital}")
            require_aware(reading.measured_at, f"{vital} measured_at")
        for rating in (self.pre_dose_moaas, self.latest_moaas):
            if rating is not None:
                MOAAS_ITEM.check(rating)


@dataclass(frozen=True, kw_only=True)
class UnmetCriterion:
    id: DischargeCriterionId
    message: str
    source: str
    review_locally: bool = False


def unmet_discharge_criteria(
    definition: ProtocolDefinition, facts: DischargeFacts, now: datetime
) -> list[UnmetCriterion]:
    """The protocol's discharge criteria that `facts` do not meet at `now` (empty: all met)."""
    now = as_utc(now, "now")
    unmet: list[UnmetCriterion] = []
    for criterion in definition.discharge_criteria:
        message = CHECKS[criterion.id](definition, facts, now)
        if message is not None:
            unmet.append(
                UnmetCriterion(
                    id=criterion.id,
                    message=message,
                    source=criterion.source,
                    review_locally=criterion.review_locally,
                )
            )
    return unmet


# Each check returns why the criterion is unmet, or None when it is met.
Check = Callable[[ProtocolDefinition, DischargeFacts, datetime], str | None]


def min_observation_elapsed(
    definition: ProtocolDefinition, facts: DischargeFacts, now: datetime
) -> str | None:
    """At least `min_observation_minutes` since the observation clock started."""
    monitoring = definition.monitoring
    required = monitoring.min_observation_minutes.value
    since = _STARTS_AT_WORDS[monitoring.observation_starts_at]
    if facts.observation_started_at is None:
        return f"Observation has not started: at least {required} minutes from {since} are needed."
    start, now = as_utc(facts.observation_started_at, "observation_started_at"), as_utc(now, "now")
    remaining = start + timedelta(minutes=required) - now
    if remaining <= timedelta(0):
        return None
    elapsed = max(0, math.floor((now - start).total_seconds() / 60))
    left = math.ceil(remaining.total_seconds() / 60)
    return (
        f"{_minutes_remain(left)} of the {required}-minute observation "
        f"({elapsed} minutes since {since})."
    )


def vitals_within_thresholds(
    definition: ProtocolDefinition, facts: DischargeFacts, now: datetime
) -> str | None:
    """The latest reading of each vital trips no threshold that applies after dosing ("during"
    or "any"), and every vital the protocol checks `before_discharge` has a reading taken since
    the observation clock started (ours: with no reading there is nothing to judge)."""
    problems: list[str] = []
    start = facts.observation_started_at
    start = None if start is None else as_utc(start, "observation_started_at")
    for vital in _before_discharge_vitals(definition):
        reading = facts.latest_readings.get(vital)
        if reading is None:
            problems.append(f"no {LABELS[vital]} reading")
        elif start is not None and as_utc(reading.measured_at, "measured_at") < start:
            problems.append(f"no {LABELS[vital]} reading since observation began")
    for threshold in definition.monitoring.hold_thresholds:
        reading = facts.latest_readings.get(threshold.vital)
        if (
            reading is None
            or not applies(threshold, "during")
            or not trips(threshold, reading.value)
        ):
            continue
        unit = UNITS[reading.vital]
        words = threshold.comparison.replace("_", " ")
        problems.append(
            f"{LABELS[reading.vital]} {reading.value:g} {unit} is {words} "
            f"{threshold.value.value} {unit}"
        )
    if not problems:
        return None
    return "Vital signs not ready for discharge: " + "; ".join(problems) + "."


def _before_discharge_vitals(definition: ProtocolDefinition) -> list[Vital]:
    vitals: list[Vital] = []
    for check in definition.monitoring.vitals_schedule:
        if check.at == "before_discharge":
            vitals += [vital for vital in check.vitals if vital not in vitals]
    return vitals


def sedation_at_baseline(
    definition: ProtocolDefinition, facts: DischargeFacts, now: datetime
) -> str | None:
    """The latest MOAA/S is not below the pre-dose rating: any drop is sedation [S30][S2] (§3.1).
    Without a pre-dose rating only the top of the scale shows a return to baseline."""
    latest, pre = facts.latest_moaas, facts.pre_dose_moaas
    if latest is None:
        return "No MOAA/S rating has been recorded since dosing."
    if pre is None:
        if latest == _MOAAS_TOP:
            return None
        return (
            f"MOAA/S is {latest} and there is no pre-dose rating to compare it with; "
            f"a return to baseline cannot be confirmed below {_MOAAS_TOP}."
        )
    if sedation_from(pre, latest):
        return f"MOAA/S is {latest}, below the pre-dose rating of {pre}."
    return None


def transport_present(
    definition: ProtocolDefinition, facts: DischargeFacts, now: datetime
) -> str | None:
    return None if facts.transport_present else "The ride home is not here yet."


def prescriber_cleared(
    definition: ProtocolDefinition, facts: DischargeFacts, now: datetime
) -> str | None:
    if facts.prescriber_cleared:
        return None
    return "A prescriber has not yet judged the patient clinically stable and ready to leave."


def _minutes_remain(count: int) -> str:
    return "1 minute remains" if count == 1 else f"{count} minutes remain"


CHECKS: Mapping[DischargeCriterionId, Check] = MappingProxyType(
    {
        "min_observation_elapsed": min_observation_elapsed,
        "vitals_within_thresholds": vitals_within_thresholds,
        "sedation_at_baseline": sedation_at_baseline,
        "transport_present": transport_present,
        "prescriber_cleared": prescriber_cleared,
    }
)

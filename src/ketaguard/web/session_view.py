"""What the session pages show, worked out from a session and its protocol: the state in words and
its next steps, clinic-local times, the protocol's thresholds in words, and the chart's data.

Every clinical number comes from the protocol definition; this module only puts it in words.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from ketaguard.monitoring.rules import DosePhase, applies
from ketaguard.monitoring.vitals import LABELS, UNITS, VITALS, Vital
from ketaguard.protocols.definition import (
    Comparison,
    FixedDose,
    HoldThreshold,
    ObservationStart,
    PreDoseCheck,
    ProtocolDefinition,
    ThresholdAction,
    ThresholdWhen,
)
from ketaguard.sessions import lifecycle
from ketaguard.sessions.models import SessionStatus, TreatmentSession, VitalReading

STATUS_LABELS: Mapping[SessionStatus, str] = MappingProxyType(
    {
        SessionStatus.scheduled: "Scheduled",
        SessionStatus.checked_in: "Checked in",
        SessionStatus.pre_dose_cleared: "Cleared to dose",
        SessionStatus.dosed: "Dosing",
        SessionStatus.monitoring: "Monitoring",
        SessionStatus.ready_for_discharge: "Ready to leave",
        SessionStatus.discharged: "Discharged",
        SessionStatus.cancelled: "Cancelled",
        SessionStatus.no_show: "Did not attend",
        SessionStatus.aborted: "Stopped early",
    }
)

# The forms that move a session on, by the state they lead to: (label, anchor on the page).
STEPS: Mapping[SessionStatus, tuple[str, str]] = MappingProxyType(
    {
        SessionStatus.checked_in: ("Check in", "check-in"),
        SessionStatus.pre_dose_cleared: ("Pre-dose checklist", "pre-dose"),
        SessionStatus.dosed: ("Give the dose", "dose"),
        SessionStatus.monitoring: ("Record the dose as complete", "dose-complete"),
        # Discharge passes through ready_for_discharge in one step (run.discharge).
        SessionStatus.ready_for_discharge: ("Discharge", "discharge"),
        SessionStatus.discharged: ("Discharge", "discharge"),
        SessionStatus.no_show: ("Record that the patient did not attend", "end-early"),
        SessionStatus.aborted: ("Stop the session early", "end-early"),
    }
)

COMPARISON_WORDS: Mapping[Comparison, str] = MappingProxyType(
    {"above": "above", "below": "below", "at_or_above": "at or above", "at_or_below": "at or below"}
)
WHEN_WORDS: Mapping[ThresholdWhen, str] = MappingProxyType(
    {"pre_dose": "before dosing", "during": "after dosing began", "any": "at any time"}
)
ACTION_WORDS: Mapping[ThresholdAction, str] = MappingProxyType(
    {
        "prescriber_decision": "a prescriber decides whether to go ahead",
        "hold": "hold the dose",
        "alert": "alert the prescriber",
    }
)
OBSERVATION_START_WORDS: Mapping[ObservationStart, str] = MappingProxyType(
    {
        "first_device": "the first device",
        "dose_start": "the start of the dose",
        "infusion_end": "the end of the infusion",
    }
)


class Clock:
    """Instants shown and entered on the clinic's wall clock, which the page names."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)

    def time(self, at: datetime | None) -> str:
        return "" if at is None else f"{at.astimezone(self.zone):%H:%M}"

    def when(self, at: datetime | None) -> str:
        if at is None:
            return ""
        local = at.astimezone(self.zone)
        return f"{local:%a} {local.day} {local:%b %Y %H:%M}"

    def day(self, value: date) -> str:
        return f"{value:%A} {value.day} {value:%B %Y}"

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()


def status_label(status: SessionStatus) -> str:
    return STATUS_LABELS[status]


@dataclass(frozen=True)
class Step:
    label: str
    anchor: str


def next_steps(status: SessionStatus) -> list[Step]:
    """The actions the session's state allows next, in the order they usually happen."""
    allowed = lifecycle.TRANSITIONS[status]
    steps: list[Step] = []
    for target, (label, anchor) in STEPS.items():
        # Back to monitoring is what a reading does, not a step to take.
        if target in allowed and target is not status and Step(label, anchor) not in steps:
            steps.append(Step(label, anchor))
    return steps


@dataclass(frozen=True)
class ThresholdText:
    vital: Vital
    text: str
    source: str
    review_locally: bool


def threshold_text(threshold: HoldThreshold) -> str:
    unit = UNITS[threshold.vital]
    return (
        f"{LABELS[threshold.vital]} {COMPARISON_WORDS[threshold.comparison]} "
        f"{threshold.value.value} {unit} {WHEN_WORDS[threshold.when]}: "
        f"{ACTION_WORDS[threshold.action]}"
    )


def thresholds(
    definition: ProtocolDefinition, phase: DosePhase | None = None
) -> list[ThresholdText]:
    """The protocol's thresholds in words; only those applying in `phase` when it is given."""
    return [
        ThresholdText(
            vital=t.vital,
            text=threshold_text(t),
            source=t.value.source,
            review_locally=t.value.review_locally,
        )
        for t in definition.monitoring.hold_thresholds
        if phase is None or applies(t, phase)
    ]


def pre_dose_vitals(definition: ProtocolDefinition) -> tuple[Vital, ...]:
    """The vitals the protocol measures before dosing: the pre-dose form asks for these."""
    wanted = {
        v for c in definition.monitoring.vitals_schedule if c.at == "pre_dose" for v in c.vitals
    }
    return tuple(v for v in VITALS if v in wanted)


def check_hint(check: PreDoseCheck) -> str | None:
    if check.minutes is None:
        return None
    return f"At least {check.minutes.value} minutes before the dose."


def fixed_dose(definition: ProtocolDefinition) -> FixedDose | None:
    return definition.dose if isinstance(definition.dose, FixedDose) else None


def device_count(definition: ProtocolDefinition, dose_mg: float | None) -> int:
    """How many devices a fixed dose takes (0 for a weight-based dose or no dose yet)."""
    dose = fixed_dose(definition)
    if dose is None or dose_mg is None:
        return 0
    return round(dose_mg / dose.device_mg.value)


def earliest_device_times(
    definition: ProtocolDefinition, session: TreatmentSession
) -> list[datetime]:
    """When each device may be given at the earliest, the first being the dose start."""
    dose = fixed_dose(definition)
    if dose is None or session.dosed_at is None:
        return []
    gap = timedelta(minutes=dose.device_interval_minutes.value)
    return [
        session.dosed_at + gap * n for n in range(device_count(definition, session.given_dose_mg))
    ]


def observation_ends(definition: ProtocolDefinition, session: TreatmentSession) -> datetime | None:
    """When the protocol's minimum observation time is over, once its clock has started."""
    if session.observation_started_at is None:
        return None
    minutes = definition.monitoring.min_observation_minutes.value
    return session.observation_started_at + timedelta(minutes=minutes)


def charted_vitals(
    definition: ProtocolDefinition, readings: Sequence[VitalReading]
) -> tuple[Vital, ...]:
    """The vitals the protocol watches, has thresholds for, or that were measured, in order."""
    wanted: set[str] = {v for c in definition.monitoring.vitals_schedule for v in c.vitals}
    wanted |= {t.vital for t in definition.monitoring.hold_thresholds}
    wanted |= {r.vital for r in readings}
    return tuple(v for v in VITALS if v in wanted)


def _minutes(at: datetime, origin: datetime) -> float:
    return round((at - origin).total_seconds() / 60, 1)


def _applies_between(threshold: HoldThreshold, *, dosed: bool) -> dict[str, float | None]:
    """Where on the chart's time axis a threshold applies: a pre-dose one only before the dose
    (x < 0 once dosed), an after-dose one only from it (x >= 0)."""
    if not dosed or threshold.when == "any":
        return {"from": None, "to": None}
    return {"from": None, "to": 0} if threshold.when == "pre_dose" else {"from": 0, "to": None}


def chart_data(
    definition: ProtocolDefinition,
    session: TreatmentSession,
    readings: Sequence[VitalReading],
    clock: Clock,
) -> dict[str, Any]:
    """What static/session.js draws: per vital its readings (minutes from the dose, or from
    check-in before it) and the protocol's threshold bands."""
    origin = session.dosed_at or session.checked_in_at or session.scheduled_at
    if session.dosed_at is None:
        axis = "Minutes from check-in" if session.checked_in_at else "Minutes from the booked time"
    else:
        starts = fixed_dose(definition) is not None
        axis = "Minutes from the first device" if starts else "Minutes from the start of the dose"
    marks = []
    if session.dosed_at is not None:
        marks.append({"x": 0, "label": "Dose"})
    ends = observation_ends(definition, session)
    if ends is not None:
        minutes = definition.monitoring.min_observation_minutes.value
        marks.append({"x": _minutes(ends, origin), "label": f"{minutes}-minute observation ends"})
    vitals = []
    for vital in charted_vitals(definition, readings):
        vitals.append(
            {
                "id": vital,
                "label": LABELS[vital],
                "unit": UNITS[vital],
                "points": [
                    {
                        "x": _minutes(r.measured_at, origin),
                        "y": r.value,
                        "at": clock.time(r.measured_at),
                    }
                    for r in readings
                    if r.vital == vital
                ],
                "thresholds": [
                    {
                        "value": t.value.value,
                        "side": "above" if t.comparison in ("above", "at_or_above") else "below",
                        "action": t.action,
                        "label": threshold_text(t),
                        **_applies_between(t, dosed=session.dosed_at is not None),
                    }
                    for t in definition.monitoring.hold_thresholds
                    if t.vital == vital
                ],
            }
        )
    return {"axis": axis, "marks": marks, "vitals": vitals}


def chart_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def latest_readings(readings: Sequence[VitalReading]) -> list[VitalReading]:
    """The most recent reading of each vital, in the usual order of vitals."""
    latest: dict[str, VitalReading] = {}
    for reading in readings:
        current = latest.get(reading.vital)
        if current is None or reading.measured_at >= current.measured_at:
            latest[reading.vital] = reading
    return [latest[v] for v in VITALS if v in latest]

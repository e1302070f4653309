"""Safety alerts during a session: vital signs against the protocol's hold thresholds, sedation
against the pre-dose MOAA/S rating, and scheduled vital-sign checks that were missed.

Each rule is a pure function from facts to `AlertFinding`s naming its rule id, severity, evidence
and the source of its threshold. Every clinical number comes from the protocol definition (or, for
MOAA/S, from the instrument's own scale); nothing here repeats one.

Severity (the `alerts` worklist's vocabulary, most pressing first) is ours, mapped from the
protocol's action and the phase of the session (`SEVERITY_BY_ACTION`):

- "hold" or "alert" → urgent, before or after dosing: the patient is in the chair and someone must
  act now (a pre-dose hold stops the dose; an in-session alert needs a clinician at once).
- "prescriber_decision" before dosing → same_day: a prescriber weighs risk against benefit before
  today's dose (e.g. raised baseline BP before esketamine [S24] §1.4).
- "prescriber_decision" after dosing began → urgent: the drug is already on board, so the decision
  cannot wait.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal, cast, get_args

from ketaguard.monitoring.vitals import LABELS, UNITS, Reading, Vital, as_utc
from ketaguard.protocols.definition import (
    Comparison,
    HoldThreshold,
    PerKgDose,
    ProtocolDefinition,
    Sourced,
    ThresholdAction,
    ThresholdWhen,
    VitalsCheck,
)
from ketaguard.screening.instruments.moaas import ITEM as MOAAS_ITEM
from ketaguard.screening.instruments.moaas import UNRESPONSIVE, sedation_from

__all__ = [
    "COMPARISONS",
    "PAINFUL_STIMULUS_ONLY",
    "PHASES",
    "SEVERITIES",
    "SEVERITY_BY_ACTION",
    "AlertFinding",
    "DosePhase",
    "EvidenceValue",
    "Severity",
    "applies",
    "missed_readings",
    "sedation_findings",
    "threshold_findings",
    "trips",
]

Severity = Literal["urgent", "same_day", "routine"]
SEVERITIES = cast(tuple[Severity, ...], get_args(Severity))  # most pressing first
DosePhase = Literal["pre_dose", "during"]  # "during": from the start of dosing on
PHASES = cast(tuple[DosePhase, ...], get_args(DosePhase))
EvidenceValue = str | int | float | bool | None | tuple[str, ...]

SEVERITY_BY_ACTION: Mapping[tuple[ThresholdAction, DosePhase], Severity] = MappingProxyType(
    {
        ("prescriber_decision", "pre_dose"): "same_day",
        ("prescriber_decision", "during"): "urgent",
        ("hold", "pre_dose"): "urgent",
        ("hold", "during"): "urgent",
        ("alert", "pre_dose"): "urgent",
        ("alert", "during"): "urgent",
    }
)
# Which thresholds apply in which phase: `pre_dose` ones only before dosing, `during` ones only
# once dosing has begun, `any` in both.
APPLIES: Mapping[DosePhase, frozenset[ThresholdWhen]] = MappingProxyType(
    {"pre_dose": frozenset({"pre_dose", "any"}), "during": frozenset({"during", "any"})}
)
COMPARISONS: Mapping[Comparison, Callable[[float, float], bool]] = MappingProxyType(
    {
        "above": operator.gt,
        "below": operator.lt,
        "at_or_above": operator.ge,
        "at_or_below": operator.le,
    }
)
_COMPARISON_WORDS: Mapping[Comparison, str] = MappingProxyType(
    {
        "above": "above",
        "below": "below",
        "at_or_above": "at or above",
        "at_or_below": "at or below",
    }
)
_PHASE_WORDS: Mapping[DosePhase, str] = MappingProxyType(
    {"pre_dose": "before dosing", "during": "after dosing began"}
)
_ACTION_WORDS: Mapping[ThresholdAction, str] = MappingProxyType(
    {
        "prescriber_decision": "a prescriber decides whether to go ahead",
        "hold": "hold the dose",
        "alert": "alert the prescriber",
    }
)

# MOAA/S levels, from the scale itself [S94] (reference §3.1): 1 answers only after a painful
# trapezius squeeze, 0 does not answer at all (loss of consciousness [S30]).
PAINFUL_STIMULUS_ONLY = 1
_MOAAS_TOP = MOAAS_ITEM.options[-1].value  # answers readily: nothing to drop from below it


@dataclass(frozen=True, kw_only=True)
class AlertFinding:
    """One reason for a safety alert, written for a clinician. `source` is where the threshold or
    rule comes from (`shared/clinical-reference.md` tags and section); `review_locally` marks a
    clinic-configurable default rather than a label requirement."""

    rule_id: str
    severity: Severity
    message: str
    evidence: dict[str, EvidenceValue]
    source: str
    review_locally: bool = False


def trips(threshold: HoldThreshold, value: float) -> bool:
    """Whether `value` (in the vital's unit) is on the wrong side of `threshold`."""
    return COMPARISONS[threshold.comparison](value, threshold.value.value)


def applies(threshold: HoldThreshold, phase: DosePhase) -> bool:
    return threshold.when in APPLIES[phase]


# --- Hold thresholds ---------------------------------------------------------------------------


def threshold_findings(
    definition: ProtocolDefinition, readings: Iterable[Reading], *, phase: DosePhase
) -> list[AlertFinding]:
    """One finding per reading that trips a hold threshold applying in `phase`.

    Every reading passed is judged (pass the new ones); readings are expected to have passed
    `vitals.check_readings`. Rule ids read "vitals.<vital>.<comparison>".
    """
    findings: list[AlertFinding] = []
    thresholds = [t for t in definition.monitoring.hold_thresholds if applies(t, phase)]
    for reading in readings:
        for threshold in thresholds:
            if threshold.vital == reading.vital and trips(threshold, reading.value):
                findings.append(_threshold_finding(threshold, reading, phase))
    return findings


def _threshold_finding(
    threshold: HoldThreshold, reading: Reading, phase: DosePhase
) -> AlertFinding:
    vital, unit, limit = reading.vital, UNITS[reading.vital], threshold.value.value
    return AlertFinding(
        rule_id=f"vitals.{vital}.{threshold.comparison}",
        severity=SEVERITY_BY_ACTION[(threshold.action, phase)],
        message=(
            f"{LABELS[vital]} {reading.value:g} {unit} is "
            f"{_COMPARISON_WORDS[threshold.comparison]} {limit} {unit} "
            f"{_PHASE_WORDS[phase]}: {_ACTION_WORDS[threshold.action]}."
        ),
        evidence={
            "vital": vital,
            "value": reading.value,
            "unit": unit,
            "measured_at": reading.measured_at.isoformat(),
            "comparison": threshold.comparison,
            "threshold": limit,
            "when": threshold.when,
            "action": threshold.action,
            "phase": phase,
        },
        source=threshold.value.source,
        review_locally=threshold.value.review_locally,
    )


# --- Sedation (MOAA/S) -------------------------------------------------------------------------


def sedation_findings(
    pre_dose_moaas: int | None, current_moaas: int, source: str
) -> list[AlertFinding]:
    """Sedation on MOAA/S, at most one finding.

    That any drop from the pre-dose rating is sedation is the label's rule [S30][S2] (§3.1). The
    tiering is ours: a drop to 1 or 0 (answers only to pain, or not at all: loss of consciousness)
    is "sedation.moaas.deep" (urgent); any other drop is "sedation.moaas.drop" (routine). Without a
    pre-dose rating a drop cannot be judged: a rating of 1 or 0 is still urgent, and any other
    rating below the top of the scale is "sedation.moaas.no_baseline" (routine). Ratings outside
    the scale raise `AnswerError`. `source` is the citation the caller shows (e.g. the protocol's
    sedation_at_baseline criterion).
    """
    current = MOAAS_ITEM.check(current_moaas)
    pre = None if pre_dose_moaas is None else MOAAS_ITEM.check(pre_dose_moaas)
    deep = current <= PAINFUL_STIMULUS_ONLY
    evidence: dict[str, EvidenceValue] = {"pre_dose_moaas": pre, "current_moaas": current}
    described = f"MOAA/S {current} ({_moaas_words(current)})"
    if pre is None:
        if deep:
            message = f"{described}, with no pre-dose rating recorded: deep sedation."
            return [_sedation("deep", "urgent", message, evidence, source)]
        if current < _MOAAS_TOP:
            message = (
                f"{described}, with no pre-dose rating recorded: any drop from the pre-dose "
                "rating counts as sedation, so this cannot be judged."
            )
            return [_sedation("no_baseline", "routine", message, evidence, source)]
        return []
    if not sedation_from(pre, current):
        return []
    evidence["drop"] = pre - current
    message = f"{described}, down from {pre} before dosing"
    if deep:
        return [_sedation("deep", "urgent", f"{message}: deep sedation.", evidence, source)]
    return [_sedation("drop", "routine", f"{message}: sedation.", evidence, source)]


def _moaas_words(rating: int) -> str:
    if rating == UNRESPONSIVE:
        return "no answer to a painful stimulus: loss of consciousness"
    label = MOAAS_ITEM.options[rating].label
    return (label or f"rating {rating}").lower()


def _sedation(
    kind: str,
    severity: Severity,
    message: str,
    evidence: dict[str, EvidenceValue],
    source: str,
) -> AlertFinding:
    return AlertFinding(
        rule_id=f"sedation.moaas.{kind}",
        severity=severity,
        message=message,
        evidence=evidence,
        source=source,
    )


# --- Missed scheduled checks -------------------------------------------------------------------


@dataclass(frozen=True)
class _Scheduled:
    """One schedule entry with minutes, and the times it fell due."""

    check: VitalsCheck
    timing: Sourced[int]
    describes: str
    dues: list[datetime]


@dataclass(frozen=True)
class _Periods:
    """When "during" ends (None: it does not, there being no infusion) and "after" starts."""

    during_end: datetime | None
    after_start: datetime
    name: str


def missed_readings(
    definition: ProtocolDefinition,
    dosed_at: datetime,
    readings_by_vital: Mapping[Vital, Sequence[Reading]],
    now: datetime,
    *,
    grace_minutes: float,
    infusion_ended_at: datetime | None = None,
) -> list[AlertFinding]:
    """One urgent finding per scheduled check whose time plus `grace_minutes` has passed before
    `now` with no reading of one of its vitals within `grace_minutes` of that time (either side),
    in the order the checks fell due.

    Scheduled checks are the protocol's `vitals_schedule` entries that have minutes:
    `minutes_after_dose` (one check, counted from `dosed_at`) and `every_minutes_during` /
    `every_minutes_after` (a check each interval). For an infusion, "during" runs from `dosed_at`
    to the end of the infusion (`infusion_ended_at`, else `dosed_at` plus the protocol's
    infusion_minutes) and "after" from then on; without an infusion both run from `dosed_at`. An
    interval entry without minutes (continuous, or as the clinic sets), `pre_dose` and
    `before_discharge` have no time to miss and are not checked here. Checks run until `now`: pass
    the discharge time once the patient has left. Within one schedule entry a reading counts for
    one check only, so readings 20 minutes apart do not pass for "every 10 minutes" however
    generous the grace.

    `grace_minutes` is a clinic setting: the reference gives no tolerance for "about 40 minutes"
    or "every 10 minutes". Severity is urgent because the check is due while the patient is under
    observation, so the only useful response is to take it now.
    """
    dosed_at, now = as_utc(dosed_at, "dosed_at"), as_utc(now, "now")
    if not math.isfinite(grace_minutes) or grace_minutes < 0:
        raise ValueError(f"grace_minutes must be zero or more, not {grace_minutes}")
    grace = timedelta(minutes=grace_minutes)
    periods = _periods(definition, dosed_at, infusion_ended_at)
    times = _times_by_vital(readings_by_vital)
    missed: list[tuple[datetime, AlertFinding]] = []
    for scheduled in _schedule(definition, dosed_at, periods, now - grace):
        dues = [due for due in scheduled.dues if due + grace < now]
        missing_at: dict[datetime, list[Vital]] = {}
        for vital in scheduled.check.vitals:
            for due in _unmatched(dues, times.get(vital, []), grace):
                missing_at.setdefault(due, []).append(vital)
        for due, missing in missing_at.items():
            finding = _missed(scheduled, due, missing, dosed_at, grace_minutes)
            missed.append((due, finding))
    missed.sort(key=lambda item: item[0])
    return [finding for _, finding in missed]


def _periods(
    definition: ProtocolDefinition, dosed_at: datetime, infusion_ended_at: datetime | None
) -> _Periods:
    dose = definition.dose
    infusion = dose.infusion_minutes if isinstance(dose, PerKgDose) else None
    if infusion_ended_at is not None:
        infusion_ended_at = as_utc(infusion_ended_at, "infusion_ended_at")
        if infusion is None:
            raise ValueError(f"protocol {definition.id} has no infusion to end")
        if infusion_ended_at < dosed_at:
            raise ValueError("infusion_ended_at is before dosed_at")
    if infusion is None:
        return _Periods(during_end=None, after_start=dosed_at, name="the session")
    end = infusion_ended_at or dosed_at + timedelta(minutes=infusion.value)
    return _Periods(during_end=end, after_start=end, name="the infusion")


def _times_by_vital(
    readings_by_vital: Mapping[Vital, Sequence[Reading]],
) -> dict[Vital, list[datetime]]:
    times: dict[Vital, list[datetime]] = {}
    for vital, readings in readings_by_vital.items():
        for reading in readings:
            if reading.vital != vital:
                raise ValueError(f"a {reading.vital} reading is filed under {vital}")
            times.setdefault(vital, []).append(as_utc(reading.measured_at, f"{vital} measured_at"))
    return times


def _schedule(
    definition: ProtocolDefinition, dosed_at: datetime, periods: _Periods, last_due: datetime
) -> Iterator[_Scheduled]:
    """Each schedule entry with minutes, and its checks due at or before `last_due`."""
    for check in definition.monitoring.vitals_schedule:
        timing = check.minutes
        if timing is None:
            continue
        minutes = timing.value
        step = timedelta(minutes=minutes)
        if check.at == "minutes_after_dose":
            at = dosed_at + step
            dues = [at] if at <= last_due else []
            yield _Scheduled(check, timing, f"at {minutes} minutes after dosing", dues)
        elif check.at == "every_minutes_during":
            end = last_due if periods.during_end is None else min(periods.during_end, last_due)
            describes = f"every {minutes} minutes during {periods.name}"
            yield _Scheduled(check, timing, describes, list(_every(dosed_at, step, end)))
        elif check.at == "every_minutes_after":
            describes = f"every {minutes} minutes after {periods.name}"
            dues = list(_every(periods.after_start, step, last_due))
            yield _Scheduled(check, timing, describes, dues)


def _every(start: datetime, step: timedelta, end: datetime) -> Iterator[datetime]:
    at = start + step
    while at <= end:
        yield at
        at += step


def _unmatched(dues: list[datetime], times: list[datetime], grace: timedelta) -> list[datetime]:
    """The due times (ascending) left without a reading within `grace`, each reading used once.
    Every window is as wide, so giving each due time the earliest unused reading in its window
    matches as many as any assignment can."""
    ordered = sorted(times)
    unmatched: list[datetime] = []
    next_reading = 0
    for due in dues:
        while next_reading < len(ordered) and ordered[next_reading] < due - grace:
            next_reading += 1
        if next_reading < len(ordered) and ordered[next_reading] <= due + grace:
            next_reading += 1
        else:
            unmatched.append(due)
    return unmatched


def _missed(
    scheduled: _Scheduled, due: datetime, missing: list[Vital], dosed_at: datetime, grace: float
) -> AlertFinding:
    after = round((due - dosed_at).total_seconds() / 60, 1)
    names = " and ".join(LABELS[vital] for vital in missing)
    check, timing = scheduled.check, scheduled.timing
    return AlertFinding(
        rule_id=f"vitals.missed.{check.at}",
        severity="urgent",
        message=(
            f"Missed check: no {names} reading within {grace:g} minutes of {after:g} minutes "
            f"after dosing (scheduled {scheduled.describes})."
        ),
        evidence={
            "at": check.at,
            "due_at": due.isoformat(),
            "minutes_after_dose": after,
            "scheduled_minutes": timing.value,
            "grace_minutes": grace,
            "missing": tuple(missing),
        },
        source=timing.source,
        review_locally=timing.review_locally or check.review_locally,
    )

"""The dependence detectors, ``DETECTORS`` in the order ``evaluate`` runs them, and ``evaluate``.

Each detector is a pure function ``(timeline, thresholds) -> list[Signal]``. Every signal names
its rule, severity, the records behind it and the source of its rule: clinical-reference sections
and tags, or "this clinic's setting" for a number the reference does not give
(``thresholds.SignalThresholds``). The label asks prescribers to watch for abuse, misuse and
drug-seeking throughout treatment [S2][S37] (§1.8, §7); these signals support that judgement and
never replace it.

Which records make a signal:

- **Events** (a dose given, a use reported, a request, an override, a craving score, an SDS
  total, a check-in's symptoms): one signal per record that meets the rule, so an event is not
  lost when later records look better.
- **Trends** (rising dose, craving, SDS or ICSI; fading response; repeated requests): judged at
  the latest record, as a trend is a statement about now. The caller keeps the signals it raised
  before (``Signal.key``) until a clinician closes them.
- **The DSM-5 checklist**: the latest only, as a clinician's newer count replaces an older one.

Baseline risk from screening (``baseline_risk``) is info on its own; ``weigh_by_baseline``
raises every other info or watch signal one level while it is on record (see there).

The detectors live in ``dose_rules`` (doses, response, requests), ``report_rules`` (what patients
report and clinicians record) and ``baseline_rules``; every public name is re-exported here. Add
one by writing the function, naming its id in ``signals.DetectorId``, adding it to ``DETECTORS``
and adding rows to the table test.
"""

from __future__ import annotations

from collections.abc import Callable

from ketaguard.dependence.baseline_rules import baseline_risk, weigh_by_baseline
from ketaguard.dependence.dose_rules import dose_escalation, drug_seeking, tolerance
from ketaguard.dependence.report_rules import (
    craving,
    dsm5_criteria,
    memory_complaint,
    outside_use,
    sds,
    urinary_symptoms,
    withdrawal_like,
)
from ketaguard.dependence.signals import Signal
from ketaguard.dependence.thresholds import SignalThresholds
from ketaguard.dependence.timeline import PatientTimeline

__all__ = [
    "DETECTORS",
    "JUDGED_AT_LATEST",
    "Detector",
    "baseline_risk",
    "craving",
    "dose_escalation",
    "drug_seeking",
    "dsm5_criteria",
    "evaluate",
    "memory_complaint",
    "outside_use",
    "sds",
    "tolerance",
    "urinary_symptoms",
    "weigh_by_baseline",
    "withdrawal_like",
]

Detector = Callable[[PatientTimeline, SignalThresholds], list[Signal]]

# The rules judged at the latest record (trends, and the DSM-5 checklist a newer one replaces): a
# signal of theirs that a later evaluation no longer gives is resolved by the caller, recorded as
# such. Every other signal is an event and stays until a clinician closes it.
JUDGED_AT_LATEST = frozenset(
    {
        "dose_escalation.rising",
        "tolerance.fading_response",
        "drug_seeking.repeated_requests",
        "craving.rising",
        "sds.rising",
        "urinary_symptoms.icsi_rising",
        "dsm5_criteria.below_threshold",
        "dsm5_criteria.mild",
        "dsm5_criteria.moderate",
        "dsm5_criteria.severe",
    }
)

DETECTORS: tuple[Detector, ...] = (
    dose_escalation,
    tolerance,
    drug_seeking,
    outside_use,
    craving,
    sds,
    dsm5_criteria,
    urinary_symptoms,
    memory_complaint,
    withdrawal_like,
    baseline_risk,
)


def evaluate(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """Every detector's signals, in ``DETECTORS`` order, weighed by baseline risk."""
    return weigh_by_baseline(
        [signal for detector in DETECTORS for signal in detector(timeline, thresholds)]
    )

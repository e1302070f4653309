"""Baseline risk from screening (``baseline_risk``) and how it weighs the other signals
(``weigh_by_baseline``). See ``detectors``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from ketaguard.dependence.evidence import make_signal, record_evidence
from ketaguard.dependence.signals import Evidence, Severity, Signal
from ketaguard.dependence.thresholds import SignalThresholds
from ketaguard.dependence.timeline import KETAMINE_NAMES, PatientTimeline, SubstanceHistory
from ketaguard.screening.findings import MEASURED_BY_AUDIT_C, NOT_COUNTED_SUBSTANCES

_RAISES = (
    " On its own it changes nothing; while it is on record every other info or watch signal "
    "counts one level higher."
)
_ABUSE_SOURCE = "label: a substance use disorder history raises abuse risk [S2][S37][S3] §1.8"


def baseline_risk(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """Info, one per fact: DAST-10 at or above ``dast10_problem_from``; AUDIT-C positive;
    non-medical ketamine use ever; use of another substance (tobacco aside, alcohol weighed by
    the AUDIT-C) now or in the last 12 months, or past treatment for a substance use disorder.
    Each raises the other signals (``weigh_by_baseline``)."""
    signals = []
    baseline = timeline.baseline
    dast = baseline.dast10
    if dast is not None and dast.total >= thresholds.dast10_problem_from:
        signals.append(
            make_signal(
                "baseline_risk",
                "dast10",
                Severity.info,
                f"DAST-10 {dast.total} at screening, at or above {thresholds.dast10_problem_from}"
                f", where a drug-use problem may be present.{_RAISES}",
                (
                    record_evidence(
                        timeline,
                        "screening_response",
                        dast.response_id,
                        dast.at,
                        f"DAST-10 {dast.total}",
                    ),
                ),
                f"DAST-10 LOINC note [S78] §3.1; {_ABUSE_SOURCE}",
            )
        )
    audit = baseline.audit_c
    if audit is not None and audit.positive:
        signals.append(
            make_signal(
                "baseline_risk",
                "audit_c_positive",
                Severity.info,
                f"AUDIT-C {audit.total} at screening: positive for hazardous drinking.{_RAISES}",
                (
                    record_evidence(
                        timeline,
                        "screening_response",
                        audit.response_id,
                        audit.at,
                        f"AUDIT-C {audit.total}, positive",
                    ),
                ),
                f"AUDIT-C [S82]-[S84] §3.1; {_ABUSE_SOURCE}",
            )
        )
    history = baseline.substance_history
    if history is not None:
        signals += _history_signals(timeline, history)
    return signals


def _intake(timeline: PatientTimeline, history: SubstanceHistory, what: str) -> Evidence:
    return record_evidence(
        timeline, "intake", history.intake_id, history.recorded_at, f"Intake: {what}"
    )


def _history_signals(timeline: PatientTimeline, history: SubstanceHistory) -> list[Signal]:
    ketamine: list[str] = []
    other: list[str] = []
    for use in history.uses:
        name = use.substance.strip().casefold()
        if name in KETAMINE_NAMES and (use.ever or use.last_12_months or use.current):
            ketamine.append(
                "current" if use.current else "last 12 months" if use.last_12_months else "past"
            )
        elif name in NOT_COUNTED_SUBSTANCES:
            continue
        elif use.prior_treatment or (
            name not in MEASURED_BY_AUDIT_C and (use.current or use.last_12_months)
        ):
            other.append(use.substance)
    signals = []
    if ketamine:
        signals.append(
            make_signal(
                "baseline_risk",
                "ketamine_history",
                Severity.info,
                f"Non-medical ketamine use ({', '.join(ketamine)}) is recorded in the intake "
                f"history.{_RAISES}",
                (_intake(timeline, history, "ketamine use"),),
                f"{_ABUSE_SOURCE}; ketamine dependence signs §4.2",
            )
        )
    if other:
        names = ", ".join(other)
        signals.append(
            make_signal(
                "baseline_risk",
                "substance_history",
                Severity.info,
                f"The intake history records recent use of, or past treatment for, {names}."
                f"{_RAISES}",
                (_intake(timeline, history, names),),
                _ABUSE_SOURCE,
            )
        )
    return signals


# Ours: baseline risk lowers the bar for review but never makes a signal urgent on its own.
_RAISED: Mapping[Severity, Severity] = MappingProxyType(
    {Severity.info: Severity.watch, Severity.watch: Severity.review_needed}
)


def weigh_by_baseline(signals: Sequence[Signal]) -> list[Signal]:
    """With any ``baseline_risk`` signal present, every other info signal becomes watch and
    every watch signal review_needed, recording the severity it had and the baseline facts that
    raised it; review_needed and urgent stay as they are. Without one, nothing changes.

    The label counts a history of substance use disorder as higher risk needing careful
    consideration [S2][S37][S3] (§1.8); one level, capped at review_needed, is ketaguard's reading
    of that (not from the clinical reference; review locally).
    """
    facts = tuple(e for s in signals if s.detector == "baseline_risk" for e in s.evidence)
    if not facts:
        return list(signals)
    return [
        replace(s, severity=_RAISED[s.severity], raised_from=s.severity, raised_by=facts)
        if s.detector != "baseline_risk" and s.severity in _RAISED
        else s
        for s in signals
    ]

"""What the detector modules share: how a record is described as evidence, how a signal is made,
and what a rising series is."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ketaguard.dependence.signals import DetectorId, Evidence, RecordKind, Severity, Signal
from ketaguard.dependence.timeline import (
    CheckIn,
    DosedSession,
    PatientTimeline,
    Phq9Score,
    PreDoseReport,
)

# How a source names a number that is the clinic's setting rather than the reference's.
CLINIC_SETTING = "not from the clinical reference; review locally"


@dataclass(frozen=True)
class Point:
    """One value of a series, with the record it comes from."""

    value: float
    at: datetime
    evidence: Evidence


def local_day(timeline: PatientTimeline, at: datetime) -> str:
    return f"{at.astimezone(timeline.plan.zone):%Y-%m-%d}"


def record_evidence(
    timeline: PatientTimeline, kind: RecordKind, record_id: str, at: datetime, what: str
) -> Evidence:
    return Evidence(
        kind=kind,
        record_id=record_id,
        at=at,
        description=f"{what}, {local_day(timeline, at)}",
    )


def session_evidence(timeline: PatientTimeline, session: DosedSession) -> Evidence:
    what = f"Session: {session.given_dose_mg:g} mg given, {session.planned_dose_mg:g} mg planned"
    return record_evidence(timeline, "session", session.session_id, session.dosed_at, what)


def check_in_evidence(timeline: PatientTimeline, check_in: CheckIn, what: str) -> Evidence:
    return record_evidence(
        timeline, "check_in", check_in.check_in_id, check_in.at, f"Check-in: {what}"
    )


def pre_dose_evidence(timeline: PatientTimeline, report: PreDoseReport, what: str) -> Evidence:
    return record_evidence(
        timeline, "session", report.session_id, report.at, f"Pre-dose report: {what}"
    )


def phq9_evidence(timeline: PatientTimeline, score: Phq9Score, role: str) -> Evidence:
    taken = "screening" if score.source == "screening" else "a check-in"
    what = f"PHQ-9 {score.total} ({role}, at {taken})"
    return record_evidence(timeline, "screening_response", score.record_id, score.at, what)


def make_signal(
    detector: DetectorId,
    rule: str,
    severity: Severity,
    summary: str,
    evidence: Iterable[Evidence],
    source: str,
) -> Signal:
    return Signal(
        detector=detector,
        rule_id=f"{detector}.{rule}",
        severity=severity,
        summary=summary,
        evidence=tuple(evidence),
        source=source,
    )


def rising_tail(points: Sequence[Point], n: int, tolerance: float = 0) -> tuple[Point, ...]:
    """The last ``n`` points when each is more than ``tolerance`` above the one before, else
    nothing."""
    tail = tuple(points[-n:])
    if len(tail) == n and all(b.value > a.value + tolerance for a, b in itertools.pairwise(tail)):
        return tail
    return ()


def listed_values(points: Iterable[Point], unit: str = "") -> str:
    return ", ".join(f"{p.value:g}{unit}" for p in points)


def symptom_names(symptoms: Iterable[str]) -> str:
    return ", ".join(sorted(symptom.replace("_", " ") for symptom in symptoms))

"""What a dependence detector reports: a ``Signal`` with its ``Severity`` and ``Evidence``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, cast, get_args

DetectorId = Literal[
    "dose_escalation",
    "tolerance",
    "drug_seeking",
    "outside_use",
    "craving",
    "sds",
    "dsm5_criteria",
    "urinary_symptoms",
    "memory_complaint",
    "withdrawal_like",
    "baseline_risk",
]
DETECTOR_IDS = cast(tuple[DetectorId, ...], get_args(DetectorId))

# The stored record an evidence id points to. A pre-dose report lives on its session's row, and
# PHQ-9, DAST-10, AUDIT-C, SDS and DSM-5 checklists recorded through screening are screening
# responses.
RecordKind = Literal[
    "plan", "session", "check_in", "screening_response", "session_request", "intake"
]
RECORD_KINDS = cast(tuple[RecordKind, ...], get_args(RecordKind))


class Severity(StrEnum):
    """How soon a prescriber should look, lowest first; ``rank`` orders them.

    - info: context for the clinician; never changes the status on its own.
    - watch: look for other signs at the next contact.
    - review_needed: a prescriber reviews the treatment plan.
    - urgent: a prescriber reviews before the next dose.
    """

    info = "info"
    watch = "watch"
    review_needed = "review_needed"
    urgent = "urgent"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One record behind a signal: which stored record, when, and what it shows.

    ``at`` is None only for records with no instant of their own (the plan).
    """

    kind: RecordKind
    record_id: str
    at: datetime | None
    description: str

    def __post_init__(self) -> None:
        if self.kind not in RECORD_KINDS:
            raise ValueError(f"Unknown record kind {self.kind!r}")
        if self.at is not None and self.at.utcoffset() is None:
            raise ValueError("Evidence.at must be timezone-aware")


@dataclass(frozen=True, kw_only=True)
class Signal:
    """One reason for concern, written for a clinician.

    ``rule_id`` is ``<detector>.<rule>``; ``source`` names the clinical-reference sections and
    source tags behind the rule, and says which numbers are the clinic's settings instead.
    ``raised_from`` and ``raised_by`` are set when baseline risk raised the severity
    (``detectors.weigh_by_baseline``): the severity the detector gave, and the baseline facts.
    """

    detector: DetectorId
    rule_id: str
    severity: Severity
    summary: str
    evidence: tuple[Evidence, ...]
    source: str
    raised_from: Severity | None = None
    raised_by: tuple[Evidence, ...] = ()

    def __post_init__(self) -> None:
        if self.detector not in DETECTOR_IDS:
            raise ValueError(f"Unknown detector {self.detector!r}")
        if not self.rule_id.startswith(f"{self.detector}."):
            raise ValueError(f"rule_id {self.rule_id!r} must start with {self.detector!r}.")
        if not any(e.at is not None for e in self.evidence):
            raise ValueError("A signal needs evidence with a time")
        if (self.raised_from is None) != (not self.raised_by):
            raise ValueError("raised_from and raised_by go together")

    @property
    def at(self) -> datetime:
        """When the newest evidence was recorded."""
        return max(e.at for e in self.evidence if e.at is not None)

    @property
    def key(self) -> str:
        """Stable identity for the caller to keep a signal open or closed across evaluations:
        the rule and the records it rests on, so new evidence makes a new signal."""
        records = ",".join(f"{e.kind}/{e.record_id}" for e in self.evidence)
        return f"{self.rule_id}:{records}"

"""A patient's dependence status from the open signals, with its explanation in full.

There is no score: the status is the highest severity among the open signals (``STATUS_RULE``).
Which signals are open (raised and not yet closed by a clinician) is the caller's to say; pass
signals after ``detectors.evaluate``, so baseline risk has already weighed them. The rules the
clinic's unset numbers switch off (``thresholds.switched_off``) are named in the explanation, so a
status of none never hides what is not being watched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from ketaguard.dependence.signals import Severity, Signal
from ketaguard.dependence.thresholds import SwitchedOff


class DependenceStatus(StrEnum):
    none = "none"
    watch = "watch"
    review_needed = "review_needed"
    urgent = "urgent"


STATUS_BY_SEVERITY: Mapping[Severity, DependenceStatus] = MappingProxyType(
    {
        Severity.info: DependenceStatus.none,
        Severity.watch: DependenceStatus.watch,
        Severity.review_needed: DependenceStatus.review_needed,
        Severity.urgent: DependenceStatus.urgent,
    }
)
STATUS_RULE = (
    "The status is the highest severity among the open signals: "
    + ", ".join(f"{severity} -> {status}" for severity, status in STATUS_BY_SEVERITY.items())
    + ". Signals are not added up or scored: one urgent signal makes the status urgent, and any "
    "number of watch signals leaves it at watch."
)


@dataclass(frozen=True, kw_only=True)
class StatusAssessment:
    """The status, the signals that set it (those at the highest severity), the other open
    signals (most severe first), the rules switched off, and the explanation in words."""

    status: DependenceStatus
    deciding: tuple[Signal, ...]
    others: tuple[Signal, ...]
    explanation: str
    switched_off: tuple[SwitchedOff, ...] = ()


def derive_status(
    open_signals: Iterable[Signal], switched_off: Iterable[SwitchedOff] = ()
) -> StatusAssessment:
    """The dependence status the open signals map to under ``STATUS_RULE``."""
    signals = sorted(open_signals, key=lambda s: (-s.severity.rank, s.at, s.rule_id))
    off = tuple(switched_off)
    if not signals:
        return StatusAssessment(
            status=DependenceStatus.none,
            deciding=(),
            others=(),
            explanation="\n".join(
                [f"Status none: there are no open signals. {STATUS_RULE}", *_off_lines(off)]
            ),
            switched_off=off,
        )
    top = signals[0].severity
    status = STATUS_BY_SEVERITY[top]
    deciding = tuple(s for s in signals if s.severity == top)
    others = tuple(s for s in signals if s.severity != top)
    count = f"{len(deciding)} open signal{'' if len(deciding) == 1 else 's'}"
    lines = [
        f"Status {status}: {count} at {top}, the highest severity open. {STATUS_RULE}",
        f"Set by ({top} -> {status}):",
        *(_line(s) for s in deciding),
    ]
    if others:
        lines += ["Also open, at lower severity:", *(_line(s) for s in others)]
    return StatusAssessment(
        status=status,
        deciding=deciding,
        others=others,
        explanation="\n".join([*lines, *_off_lines(off)]),
        switched_off=off,
    )


def _off_lines(off: tuple[SwitchedOff, ...]) -> list[str]:
    if not off:
        return []
    return [
        "Not watched, or watched less, because the clinic has not set a number the clinical "
        "reference does not give:",
        *(f"- {item.reason}." for item in off),
    ]


def _line(signal: Signal) -> str:
    raised = ""
    if signal.raised_from is not None:
        facts = "; ".join(e.description for e in signal.raised_by)
        raised = f", raised from {signal.raised_from} by baseline risk ({facts})"
    evidence = "; ".join(e.description for e in signal.evidence)
    return (
        f"- {signal.rule_id} ({signal.severity}{raised}): {signal.summary} "
        f"Evidence: {evidence}. Source: {signal.source}."
    )

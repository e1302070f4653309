"""The dependence status: the highest severity among the open signals, explained in full."""

from dataclasses import replace

import pytest

from ketaguard.dependence.signals import Evidence, Severity, Signal
from ketaguard.dependence.status import (
    STATUS_BY_SEVERITY,
    STATUS_RULE,
    DependenceStatus,
    derive_status,
)
from ketaguard.dependence.thresholds import switched_off
from tests.dependence.scenarios import THRESHOLDS, UNSET, on


def signal(rule_id: str, severity: Severity, day: float = 1) -> Signal:
    detector = rule_id.split(".")[0]
    return Signal(
        detector=detector,  # type: ignore[arg-type]
        rule_id=rule_id,
        severity=severity,
        summary=f"Summary of {rule_id}.",
        evidence=(
            Evidence(kind="check_in", record_id=f"c{day}", at=on(day), description="A check-in"),
        ),
        source="A source",
    )


def test_no_open_signals_is_none() -> None:
    assessment = derive_status([])
    assert assessment.status == DependenceStatus.none
    assert (assessment.deciding, assessment.others) == ((), ())
    assert "no open signals" in assessment.explanation


@pytest.mark.parametrize(
    ("severity", "status"),
    [
        (Severity.info, DependenceStatus.none),
        (Severity.watch, DependenceStatus.watch),
        (Severity.review_needed, DependenceStatus.review_needed),
        (Severity.urgent, DependenceStatus.urgent),
    ],
)
def test_one_signal_maps_by_its_severity(severity: Severity, status: DependenceStatus) -> None:
    assert STATUS_BY_SEVERITY[severity] == status
    assert derive_status([signal("craving.rising", severity)]).status == status


def test_the_highest_severity_decides_and_signals_do_not_add_up() -> None:
    watches = [signal("memory_complaint.reported", Severity.watch, day) for day in range(1, 9)]
    review = signal("craving.at_or_above_threshold", Severity.review_needed, 3)
    info = signal("withdrawal_like.reported", Severity.info)
    assert derive_status(watches).status == DependenceStatus.watch
    assessment = derive_status([info, *watches, review])
    assert assessment.status == DependenceStatus.review_needed
    assert assessment.deciding == (review,)
    assert assessment.others == (*watches, info)


def test_the_explanation_names_the_rule_signals_evidence_and_sources() -> None:
    raised = signal("memory_complaint.reported", Severity.review_needed)
    baseline = Evidence(
        kind="screening_response", record_id="d", at=on(-7), description="DAST-10 5, 2025-12-29"
    )
    raised = replace(raised, raised_from=Severity.watch, raised_by=(baseline,))
    other = signal("withdrawal_like.reported", Severity.info)
    explanation = derive_status([other, raised]).explanation
    assert explanation.startswith("Status review_needed: 1 open signal at review_needed")
    assert STATUS_RULE in explanation
    assert "info -> none, watch -> watch, review_needed -> review_needed, urgent -> urgent" in (
        STATUS_RULE
    )
    assert (
        "- memory_complaint.reported (review_needed, raised from watch by baseline risk "
        "(DAST-10 5, 2025-12-29)): Summary of memory_complaint.reported. Evidence: A check-in. "
        "Source: A source."
    ) in explanation
    assert "Also open, at lower severity:\n- withdrawal_like.reported (info)" in explanation


def test_only_info_signals_is_none_and_says_why() -> None:
    assessment = derive_status([signal("baseline_risk.dast10", Severity.info)])
    assert assessment.status == DependenceStatus.none
    assert "Set by (info -> none):" in assessment.explanation


def test_rules_switched_off_are_named_even_when_the_status_is_none() -> None:
    assessment = derive_status([], switched_off(UNSET))
    assert assessment.status == DependenceStatus.none
    assert len(assessment.switched_off) == 8
    assert "Not watched, or watched less, because the clinic has not set a number" in (
        assessment.explanation
    )
    assert (
        "- craving.at_or_above_threshold is off: the clinic has not set a craving threshold "
        "(craving_threshold)."
    ) in assessment.explanation


def test_rules_switched_off_follow_the_signals() -> None:
    assessment = derive_status([signal("craving.rising", Severity.watch)], switched_off(THRESHOLDS))
    lines = assessment.explanation.splitlines()
    assert lines[0].startswith("Status watch")
    assert lines[-1] == (
        "- sds.at_or_above_cutoff is off: the clinic has not set an SDS cut-off (sds_cutoff)."
    )
    assert derive_status([signal("craving.rising", Severity.watch)]).switched_off == ()

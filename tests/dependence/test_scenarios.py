"""The four end-to-end scenarios: every signal `evaluate` gives, and the status they map to."""

from collections.abc import Callable

import pytest

from ketaguard.dependence.detectors import evaluate
from ketaguard.dependence.signals import Severity
from ketaguard.dependence.status import DependenceStatus, derive_status
from tests.dependence.scenarios import (
    SCENARIOS,
    Scenario,
    dose_escalation_with_fading_response,
    reported_outside_use,
)


@pytest.mark.parametrize("build", SCENARIOS, ids=lambda build: build.__name__)
def test_scenario(build: Callable[[], Scenario]) -> None:
    scenario = build()
    signals = evaluate(scenario.timeline, scenario.thresholds)
    assert [(s.rule_id, s.severity) for s in signals] == list(scenario.expected)
    assessment = derive_status(signals)
    assert assessment.status == scenario.status
    for signal in signals:
        assert signal.rule_id in assessment.explanation


def test_benign_course_has_nothing_above_info() -> None:
    scenario = SCENARIOS[0]()
    signals = evaluate(scenario.timeline, scenario.thresholds)
    assert all(s.severity == Severity.info for s in signals)
    assert derive_status(signals).status == DependenceStatus.none


def test_fading_response_names_the_doses_and_scores() -> None:
    scenario = dose_escalation_with_fading_response()
    signals = {s.rule_id: s for s in evaluate(scenario.timeline, scenario.thresholds)}
    fading = signals["tolerance.fading_response"]
    assert "PHQ-9 15" in fading.summary
    assert "a response is 11 or less" in fading.summary
    assert "35 mg at the response, 50 mg now" in fading.summary
    assert [e.record_id for e in fading.evidence] == [
        "phq-0",
        "phq-c2",
        "phq-c3",
        "phq-c5",
        "s5",
        "s9",
    ]


def test_outside_ketamine_use_sets_the_status() -> None:
    scenario = reported_outside_use()
    assessment = derive_status(evaluate(scenario.timeline, scenario.thresholds))
    assert [s.rule_id for s in assessment.deciding] == ["outside_use.ketamine"]
    assert "raised from watch by baseline risk (Intake: cannabis" in assessment.explanation

"""Safety-alert rules against the built-in protocols: one table row per threshold case, then
sedation and missed checks."""

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from ketaguard.monitoring.rules import (
    PHASES,
    SEVERITIES,
    SEVERITY_BY_ACTION,
    AlertFinding,
    DosePhase,
    Severity,
    missed_readings,
    sedation_findings,
    threshold_findings,
)
from ketaguard.monitoring.vitals import Reading, Vital
from ketaguard.protocols.definition import (
    HoldThreshold,
    ProtocolDefinition,
    ThresholdAction,
    VitalsCheck,
)
from ketaguard.protocols.loader import load_builtin
from ketaguard.screening.instruments import AnswerError

BUILTIN = load_builtin()
TRD = BUILTIN["esketamine-trd"]
MDD_SI = BUILTIN["esketamine-mdd-si"]
IV = BUILTIN["ketamine-iv-0.5"]

DOSED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
GRACE = 10


def at(minutes: float) -> datetime:
    return DOSED + timedelta(minutes=minutes)


def reading(vital: Vital, value: float, minutes: float = 0) -> Reading:
    return Reading(vital=vital, value=value, measured_at=at(minutes))


def threshold_for(definition: ProtocolDefinition, rule_id: str, phase: DosePhase) -> HoldThreshold:
    _, vital, comparison = rule_id.split(".")
    [threshold] = [
        t
        for t in definition.monitoring.hold_thresholds
        if t.vital == vital and t.comparison == comparison and t.when in (phase, "any")
    ]
    return threshold


def with_monitoring(definition: ProtocolDefinition, **changes: object) -> ProtocolDefinition:
    """A clinic's variant of a built-in protocol."""
    monitoring = definition.monitoring.model_copy(update=changes)
    return definition.model_copy(update={"monitoring": monitoring})


# --- Hold thresholds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "phase", "vital", "value", "expected"),
    [
        # Esketamine: raised baseline BP above 140/90 → a prescriber decides, today [S24] §1.4.
        (TRD, "pre_dose", "systolic_bp", 141, {("vitals.systolic_bp.above", "same_day")}),
        (TRD, "pre_dose", "systolic_bp", 140, set()),
        (TRD, "pre_dose", "diastolic_bp", 91, {("vitals.diastolic_bp.above", "same_day")}),
        (TRD, "pre_dose", "diastolic_bp", 90, set()),
        (MDD_SI, "pre_dose", "systolic_bp", 150, {("vitals.systolic_bp.above", "same_day")}),
        # The reference gives no in-session BP thresholds for esketamine.
        (TRD, "during", "systolic_bp", 200, set()),
        (TRD, "during", "diastolic_bp", 130, set()),
        # IV: hypertensive crisis at 180/120 or more, any time → urgent alert.
        (IV, "during", "systolic_bp", 180, {("vitals.systolic_bp.at_or_above", "urgent")}),
        (IV, "during", "systolic_bp", 179, set()),
        (IV, "during", "diastolic_bp", 120, {("vitals.diastolic_bp.at_or_above", "urgent")}),
        (IV, "during", "diastolic_bp", 119, set()),
        (IV, "pre_dose", "systolic_bp", 180, {("vitals.systolic_bp.at_or_above", "urgent")}),
        (
            IV,
            "pre_dose",
            "systolic_bp",
            181,
            {("vitals.systolic_bp.at_or_above", "urgent"), ("vitals.systolic_bp.above", "urgent")},
        ),
        (IV, "pre_dose", "systolic_bp", 89, {("vitals.systolic_bp.below", "urgent")}),
        (IV, "during", "systolic_bp", 89, set()),
        # IV: SpO2 92% or less, any time → urgent alert.
        (IV, "during", "spo2", 92, {("vitals.spo2.at_or_below", "urgent")}),
        (IV, "during", "spo2", 93, set()),
        (IV, "pre_dose", "spo2", 90, {("vitals.spo2.at_or_below", "urgent")}),
        # IV: RR and HR exclusion vitals hold the dose before dosing only.
        (IV, "pre_dose", "respiratory_rate", 9, {("vitals.respiratory_rate.below", "urgent")}),
        (IV, "pre_dose", "respiratory_rate", 10, set()),
        (IV, "pre_dose", "respiratory_rate", 31, {("vitals.respiratory_rate.above", "urgent")}),
        (IV, "pre_dose", "respiratory_rate", 30, set()),
        (IV, "during", "respiratory_rate", 8, set()),
        (IV, "pre_dose", "heart_rate", 49, {("vitals.heart_rate.below", "urgent")}),
        (IV, "pre_dose", "heart_rate", 151, {("vitals.heart_rate.above", "urgent")}),
        (IV, "pre_dose", "heart_rate", 150, set()),
        (IV, "during", "heart_rate", 45, set()),
    ],
)
def test_threshold_findings(
    definition: ProtocolDefinition,
    phase: DosePhase,
    vital: Vital,
    value: float,
    expected: set[tuple[str, Severity]],
) -> None:
    findings = threshold_findings(definition, [reading(vital, value)], phase=phase)
    assert {(finding.rule_id, finding.severity) for finding in findings} == expected
    assert len(findings) == len(expected)
    for finding in findings:
        threshold = threshold_for(definition, finding.rule_id, phase)
        assert finding.source == threshold.value.source
        assert finding.review_locally == threshold.value.review_locally
        assert f"{value:g}" in finding.message
        assert str(threshold.value.value) in finding.message
        assert finding.evidence["value"] == value
        assert finding.evidence["threshold"] == threshold.value.value
        assert finding.evidence["phase"] == phase


def test_a_threshold_finding_reads_as_a_sentence_with_its_evidence() -> None:
    [finding] = threshold_findings(TRD, [reading("systolic_bp", 152, -10)], phase="pre_dose")
    assert finding == AlertFinding(
        rule_id="vitals.systolic_bp.above",
        severity="same_day",
        message=(
            "Systolic BP 152 mmHg is above 140 mmHg before dosing: "
            "a prescriber decides whether to go ahead."
        ),
        evidence={
            "vital": "systolic_bp",
            "value": 152,
            "unit": "mmHg",
            "measured_at": at(-10).isoformat(),
            "comparison": "above",
            "threshold": 140,
            "when": "pre_dose",
            "action": "prescriber_decision",
            "phase": "pre_dose",
        },
        source=threshold_for(TRD, "vitals.systolic_bp.above", "pre_dose").value.source,
        review_locally=True,
    )


def test_every_tripping_reading_is_a_finding_of_its_own() -> None:
    readings = [
        reading("spo2", 91, 10),
        reading("spo2", 97, 20),
        reading("spo2", 90, 30),
        reading("heart_rate", 40, 30),
    ]
    findings = threshold_findings(IV, readings, phase="during")
    assert [finding.evidence["measured_at"] for finding in findings] == [
        at(10).isoformat(),
        at(30).isoformat(),
    ]


def test_a_prescriber_decision_after_dosing_is_urgent() -> None:
    threshold = HoldThreshold.model_validate(
        {
            "vital": "heart_rate",
            "comparison": "above",
            "value": {"value": 120, "source": "clinic practice", "review_locally": True},
            "when": "during",
            "action": "prescriber_decision",
        }
    )
    clinic = with_monitoring(TRD, hold_thresholds=(threshold,))
    [finding] = threshold_findings(clinic, [reading("heart_rate", 121, 30)], phase="during")
    assert (finding.severity, finding.source) == ("urgent", "clinic practice")
    assert threshold_findings(clinic, [reading("heart_rate", 121)], phase="pre_dose") == []


def test_every_action_has_a_severity_in_every_phase() -> None:
    actions: tuple[ThresholdAction, ...] = get_args(ThresholdAction)
    assert set(SEVERITY_BY_ACTION) == {(action, phase) for action in actions for phase in PHASES}
    assert set(SEVERITY_BY_ACTION.values()) <= set(SEVERITIES)
    assert SEVERITY_BY_ACTION[("prescriber_decision", "pre_dose")] == "same_day"
    assert SEVERITY_BY_ACTION[("hold", "during")] == SEVERITY_BY_ACTION[("alert", "during")]


# --- Sedation (MOAA/S) -------------------------------------------------------------------------

SEDATION_SOURCE = "[S94][S30][S2] §3.1"


@pytest.mark.parametrize(
    ("pre_dose", "current", "expected"),
    [
        (5, 5, None),
        (4, 5, None),
        (3, 3, None),
        (1, 1, None),
        (5, 4, ("sedation.moaas.drop", "routine")),
        (5, 2, ("sedation.moaas.drop", "routine")),
        (4, 3, ("sedation.moaas.drop", "routine")),
        (5, 1, ("sedation.moaas.deep", "urgent")),
        (2, 1, ("sedation.moaas.deep", "urgent")),
        (5, 0, ("sedation.moaas.deep", "urgent")),
        (None, 5, None),
        (None, 4, ("sedation.moaas.no_baseline", "routine")),
        (None, 2, ("sedation.moaas.no_baseline", "routine")),
        (None, 1, ("sedation.moaas.deep", "urgent")),
        (None, 0, ("sedation.moaas.deep", "urgent")),
    ],
)
def test_sedation_findings(
    pre_dose: int | None, current: int, expected: tuple[str, Severity] | None
) -> None:
    findings = sedation_findings(pre_dose, current, SEDATION_SOURCE)
    assert [(f.rule_id, f.severity) for f in findings] == ([expected] if expected else [])
    for finding in findings:
        assert finding.source == SEDATION_SOURCE
        assert f"MOAA/S {current}" in finding.message
        assert finding.evidence["pre_dose_moaas"] == pre_dose
        assert finding.evidence["current_moaas"] == current
        if pre_dose is not None:
            assert f"down from {pre_dose}" in finding.message
            assert finding.evidence["drop"] == pre_dose - current


def test_moaas_zero_is_called_loss_of_consciousness() -> None:
    [finding] = sedation_findings(5, 0, SEDATION_SOURCE)
    assert "loss of consciousness" in finding.message
    [finding] = sedation_findings(5, 1, SEDATION_SOURCE)
    assert "painful trapezius squeeze" in finding.message


@pytest.mark.parametrize(("pre_dose", "current"), [(5, 6), (5, -1), (6, 4), (None, 7)])
def test_a_rating_off_the_scale_is_refused(pre_dose: int | None, current: int) -> None:
    with pytest.raises(AnswerError, match="out of range 0-5"):
        sedation_findings(pre_dose, current, SEDATION_SOURCE)


# --- Missed scheduled checks -------------------------------------------------------------------


def missed(
    definition: ProtocolDefinition,
    readings: list[Reading],
    now_minutes: float,
    *,
    grace: float = GRACE,
    infusion_ended_at: datetime | None = None,
) -> list[AlertFinding]:
    by_vital: dict[Vital, list[Reading]] = {}
    for item in readings:
        by_vital.setdefault(item.vital, []).append(item)
    return missed_readings(
        definition,
        DOSED,
        by_vital,
        at(now_minutes),
        grace_minutes=grace,
        infusion_ended_at=infusion_ended_at,
    )


def bp(minutes: float) -> list[Reading]:
    return [reading("systolic_bp", 130, minutes), reading("diastolic_bp", 85, minutes)]


def summary(findings: list[AlertFinding]) -> list[tuple[str, object, object]]:
    return [
        (finding.rule_id, finding.evidence["minutes_after_dose"], finding.evidence["missing"])
        for finding in findings
    ]


BOTH_BP = ("systolic_bp", "diastolic_bp")


@pytest.mark.parametrize(
    ("readings", "now_minutes", "expected"),
    [
        # Esketamine: BP at about 40 minutes after dosing [S3][S12] §1.5.
        ([], 40 + GRACE, []),  # not yet overdue
        ([], 40 + GRACE + 1, [("vitals.missed.minutes_after_dose", 40, BOTH_BP)]),
        (bp(40 - GRACE), 90, []),
        (bp(40 + GRACE), 90, []),
        (bp(40 - GRACE - 1), 90, [("vitals.missed.minutes_after_dose", 40, BOTH_BP)]),
        (bp(40 + GRACE + 1), 90, [("vitals.missed.minutes_after_dose", 40, BOTH_BP)]),
        (bp(-15), 90, [("vitals.missed.minutes_after_dose", 40, BOTH_BP)]),  # pre-dose BP
        (
            [reading("systolic_bp", 130, 41)],
            90,
            [("vitals.missed.minutes_after_dose", 40, ("diastolic_bp",))],
        ),
        # Pulse oximetry "at every session" has no interval in the reference: nothing to miss.
        (bp(40), 24 * 60, []),
    ],
)
def test_missed_esketamine_checks(
    readings: list[Reading], now_minutes: float, expected: list[tuple[str, object, object]]
) -> None:
    findings = missed(TRD, readings, now_minutes)
    assert summary(findings) == expected
    for finding in findings:
        assert finding.severity == "urgent"
        [check] = [c for c in TRD.monitoring.vitals_schedule if c.at == "minutes_after_dose"]
        assert check.minutes is not None
        assert finding.source == check.minutes.source
        assert finding.evidence["grace_minutes"] == GRACE


def test_the_missed_40_minute_check_reads_as_a_sentence() -> None:
    [finding] = missed(TRD, [], 60)
    assert finding.message == (
        "Missed check: no Systolic BP and Diastolic BP reading within 10 minutes of 40 minutes "
        "after dosing (scheduled at 40 minutes after dosing)."
    )
    assert finding.evidence["due_at"] == at(40).isoformat()


def test_grace_is_the_callers_setting() -> None:
    assert summary(missed(TRD, bp(44), 60, grace=0)) == [
        ("vitals.missed.minutes_after_dose", 40, BOTH_BP)
    ]
    assert missed(TRD, bp(40), 60, grace=0) == []
    assert missed(TRD, bp(44), 60, grace=5) == []


def test_iv_blood_pressure_every_10_minutes_during_and_15_after_the_infusion() -> None:
    # 40-minute infusion: checks at 10, 20, 30, 40 during and 55, 70, 85 after.
    on_time = [item for minutes in (10, 20, 30, 40, 55, 70, 85) for item in bp(minutes)]
    assert missed(IV, on_time, 85 + GRACE + 1) == []
    findings = missed(IV, [], 85 + GRACE + 1)
    assert [(f.rule_id, f.evidence["minutes_after_dose"]) for f in findings] == [
        ("vitals.missed.every_minutes_during", 10),
        ("vitals.missed.every_minutes_during", 20),
        ("vitals.missed.every_minutes_during", 30),
        ("vitals.missed.every_minutes_during", 40),
        ("vitals.missed.every_minutes_after", 55),
        ("vitals.missed.every_minutes_after", 70),
        ("vitals.missed.every_minutes_after", 85),
    ]
    assert all(f.review_locally for f in findings)
    assert "every 10 minutes during the infusion" in findings[0].message
    assert "every 15 minutes after the infusion" in findings[-1].message


def test_iv_gaps_are_found_among_readings_on_time() -> None:
    readings = [item for minutes in (10, 30, 40) for item in bp(minutes)]
    assert [f.evidence["minutes_after_dose"] for f in missed(IV, readings, 45, grace=4)] == [20]


def test_a_reading_counts_for_one_check_only() -> None:
    # With a grace as long as the interval, readings 20 minutes apart still leave checks missed.
    readings = [item for minutes in (10, 30) for item in bp(minutes)]
    findings = missed(IV, readings, 40 + GRACE + 1)
    assert [f.evidence["minutes_after_dose"] for f in findings] == [30, 40]


def test_an_infusion_stopped_early_moves_the_after_checks() -> None:
    findings = missed(IV, [], 55 + GRACE + 1, infusion_ended_at=at(25))
    assert [(f.evidence["at"], f.evidence["minutes_after_dose"]) for f in findings] == [
        ("every_minutes_during", 10),
        ("every_minutes_during", 20),
        ("every_minutes_after", 40),
        ("every_minutes_after", 55),
    ]


def test_a_clinic_interval_without_an_infusion_runs_for_the_whole_session() -> None:
    spo2_every_15 = VitalsCheck.model_validate(
        {
            "at": "every_minutes_during",
            "minutes": {"value": 15, "source": "clinic practice", "review_locally": True},
            "vitals": ["spo2"],
            "what": "Pulse oximetry every 15 minutes",
            "source": "[S3][S4] §1.5",
        }
    )
    clinic = with_monitoring(TRD, vitals_schedule=(*TRD.monitoring.vitals_schedule, spo2_every_15))
    findings = missed(clinic, bp(40), 60 + GRACE + 1)
    assert [(f.evidence["minutes_after_dose"], f.evidence["missing"]) for f in findings] == [
        (15, ("spo2",)),
        (30, ("spo2",)),
        (45, ("spo2",)),
        (60, ("spo2",)),
    ]
    assert findings[0].source == "clinic practice"
    assert "during the session" in findings[0].message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: missed(TRD, [], 60, grace=-1), "grace_minutes"),
        (lambda: missed(TRD, [], 60, grace=float("nan")), "grace_minutes"),
        (lambda: missed(TRD, [], 60, infusion_ended_at=at(40)), "no infusion"),
        (lambda: missed(IV, [], 60, infusion_ended_at=at(-1)), "before dosed_at"),
        (
            lambda: missed(IV, [], 60, infusion_ended_at=at(40).replace(tzinfo=None)),
            "infusion_ended_at must be timezone-aware",
        ),
        (
            lambda: missed_readings(TRD, DOSED.replace(tzinfo=None), {}, at(60), grace_minutes=5),
            "dosed_at must be timezone-aware",
        ),
        (
            lambda: missed_readings(
                TRD, DOSED, {"spo2": [reading("heart_rate", 70)]}, at(60), grace_minutes=5
            ),
            "filed under spo2",
        ),
    ],
)
def test_missed_readings_refuses_bad_input(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()

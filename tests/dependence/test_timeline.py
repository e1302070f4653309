"""The timeline and thresholds refuse what cannot be right, and the package stays pure."""

import subprocess
import sys
from dataclasses import MISSING, replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ketaguard.checkins import outcomes
from ketaguard.dependence.thresholds import CLINIC_SETTINGS, SignalThresholds, switched_off
from ketaguard.dependence.timeline import (
    REQUEST_DECISIONS,
    REQUEST_KINDS,
    BookedOverride,
    CheckIn,
    DosedSession,
    Dsm5Checklist,
    InstrumentTotal,
    OutsideUse,
    PlanRecord,
    PreDoseReport,
    ScreeningBaseline,
)
from ketaguard.plans.models import RequestDecision, RequestKind
from ketaguard.protocols.scheduling import RULE_IDS
from tests.dependence.scenarios import (
    ESKETAMINE_PLAN,
    THRESHOLDS,
    UNSET,
    booked,
    check_in,
    dosed,
    on,
    phq9,
    timeline,
)

NAIVE = datetime(2026, 1, 5, 9, 0)  # noqa: DTZ001 - the naive time these checks must refuse


def test_vocabularies_match_the_stored_enums() -> None:
    assert tuple(k.value for k in RequestKind) == REQUEST_KINDS
    assert tuple(d.value for d in RequestDecision) == REQUEST_DECISIONS


@pytest.mark.parametrize(
    "build",
    [
        lambda: DosedSession(session_id="s", dosed_at=NAIVE, planned_dose_mg=56, given_dose_mg=56),
        lambda: CheckIn(check_in_id="c", at=NAIVE),
        lambda: PreDoseReport(session_id="s", at=NAIVE, craving=None, substance_use=None),
        lambda: Dsm5Checklist(record_id="k", at=NAIVE, criteria_met=frozenset(), supervised=True),
        lambda: InstrumentTotal(response_id="d", at=NAIVE, total=1),
        lambda: BookedOverride(
            session_id="s",
            booked_at=NAIVE,
            scheduled_at=on(1),
            planned_dose_mg=84,
            overridden_rules=("too_many_in_7_days",),
            override_reason="Asked to",
        ),
    ],
)
def test_naive_times_are_refused(build: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build()  # type: ignore[operator]


def test_times_are_kept_in_utc_and_records_sorted() -> None:
    plus_two = timezone(timedelta(hours=2))
    late = check_in("c-late", 3)
    early = CheckIn(check_in_id="c-early", at=datetime(2026, 1, 6, 12, 0, tzinfo=plus_two))
    built = timeline(check_ins=(late, early))
    assert [c.check_in_id for c in built.check_ins] == ["c-early", "c-late"]
    assert built.check_ins[0].at == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    assert built.check_ins[0].at.tzinfo is UTC


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CheckIn(check_in_id="c", at=on(1), craving=11), "craving 11 is outside 0-10"),
        (lambda: CheckIn(check_in_id="c", at=on(1), craving=-1), "craving -1 is outside 0-10"),
        (lambda: CheckIn(check_in_id="c", at=on(1), sds_total=16), "SDS total 16"),
        (lambda: CheckIn(check_in_id="c", at=on(1), icsi_total=21), "ICSI total 21"),
        (
            lambda: CheckIn(check_in_id="c", at=on(1), urinary=frozenset({"thirst"})),
            "Unknown urinary symptom",
        ),
        (
            lambda: CheckIn(check_in_id="c", at=on(1), withdrawal_like=frozenset({"sweats"})),
            "Unknown withdrawal-like symptom",
        ),
        (lambda: phq9("p", 1, 28), "PHQ-9 total 28"),
        (lambda: dosed("s", 1, 0, planned=56), "given_dose_mg must be a positive"),
        (
            lambda: dosed("s", 1, 56, overridden=("too_soon_after_previous",)),
            "needs both the overridden rules and the reason",
        ),
        (lambda: dosed("s", 1, 56, reason="Asked to"), "needs both"),
        (
            lambda: dosed("s", 1, 56, overridden=("too_much_fun",), reason="Asked to"),
            "Unknown overridden rule",
        ),
        (
            lambda: OutsideUse(substance="Ketamine", used_on=None, amount=None, is_ketamine=False),
            "set is_ketamine",
        ),
        (
            lambda: PreDoseReport(session_id="s", at=on(1), craving=None, substance_use="  "),
            "substance_use must be None",
        ),
        (
            lambda: Dsm5Checklist(
                record_id="k", at=on(1), criteria_met=frozenset({"kud-11"}), supervised=True
            ),
            "Unknown DSM-5 criteria",
        ),
        (
            lambda: ScreeningBaseline(dast10=InstrumentTotal(response_id="d", at=on(1), total=11)),
            "DAST-10 total 11",
        ),
        (lambda: replace(ESKETAMINE_PLAN, timezone="Mars/Olympus"), "Unknown timezone"),
        (lambda: timeline(check_ins=(check_in("c", 1), check_in("c", 2))), "duplicate ids"),
        (
            lambda: timeline(phq9_baseline=phq9("p0", 5, 20), phq9=(phq9("p1", 4, 10),)),
            "earlier than the PHQ-9 baseline",
        ),
        (
            lambda: timeline(phq9_baseline=phq9("p0", 5, 20), phq9=(phq9("p0", 5, 20),)),
            "listed again",
        ),
        (lambda: booked("s1", 1, reason="  "), "needs both the overridden rules and the reason"),
        (
            lambda: timeline(
                sessions=(dosed("s1", 3, 84),), booked_overrides=(booked("s1", 1, reason="Why"),)
            ),
            "are dosed; list them once",
        ),
    ],
)
def test_impossible_records_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_every_booking_rule_may_be_overridden_in_a_session() -> None:
    session = dosed("s", 1, 56, overridden=RULE_IDS, reason="Documented reason")
    assert session.overridden_rules == RULE_IDS


def test_tolerance_is_not_counted_under_supervision() -> None:
    met = frozenset({"kud-10", "kud-4"})
    supervised = Dsm5Checklist(record_id="k", at=on(1), criteria_met=met, supervised=True)
    assert supervised.counted == ("kud-4",)
    assert replace(supervised, supervised=False).counted == ("kud-4", "kud-10")


def test_plan_start_must_be_a_date() -> None:
    with pytest.raises(ValueError, match="must be a date"):
        PlanRecord(
            plan_id="p",
            dose_mg=56,
            max_dose_mg=84,
            start_date=on(0),
            timezone="UTC",
        )
    assert PlanRecord(
        plan_id="p", dose_mg=56, max_dose_mg=84, start_date=date(2026, 1, 5), timezone="UTC"
    )


# --- Thresholds ----------------------------------------------------------------------------------


def test_clinic_settings_have_no_default() -> None:
    required = {
        "craving_threshold",
        "craving_rising_reports",
        "rising_dose_sessions",
        "repeated_requests",
        "repeated_requests_days",
        "sds_rising_scores",
        "icsi_rising_scores",
        "phq9_fading_rise_points",
        "sds_cutoff",
    }
    fields = SignalThresholds.__dataclass_fields__.values()
    assert {f.name for f in fields if f.default is f.default_factory is MISSING} == required
    with pytest.raises(TypeError, match="craving_threshold"):
        SignalThresholds()  # type: ignore[call-arg]


def test_reference_defaults() -> None:
    # PHQ-9 response: a fall of at least 50% from a baseline above 9 (§3.2 [S105]); DAST-10 3 or
    # more may show a problem (§3.1 LOINC note [S78]).
    assert THRESHOLDS.phq9_response_fall_percent == 50
    assert THRESHOLDS.phq9_response_baseline_above == 9
    assert THRESHOLDS.dast10_problem_from == 3


def test_the_phq9_response_definition_is_the_outcomes_one() -> None:
    assert THRESHOLDS.phq9_response_fall_percent == outcomes.RESPONSE_FALL * 100
    assert THRESHOLDS.phq9_response_baseline_above == outcomes.MEASURE_BASELINE_ABOVE


def test_every_clinic_setting_is_described() -> None:
    fields = set(SignalThresholds.__dataclass_fields__)
    assert {setting.name for setting in CLINIC_SETTINGS} <= fields
    assert {s.name for s in CLINIC_SETTINGS} == {
        name for name in fields if getattr(UNSET, name) is None
    }


def test_nothing_is_switched_off_when_every_number_is_set() -> None:
    full = replace(THRESHOLDS, phq9_fading_rise_points=3, sds_cutoff=4)
    assert switched_off(full) == ()


def test_unset_numbers_switch_off_only_their_rules_and_say_why() -> None:
    off = {item.rule_id: item for item in switched_off(THRESHOLDS)}
    assert set(off) == {"tolerance.fading_response", "sds.at_or_above_cutoff"}
    assert off["sds.at_or_above_cutoff"].reason == (
        "sds.at_or_above_cutoff is off: the clinic has not set an SDS cut-off (sds_cutoff)"
    )
    assert off["tolerance.fading_response"].partly
    assert "counts only a loss of response as fading" in off["tolerance.fading_response"].reason
    every = {item.rule_id: item for item in switched_off(UNSET)}
    assert every["craving.at_or_above_threshold"].reason == (
        "craving.at_or_above_threshold is off: the clinic has not set a craving threshold "
        "(craving_threshold)"
    )
    assert every["drug_seeking.repeated_requests"].settings == (
        "repeated_requests",
        "repeated_requests_days",
    )
    assert len(every) == 8
    assert not any(
        item.partly for rule, item in every.items() if rule != "tolerance.fading_response"
    )


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({"craving_threshold": 0}, False),
        ({"craving_threshold": 1}, True),
        ({"craving_threshold": 10}, True),
        ({"craving_threshold": 11}, False),
        ({"craving_rising_reports": 1}, False),
        ({"craving_rising_reports": 2}, True),
        ({"rising_dose_sessions": 1}, False),
        ({"sds_rising_scores": 1}, False),
        ({"icsi_rising_scores": 1}, False),
        ({"repeated_requests": 1}, False),
        ({"repeated_requests": 2}, True),
        ({"repeated_requests_days": 0}, False),
        ({"repeated_requests_days": 1}, True),
        ({"phq9_fading_rise_points": 0}, False),
        ({"phq9_fading_rise_points": 1}, True),
        ({"sds_cutoff": 0}, False),
        ({"sds_cutoff": 1}, True),
        ({"sds_cutoff": 15}, True),
        ({"sds_cutoff": 16}, False),
        ({"craving_threshold": None}, True),
        ({"repeated_requests": None}, True),
        ({"repeated_requests_days": None}, True),
        ({"sds_rising_scores": None}, True),
        ({"phq9_response_fall_percent": 0}, False),
        ({"phq9_response_fall_percent": 101}, False),
        ({"phq9_response_baseline_above": 27}, False),
        ({"dast10_problem_from": 0}, False),
        ({"dast10_problem_from": 11}, False),
    ],
)
def test_threshold_bounds(changes: dict[str, int | None], ok: bool) -> None:
    if ok:
        assert replace(THRESHOLDS, **changes)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValueError, match=next(iter(changes))):
            replace(THRESHOLDS, **changes)  # type: ignore[arg-type]


def test_the_package_needs_no_database() -> None:
    code = (
        "import sys, ketaguard.dependence.detectors, ketaguard.dependence.status; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'); "
        "print(loaded, file=sys.stderr); sys.exit(bool(loaded))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr

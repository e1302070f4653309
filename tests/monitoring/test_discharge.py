"""Discharge criteria against the built-in protocols: all met, then one table row per unmet case."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaguard.monitoring.discharge import (
    CHECKS,
    DischargeFacts,
    UnmetCriterion,
    unmet_discharge_criteria,
)
from ketaguard.monitoring.vitals import Reading, Vital
from ketaguard.protocols.definition import DISCHARGE_CRITERION_IDS, VITALS, ProtocolDefinition
from ketaguard.protocols.loader import load_builtin
from ketaguard.screening.instruments import AnswerError

BUILTIN = load_builtin()
TRD = BUILTIN["esketamine-trd"]
MDD_SI = BUILTIN["esketamine-mdd-si"]
IV = BUILTIN["ketamine-iv-0.5"]

NOW = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
# Values that trip no built-in threshold.
STEADY: dict[Vital, float] = {
    "systolic_bp": 128,
    "diastolic_bp": 82,
    "heart_rate": 72,
    "spo2": 97,
    "respiratory_rate": 14,
}


def reading(vital: Vital, value: float, minutes_ago: float = 5) -> Reading:
    return Reading(vital=vital, value=value, measured_at=NOW - timedelta(minutes=minutes_ago))


def ready(definition: ProtocolDefinition) -> DischargeFacts:
    """Every criterion met, with the observation time exactly elapsed."""
    required = definition.monitoring.min_observation_minutes.value
    return DischargeFacts(
        observation_started_at=NOW - timedelta(minutes=required),
        latest_readings={vital: reading(vital, value) for vital, value in STEADY.items()},
        pre_dose_moaas=5,
        latest_moaas=5,
        transport_present=True,
        prescriber_cleared=True,
    )


def with_reading(facts: DischargeFacts, item: Reading) -> DischargeFacts:
    return replace(facts, latest_readings={**facts.latest_readings, item.vital: item})


def without_reading(facts: DischargeFacts, vital: Vital) -> DischargeFacts:
    latest = {key: value for key, value in facts.latest_readings.items() if key != vital}
    return replace(facts, latest_readings=latest)


def started(minutes_ago: float) -> Callable[[DischargeFacts], DischargeFacts]:
    return lambda facts: replace(facts, observation_started_at=NOW - timedelta(minutes=minutes_ago))


@pytest.mark.parametrize("definition", BUILTIN.values(), ids=BUILTIN.keys())
def test_all_criteria_met_is_an_empty_list(definition: ProtocolDefinition) -> None:
    assert unmet_discharge_criteria(definition, ready(definition), NOW) == []


@pytest.mark.parametrize(
    ("definition", "change", "expected_id", "fragments"),
    [
        # Observation: at least 2 hours from the first device for esketamine [S2][S3][S9][S5].
        (
            TRD,
            started(100),
            "min_observation_elapsed",
            ("20 minutes remain", "120-minute", "100 minutes since the first device"),
        ),
        (TRD, started(119.5), "min_observation_elapsed", ("1 minute remains", "119 minutes")),
        (TRD, started(10), "min_observation_elapsed", ("110 minutes remain",)),
        (
            TRD,
            lambda facts: replace(facts, observation_started_at=None),
            "min_observation_elapsed",
            ("has not started", "120 minutes from the first device"),
        ),
        (MDD_SI, started(60), "min_observation_elapsed", ("60 minutes remain",)),
        (
            IV,
            started(30),
            "min_observation_elapsed",
            ("30 minutes remain", "60-minute", "end of the infusion"),
        ),
        # Vitals: thresholds that apply after dosing ("during"/"any"), and readings before leaving.
        (
            IV,
            lambda facts: with_reading(facts, reading("systolic_bp", 185)),
            "vitals_within_thresholds",
            ("Systolic BP 185 mmHg is at or above 180 mmHg",),
        ),
        (
            IV,
            lambda facts: with_reading(facts, reading("spo2", 92)),
            "vitals_within_thresholds",
            ("SpO2 92 % is at or below 92 %",),
        ),
        (
            IV,
            lambda facts: without_reading(facts, "heart_rate"),
            "vitals_within_thresholds",
            ("no Heart rate reading",),
        ),
        (
            TRD,
            lambda facts: without_reading(facts, "diastolic_bp"),
            "vitals_within_thresholds",
            ("no Diastolic BP reading",),
        ),
        (
            TRD,
            lambda facts: with_reading(facts, reading("systolic_bp", 130, minutes_ago=150)),
            "vitals_within_thresholds",
            ("no Systolic BP reading since observation began",),
        ),
        # Sedation: back to the pre-dose MOAA/S; any drop counts [S94][S30][S2] §3.1.
        (
            TRD,
            lambda facts: replace(facts, latest_moaas=4),
            "sedation_at_baseline",
            ("MOAA/S is 4, below the pre-dose rating of 5",),
        ),
        (
            TRD,
            lambda facts: replace(facts, latest_moaas=None),
            "sedation_at_baseline",
            ("No MOAA/S rating",),
        ),
        (
            IV,
            lambda facts: replace(facts, pre_dose_moaas=None, latest_moaas=4),
            "sedation_at_baseline",
            ("no pre-dose rating",),
        ),
        (
            TRD,
            lambda facts: replace(facts, transport_present=False),
            "transport_present",
            ("ride home",),
        ),
        (
            IV,
            lambda facts: replace(facts, prescriber_cleared=False),
            "prescriber_cleared",
            ("not yet judged",),
        ),
    ],
)
def test_one_unmet_criterion(
    definition: ProtocolDefinition,
    change: Callable[[DischargeFacts], DischargeFacts],
    expected_id: str,
    fragments: tuple[str, ...],
) -> None:
    [unmet] = unmet_discharge_criteria(definition, change(ready(definition)), NOW)
    assert unmet.id == expected_id
    for fragment in fragments:
        assert fragment in unmet.message
    [criterion] = [c for c in definition.discharge_criteria if c.id == expected_id]
    assert (unmet.source, unmet.review_locally) == (criterion.source, criterion.review_locally)


@pytest.mark.parametrize(
    ("definition", "change"),
    [
        # The reference gives no in-session BP thresholds for esketamine.
        (TRD, lambda facts: with_reading(facts, reading("systolic_bp", 170))),
        # IV respiratory-rate and heart-rate thresholds apply before dosing only.
        (IV, lambda facts: with_reading(facts, reading("respiratory_rate", 8))),
        (IV, lambda facts: with_reading(facts, reading("heart_rate", 45))),
        # Readings the protocol does not check before discharge are not required.
        (TRD, lambda facts: without_reading(facts, "respiratory_rate")),
        # MOAA/S above the pre-dose rating, or at the top of the scale with no pre-dose rating.
        (TRD, lambda facts: replace(facts, pre_dose_moaas=4, latest_moaas=5)),
        (TRD, lambda facts: replace(facts, pre_dose_moaas=None, latest_moaas=5)),
        (TRD, started(180)),
    ],
)
def test_still_met(
    definition: ProtocolDefinition, change: Callable[[DischargeFacts], DischargeFacts]
) -> None:
    assert unmet_discharge_criteria(definition, change(ready(definition)), NOW) == []


def test_every_unmet_criterion_is_listed_in_the_protocols_order() -> None:
    facts = DischargeFacts(
        observation_started_at=None,
        latest_readings={},
        pre_dose_moaas=5,
        latest_moaas=3,
        transport_present=False,
        prescriber_cleared=False,
    )
    unmet = unmet_discharge_criteria(TRD, facts, NOW)
    assert [item.id for item in unmet] == [criterion.id for criterion in TRD.discharge_criteria]
    assert unmet[1].message == "Vital signs not ready for discharge: no Systolic BP reading; " + (
        "no Diastolic BP reading."
    )


def test_vitals_problems_are_listed_together() -> None:
    facts = with_reading(without_reading(ready(IV), "spo2"), reading("diastolic_bp", 125))
    [unmet] = unmet_discharge_criteria(IV, facts, NOW)
    assert unmet.message == (
        "Vital signs not ready for discharge: no SpO2 reading; "
        "Diastolic BP 125 mmHg is at or above 120 mmHg."
    )


def test_only_the_protocols_criteria_are_checked() -> None:
    only_time = TRD.model_copy(
        update={
            "discharge_criteria": tuple(
                c for c in TRD.discharge_criteria if c.id == "min_observation_elapsed"
            )
        }
    )
    facts = replace(ready(TRD), transport_present=False, prescriber_cleared=False, latest_moaas=1)
    assert unmet_discharge_criteria(only_time, facts, NOW) == []
    assert unmet_discharge_criteria(only_time, started(30)(facts), NOW) == [
        UnmetCriterion(
            id="min_observation_elapsed",
            message="90 minutes remain of the 120-minute observation (30 minutes since the "
            "first device).",
            source=TRD.discharge_criteria[0].source,
        )
    ]


NEW_YORK = ZoneInfo("America/New_York")
HALFWAY = "60 minutes remain of the 120-minute observation (60 minutes since the first device)."


@pytest.mark.parametrize(
    ("start", "now", "unmet"),
    [
        # 8 March 2026, clocks go forward at 02:00: 01:30 EST to 03:30 EDT is 60 minutes.
        (
            datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK),
            datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK),
            [HALFWAY],
        ),
        (
            datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK),
            datetime(2026, 3, 8, 4, 30, tzinfo=NEW_YORK),
            [],
        ),
        # 1 November 2026, clocks go back at 02:00: 00:30 EDT to the second 01:30 (EST) is
        # 120 minutes though the wall clock moved one hour.
        (
            datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK),
            datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK),
            [],
        ),
        (
            datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK),
            datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=NEW_YORK),
            [HALFWAY],
        ),
    ],
)
def test_observation_is_elapsed_time_across_daylight_saving_changes(
    start: datetime, now: datetime, unmet: list[str]
) -> None:
    facts = replace(
        ready(TRD),
        observation_started_at=start,
        latest_readings={
            vital: Reading(vital=vital, value=STEADY[vital], measured_at=now)
            for vital in ("systolic_bp", "diastolic_bp")
        },
    )
    assert [item.message for item in unmet_discharge_criteria(TRD, facts, now)] == unmet


def test_every_criterion_id_has_a_check() -> None:
    assert set(CHECKS) == set(DISCHARGE_CRITERION_IDS)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: replace(ready(TRD), observation_started_at=datetime(2026, 3, 2, 14, 0)),  # noqa: DTZ001
            ValueError,
            "observation_started_at must be timezone-aware",
        ),
        (
            lambda: replace(ready(TRD), latest_readings={"spo2": reading("heart_rate", 70)}),
            ValueError,
            "filed under spo2",
        ),
        (lambda: replace(ready(TRD), latest_moaas=6), AnswerError, "out of range"),
        (lambda: replace(ready(TRD), pre_dose_moaas=-1), AnswerError, "out of range"),
    ],
)
def test_facts_are_checked_when_built(
    build: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        unmet_discharge_criteria(TRD, ready(TRD), NOW.replace(tzinfo=None))


def test_steady_values_cover_every_vital() -> None:
    assert set(STEADY) == set(VITALS)

"""Data-entry checks on vital-sign readings: one table row per problem, then pairs and ordering."""

import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from pydantic import AwareDatetime, TypeAdapter

from ketaguard.monitoring.vitals import (
    CLOCK_SKEW_ALLOWANCE,
    LABELS,
    PLAUSIBLE,
    PROBLEM_CODES,
    UNITS,
    ProblemCode,
    Reading,
    ReadingProblem,
    Vital,
    check_readings,
)
from ketaguard.protocols.definition import VITAL_UNITS, VITALS
from ketaguard.protocols.loader import load_builtin

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
AT = NOW - timedelta(minutes=1)


def reading(vital: str, value: object, measured_at: datetime = AT) -> Reading:
    # Readings arrive from forms and devices; the checks must cope with what the types forbid.
    return Reading(vital=cast(Vital, vital), value=cast(float, value), measured_at=measured_at)


def codes(problems: list[ReadingProblem]) -> list[tuple[int, str, ProblemCode]]:
    return [(problem.index, problem.vital, problem.code) for problem in problems]


def test_a_sound_batch_has_no_problems() -> None:
    batch = [
        reading("systolic_bp", 128),
        reading("diastolic_bp", 84),
        reading("heart_rate", 72),
        reading("spo2", 97.5),
        reading("respiratory_rate", 14),
    ]
    assert check_readings(batch, NOW) == []


@pytest.mark.parametrize(
    ("given", "code"),
    [
        (reading("temperature", 37), "unknown_vital"),
        (reading("heart_rate", float("nan")), "not_a_number"),
        (reading("heart_rate", float("inf")), "not_a_number"),
        (reading("heart_rate", True), "not_a_number"),
        (reading("heart_rate", "72"), "not_a_number"),
        (reading("systolic_bp", PLAUSIBLE["systolic_bp"].low - 1), "implausible"),
        (reading("systolic_bp", PLAUSIBLE["systolic_bp"].high + 1), "implausible"),
        (reading("diastolic_bp", PLAUSIBLE["diastolic_bp"].low - 1), "implausible"),
        (reading("diastolic_bp", PLAUSIBLE["diastolic_bp"].high + 1), "implausible"),
        (reading("heart_rate", PLAUSIBLE["heart_rate"].low - 1), "implausible"),
        (reading("heart_rate", PLAUSIBLE["heart_rate"].high + 1), "implausible"),
        (reading("spo2", PLAUSIBLE["spo2"].low - 1), "implausible"),
        (reading("spo2", PLAUSIBLE["spo2"].high + 0.1), "implausible"),
        (reading("respiratory_rate", PLAUSIBLE["respiratory_rate"].low - 1), "implausible"),
        (reading("respiratory_rate", PLAUSIBLE["respiratory_rate"].high + 1), "implausible"),
        (reading("heart_rate", 72, AT.replace(tzinfo=None)), "naive_datetime"),
        (
            reading("heart_rate", 72, NOW + CLOCK_SKEW_ALLOWANCE + timedelta(seconds=1)),
            "in_future",
        ),
    ],
)
def test_each_problem_is_reported_on_its_reading(given: Reading, code: ProblemCode) -> None:
    batch = [reading("spo2", 98), given]
    problems = check_readings(batch, NOW)
    assert codes(problems) == [(1, str(given.vital), code)]
    assert problems[0].message


@pytest.mark.parametrize("vital", VITALS)
def test_the_ends_of_each_plausible_range_are_accepted(vital: Vital) -> None:
    limits = PLAUSIBLE[vital]
    assert check_readings([reading(vital, limits.low), reading(vital, limits.high)], NOW) == []


def test_a_reading_within_the_clock_skew_allowance_is_accepted() -> None:
    assert check_readings([reading("spo2", 98, NOW + CLOCK_SKEW_ALLOWANCE)], NOW) == []


def test_the_clock_skew_limit_holds_in_every_kind_of_zone() -> None:
    """The edge of the allowance and one second past it, in UTC, in a fixed offset, in pydantic's
    zone as read from JSON, and in a region's zone with daylight saving; mixed in one batch, as
    the zone changes from reading to reading."""
    edge = NOW + CLOCK_SKEW_ALLOWANCE
    past = edge + timedelta(seconds=1)
    kathmandu = timezone(timedelta(hours=5, minutes=45))
    from_json = TypeAdapter(list[AwareDatetime]).validate_json(
        json.dumps([edge.isoformat(), past.isoformat()])
    )
    times = [
        edge, past,
        edge.astimezone(kathmandu), past.astimezone(kathmandu),
        *from_json,
        edge.astimezone(ZoneInfo("America/Chicago")), past.astimezone(ZoneInfo("America/Chicago")),
        edge.replace(tzinfo=None),
    ]  # fmt: skip
    problems = check_readings([reading("spo2", 98, at) for at in times], NOW)
    assert codes(problems) == [
        (1, "spo2", "in_future"),
        (3, "spo2", "in_future"),
        (5, "spo2", "in_future"),
        (7, "spo2", "in_future"),
        (8, "spo2", "naive_datetime"),
    ]


def test_the_future_message_says_how_far_ahead() -> None:
    [problem] = check_readings([reading("spo2", 98, NOW + timedelta(minutes=7.5))], NOW)
    assert "7.5 minutes in the future" in problem.message
    assert "5 minutes" in problem.message


def test_an_implausible_message_names_the_value_unit_and_accepted_range() -> None:
    [problem] = check_readings([reading("systolic_bp", 1200)], NOW)
    assert "Systolic BP 1200 mmHg" in problem.message
    assert "40-300 mmHg" in problem.message


def test_one_reading_can_have_several_problems() -> None:
    bad = reading("heart_rate", 400, AT.replace(tzinfo=None))
    assert codes(check_readings([bad], NOW)) == [
        (0, "heart_rate", "implausible"),
        (0, "heart_rate", "naive_datetime"),
    ]


@pytest.mark.parametrize(
    ("systolic", "diastolic", "refused"),
    [(120, 80, False), (90, 89, False), (80, 80, True), (70, 110, True)],
)
def test_systolic_must_exceed_diastolic_measured_at_the_same_time(
    systolic: float, diastolic: float, refused: bool
) -> None:
    batch = [
        reading("diastolic_bp", diastolic),
        reading("spo2", 98),
        reading("systolic_bp", systolic),
    ]
    problems = check_readings(batch, NOW)
    expected = (
        [
            (0, "diastolic_bp", "systolic_not_above_diastolic"),
            (2, "systolic_bp", "systolic_not_above_diastolic"),
        ]
        if refused
        else []
    )
    assert codes(problems) == expected
    for problem in problems:
        assert f"systolic {systolic:g} mmHg, diastolic {diastolic:g} mmHg" in problem.message


def test_the_same_instant_in_another_timezone_is_the_same_time() -> None:
    chicago = AT.astimezone(ZoneInfo("America/Chicago"))
    batch = [reading("systolic_bp", 70), reading("diastolic_bp", 110, chicago)]
    assert [problem.code for problem in check_readings(batch, NOW)] == [
        "systolic_not_above_diastolic",
        "systolic_not_above_diastolic",
    ]


def test_blood_pressures_measured_at_different_times_are_not_compared() -> None:
    batch = [reading("systolic_bp", 70), reading("diastolic_bp", 110, AT - timedelta(minutes=1))]
    assert check_readings(batch, NOW) == []


def test_a_reading_already_refused_is_not_also_compared() -> None:
    batch = [reading("systolic_bp", 10), reading("diastolic_bp", 80)]
    assert codes(check_readings(batch, NOW)) == [(0, "systolic_bp", "implausible")]


def test_problems_come_in_the_order_of_the_readings() -> None:
    batch = [
        reading("systolic_bp", 70),
        reading("heart_rate", 900),
        reading("diastolic_bp", 110),
        reading("spo2", 98, AT.replace(tzinfo=None)),
    ]
    assert [problem.index for problem in check_readings(batch, NOW)] == [0, 1, 2, 3]


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        check_readings([], NOW.replace(tzinfo=None))


def test_every_vital_has_a_unit_a_label_and_a_plausible_range() -> None:
    assert set(PLAUSIBLE) == set(LABELS) == set(UNITS) == set(VITALS)
    assert UNITS == VITAL_UNITS
    assert set(PROBLEM_CODES) >= {"implausible", "in_future"}


def test_no_builtin_threshold_lies_outside_the_plausible_range() -> None:
    # The guards must never refuse a value a protocol threshold could act on.
    for definition in load_builtin().values():
        for threshold in definition.monitoring.hold_thresholds:
            assert threshold.value.value in PLAUSIBLE[threshold.vital], threshold


def test_a_reading_is_frozen() -> None:
    value = reading("spo2", 98)
    with pytest.raises(FrozenInstanceError):
        cast(Any, value).value = 99

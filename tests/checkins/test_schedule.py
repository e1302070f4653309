"""The schedule format, ketaguard's default schedule and the slots it gives, without a database."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ketaguard.checkins.schedule import (
    Scheduled,
    ScheduleDefinition,
    default_schedule,
    items_for,
    plan_week,
    session_slots,
    weekly_slot,
)
from ketaguard.protocols.definition import iter_cited
from ketaguard.protocols.loader import load_builtin

CHICAGO = "America/Chicago"


def test_every_default_number_is_marked_for_local_review() -> None:
    schedule = default_schedule(load_builtin()["esketamine-trd"])
    cited = list(iter_cited(schedule))
    assert len(cited) >= 9
    for path, value in cited:
        assert value.review_locally, path
        assert "ketaguard" in value.source, path


def test_weekly_check_ins_start_with_the_protocols_second_phase() -> None:
    trd = default_schedule(load_builtin()["esketamine-trd"])
    assert trd.weekly is not None
    assert trd.weekly.from_week.value == 5
    assert "Maintenance" in trd.weekly.from_week.source
    # One phase only: no maintenance, so no weekly check-in.
    assert default_schedule(load_builtin()["esketamine-mdd-si"]).weekly is None


def test_the_default_round_trips_through_json() -> None:
    schedule = default_schedule(load_builtin()["ketamine-iv-0.5"])
    dumped = schedule.model_dump(mode="json")
    assert ScheduleDefinition.model_validate(dumped, strict=False) == schedule


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"after_dose": [{"hours_after_dose": {"value": -1, "source": "x"}}]}, "greater than 0"),
        ({"periodic": [{"item": "blood", "every_days": {"value": 7, "source": "x"}}]}, "blood"),
        ({"loss_of_response_scores": {"value": 0, "source": "x"}}, "greater than 0"),
        ({"weekly": {"from_week": {"value": 3, "source": "x"}, "items": []}}, "at least 1"),
        ({"surprise": True}, "Extra inputs"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(
    change: dict[str, object], message: str
) -> None:
    data = default_schedule(load_builtin()["esketamine-trd"]).model_dump(mode="json")
    data.update(change)
    with pytest.raises(ValidationError, match=message):
        ScheduleDefinition.model_validate(data, strict=False)


def test_the_same_offset_twice_is_refused() -> None:
    data = default_schedule(load_builtin()["esketamine-trd"]).model_dump(mode="json")
    data["after_dose"] = [data["after_dose"][0], data["after_dose"][0]]
    with pytest.raises(ValidationError, match="same hours_after_dose"):
        ScheduleDefinition.model_validate(data, strict=False)


def test_session_slots_before_and_after_the_dose() -> None:
    schedule = default_schedule(load_builtin()["esketamine-trd"])
    start = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
    dosed = start + timedelta(minutes=20)
    assert [s.slot for s in session_slots(schedule, "S", start, None)] == ["session:S:before"]
    slots = {s.slot: s for s in session_slots(schedule, "S", start, dosed)}
    assert set(slots) == {
        "session:S:before",
        "session:S:after:24h",
        "session:S:after:72h",
        "session:S:after:168h",
    }
    before = slots["session:S:before"]
    assert (before.opens_at, before.closes_at) == (start - timedelta(hours=48), start)
    week = slots["session:S:after:168h"]
    assert week.opens_at == dosed + timedelta(days=7)
    assert week.closes_at - week.opens_at == timedelta(hours=24)


def test_after_dose_offsets_are_real_hours_across_a_dst_change() -> None:
    """Dose on Saturday 7 March 2026 at 10:00 in Chicago; clocks go forward that night. The
    24-hour check-in opens 24 real hours later, which the clinic's clock shows as 11:00."""
    schedule = default_schedule(load_builtin()["esketamine-trd"])
    zone = ZoneInfo(CHICAGO)
    dosed = datetime(2026, 3, 7, 10, 0, tzinfo=zone)
    slots = {s.slot: s for s in session_slots(schedule, "S", dosed, dosed)}
    day_after = slots["session:S:after:24h"].opens_at
    assert day_after - dosed == timedelta(hours=24)
    assert day_after.astimezone(zone).hour == 11


def test_weekly_slots_are_local_calendar_weeks_across_a_dst_change() -> None:
    schedule = default_schedule(load_builtin()["esketamine-trd"])
    # Week 5 of a plan starting 2 February 2026 runs 2-8 March; clocks go forward on 8 March.
    start = date(2026, 2, 2)
    slot = weekly_slot(schedule, start, 5, CHICAGO)
    assert slot is not None
    assert slot.slot == "week:5"
    zone = ZoneInfo(CHICAGO)
    assert slot.opens_at == datetime(2026, 3, 2, tzinfo=zone)
    assert slot.closes_at == datetime(2026, 3, 9, tzinfo=zone)
    assert slot.closes_at - slot.opens_at == timedelta(hours=167)
    # The week before maintenance has no weekly check-in.
    assert weekly_slot(schedule, start, 4, CHICAGO) is None


def test_plan_week_uses_the_clinics_calendar() -> None:
    start = date(2026, 3, 2)
    # 03:00 UTC on 9 March is still 8 March (week 1) in Chicago, already 9 March (week 2) in UTC.
    late_sunday = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    assert plan_week(start, late_sunday, CHICAGO) == 1
    assert plan_week(start, late_sunday, "UTC") == 2


def test_periodic_items_come_about_every_n_days_whatever_exists() -> None:
    schedule = default_schedule(load_builtin()["esketamine-trd"])
    start = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
    [slot] = session_slots(schedule, "S", start, None)
    # Nothing before: every periodic item is asked.
    assert items_for(schedule, slot, []) == [
        "phq9",
        "craving",
        "substance_use",
        "withdrawal",
        "urinary",
        "memory",
        "sds",
    ]
    # PHQ-9 asked 6 days before: not again yet. The SDS 20 days before is inside its 28 days.
    # Urinary and memory were last asked 7 days before, so they come again. A PHQ-9 in a later
    # check-in (generated first) does not stop this one asking it: never less often.
    existing = [
        Scheduled(slot.opens_at - timedelta(days=6), ["phq9"]),
        Scheduled(slot.opens_at - timedelta(days=20), ["sds"]),
        Scheduled(slot.opens_at - timedelta(days=7), ["urinary", "memory"]),
    ]
    assert items_for(schedule, slot, existing) == [
        "craving",
        "substance_use",
        "withdrawal",
        "urinary",
        "memory",
    ]
    later_only = [Scheduled(slot.opens_at + timedelta(days=2), ["phq9", "sds"])]
    assert {"phq9", "sds"} <= set(items_for(schedule, slot, later_only))

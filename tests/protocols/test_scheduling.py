"""Booking rules: one table row per rule, then boundaries, daylight saving, rescheduling, status."""

from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaguard.protocols.scheduling import (
    DOSE_TOLERANCE_MG,
    PLAN_STATUSES,
    RULE_IDS,
    RULES,
    BookedSession,
    CourseLimits,
    FixedDoseLimits,
    PerKgDoseLimits,
    PhaseLimits,
    PlanFacts,
    PlanStatus,
    Proposal,
    RuleId,
    Violation,
    check_booking,
    phase_for,
    week_of,
)

CHICAGO = "America/Chicago"
LONDON = "Europe/London"
START = date(2026, 3, 2)  # a Monday; week 1 is 2-8 March

INDUCTION = PhaseLimits(
    name="Induction",
    start_week=1,
    end_week=4,
    max_sessions_per_7_days=2,
    min_interval_hours=48,
    allowed_mg=None,
)
MAINTENANCE = PhaseLimits(
    name="Maintenance",
    start_week=5,
    end_week=None,
    max_sessions_per_7_days=1,
    min_interval_hours=120,
    allowed_mg=None,
)
FIXED = FixedDoseLimits(
    allowed_mg=(28.0, 56.0, 84.0), first_dose_mg=56.0, max_per_session_mg=84.0, max_step_up_mg=28.0
)
# 0.5-0.75 mg/kg for a 70 kg patient, converted by the caller.
PER_KG = PerKgDoseLimits(min_mg=35.0, max_mg=52.5, max_step_up_mg=10.0)
PLAN = PlanFacts(
    status="active",
    start_date=START,
    timezone=CHICAGO,
    phases=(INDUCTION, MAINTENANCE),
    dose=FIXED,
    course=CourseLimits(max_weeks=12, max_sessions=20, planned_end=date(2026, 5, 24)),
)


def at(
    day: date | tuple[int, int, int], hour: int = 9, minute: int = 0, tz: str = CHICAGO
) -> datetime:
    """A wall-clock time in ``tz``, returned in UTC as stored."""
    d = day if isinstance(day, date) else date(*day)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def session(id: str, when: datetime, dose: float = 56.0, *, given: bool = True) -> BookedSession:
    return BookedSession(id=id, at=when, dose_mg=dose, given=given)


def propose(when: datetime, dose: float = 56.0, session_id: str | None = None) -> Proposal:
    return Proposal(at=when, dose_mg=dose, session_id=session_id)


def rules(violations: list[Violation]) -> list[RuleId]:
    return [v.rule for v in violations]


def course(**changes: object) -> Callable[[PlanFacts], PlanFacts]:
    return lambda plan: replace(plan, course=replace(plan.course, **changes))  # type: ignore[arg-type]


def plan_with(**changes: object) -> Callable[[PlanFacts], PlanFacts]:
    return lambda plan: replace(plan, **changes)  # type: ignore[arg-type]


# Monday and Thursday of week 1, both given at 56 mg.
HISTORY = (session("s1", at((2026, 3, 2))), session("s2", at((2026, 3, 5))))


@dataclass(frozen=True)
class Case:
    name: str
    proposal: Proposal
    expected: tuple[RuleId, ...]
    booked: tuple[BookedSession, ...] = HISTORY
    plan: Callable[[PlanFacts], PlanFacts] = field(default=lambda plan: plan)


CASES = (
    Case("allowed: Monday of week 2 after Mon/Thu of week 1", propose(at((2026, 3, 9))), ()),
    Case(
        "plan paused",
        propose(at((2026, 3, 9))),
        ("plan_not_active",),
        plan=plan_with(status="paused"),
    ),
    # Before week 1 there is no week, so no phase either.
    Case(
        "day before the start",
        propose(at((2026, 3, 1))),
        ("before_plan_start", "no_phase_for_week"),
        booked=(),
    ),
    Case(
        "week 13 of a 12-week course",
        propose(at((2026, 5, 25))),
        ("outside_course_weeks",),
        plan=course(planned_end=None),
    ),
    Case(
        "day after the planned end",
        propose(at((2026, 5, 1))),
        ("after_planned_end",),
        plan=course(planned_end=date(2026, 4, 30)),
    ),
    Case(
        "course sessions used up",
        propose(at((2026, 3, 9))),
        ("course_sessions_exhausted",),
        plan=course(max_sessions=2),
    ),
    Case(
        "40 hours after the previous session",
        propose(at((2026, 3, 7), 1)),
        ("too_soon_after_previous",),
        booked=(session("s2", at((2026, 3, 5))),),
    ),
    Case(
        "24 hours before the next session",
        propose(at((2026, 3, 8))),
        ("too_close_to_next",),
        booked=(session("s1", at((2026, 3, 2))), session("s3", at((2026, 3, 9)), given=False)),
    ),
    Case(
        "third session in 2-8 March",
        propose(at((2026, 3, 7))),
        ("too_many_in_7_days",),
        booked=(session("s1", at((2026, 3, 2))), session("s2", at((2026, 3, 4)))),
    ),
    Case("70 mg is not a device dose", propose(at((2026, 3, 9)), 70.0), ("dose_not_allowed",)),
    Case(
        "maintenance narrows the doses to 56 or 84 mg",
        propose(at((2026, 4, 6)), 28.0),
        ("dose_not_allowed",),
        plan=plan_with(phases=(INDUCTION, replace(MAINTENANCE, allowed_mg=(56.0, 84.0)))),
    ),
    Case(
        "112 mg after 84 mg: not a device dose and above the maximum",
        propose(at((2026, 3, 9)), 112.0),
        ("dose_not_allowed", "dose_above_maximum"),
        booked=(session("s1", at((2026, 3, 2)), 84.0), session("s2", at((2026, 3, 5)), 84.0)),
    ),
    Case(
        "per kg: above the patient's maximum",
        propose(at((2026, 3, 9)), 60.0),
        ("dose_above_maximum",),
        booked=(session("s1", at((2026, 3, 2)), 52.5), session("s2", at((2026, 3, 5)), 52.5)),
        plan=plan_with(dose=PER_KG),
    ),
    Case(
        "per kg: below the patient's minimum",
        propose(at((2026, 3, 9)), 30.0),
        ("dose_below_minimum",),
        booked=(session("s1", at((2026, 3, 2)), 35.0), session("s2", at((2026, 3, 5)), 35.0)),
        plan=plan_with(dose=PER_KG),
    ),
    Case(
        "first session at 84 mg instead of 56 mg",
        propose(at((2026, 3, 2)), 84.0),
        ("first_dose_mismatch",),
        booked=(),
    ),
    Case(
        "28 mg to 84 mg",
        propose(at((2026, 3, 9)), 84.0),
        ("step_up_too_large",),
        booked=(session("s1", at((2026, 3, 2)), 28.0), session("s2", at((2026, 3, 5)), 28.0)),
    ),
    Case(
        "per kg: 35 mg to 52.5 mg",
        propose(at((2026, 3, 9)), 52.5),
        ("step_up_too_large",),
        booked=(session("s1", at((2026, 3, 2)), 35.0), session("s2", at((2026, 3, 5)), 35.0)),
        plan=plan_with(dose=PER_KG),
    ),
    Case(
        "week 5 with only an induction phase",
        propose(at((2026, 3, 30))),
        ("no_phase_for_week",),
        plan=plan_with(phases=(INDUCTION,)),
    ),
)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_rule(case: Case) -> None:
    found = check_booking(case.plan(PLAN), case.booked, case.proposal)
    assert tuple(rules(found)) == case.expected
    for violation in found:
        assert violation.message
        assert violation.numbers
        assert violation.overridable is (violation.rule != "plan_not_active")


def test_the_table_covers_every_rule() -> None:
    assert {rule for case in CASES for rule in case.expected} == set(RULE_IDS)


def test_rules_run_in_the_reporting_order() -> None:
    assert tuple(rule.__name__ for rule in RULES) == RULE_IDS


def test_many_violations_are_all_reported_in_a_stable_order() -> None:
    plan = replace(
        PLAN,
        status="discontinued",
        course=CourseLimits(max_weeks=1, max_sessions=2, planned_end=date(2026, 3, 8)),
    )
    booked = (session("s1", at((2026, 3, 2)), 28.0), session("s2", at((2026, 3, 9)), 28.0))
    # Week 2, 24 h after s2, over 84 mg, not a device dose, and 72 mg above 28 mg.
    found = check_booking(plan, booked, propose(at((2026, 3, 10)), 100.0))
    assert rules(found) == [
        "plan_not_active",
        "outside_course_weeks",
        "after_planned_end",
        "course_sessions_exhausted",
        "too_soon_after_previous",
        "dose_not_allowed",
        "dose_above_maximum",
        "step_up_too_large",
    ]
    assert [r for r in RULE_IDS if r in rules(found)] == rules(found)
    assert check_booking(plan, booked[::-1], propose(at((2026, 3, 10)), 100.0)) == found


# --- Messages and numbers -----------------------------------------------------------------------


def test_interval_message_names_the_previous_session_and_the_limit() -> None:
    [violation] = check_booking(
        PLAN, (session("s2", at((2026, 3, 5))),), propose(at((2026, 3, 7), 1))
    )
    assert violation.message == (
        "Session would be 40.0 hours after the previous one (2026-03-05 09:00 America/Chicago); "
        "this phase (Induction) requires at least 48 hours."
    )
    assert violation.numbers == {
        "hours_since_previous": 40.0,
        "min_interval_hours": 48,
        "previous_session_id": "s2",
        "previous_at": "2026-03-05 09:00 America/Chicago",
        "phase": "Induction",
    }


def test_a_gap_just_short_of_the_minimum_never_prints_as_the_minimum() -> None:
    [violation] = check_booking(
        PLAN, (session("s2", at((2026, 3, 5))),), propose(at((2026, 3, 7), 8, 59))
    )
    assert "47.9 hours after" in violation.message


def test_window_message_and_numbers() -> None:
    booked = (session("s1", at((2026, 3, 2))), session("s2", at((2026, 3, 4))))
    [violation] = check_booking(PLAN, booked, propose(at((2026, 3, 7))))
    assert violation.message == (
        "Session would make 3 sessions in the 7 days 2026-03-02 to 2026-03-08; this phase "
        "(Induction) allows at most 2 in any 7 days."
    )
    assert violation.numbers["sessions_in_window"] == 3
    assert violation.numbers["max_sessions_per_7_days"] == 2


def test_dose_messages_carry_the_numbers() -> None:
    booked = (session("s1", at((2026, 3, 2)), 28.0),)
    found = check_booking(PLAN, booked, propose(at((2026, 3, 5)), 90.0))
    by_rule = {v.rule: v for v in found}
    assert by_rule["dose_not_allowed"].message == (
        "90 mg is not an allowed dose under this plan; allowed: 28 mg, 56 mg, 84 mg."
    )
    assert by_rule["dose_above_maximum"].numbers == {"dose_mg": 90.0, "max_mg": 84.0}
    assert by_rule["step_up_too_large"].numbers["step_up_mg"] == 62.0
    assert "from 28 mg at the previous session (2026-03-02 09:00 America/Chicago)" in (
        by_rule["step_up_too_large"].message
    )


def test_violations_are_frozen() -> None:
    [violation] = check_booking(replace(PLAN, status="draft"), HISTORY, propose(at((2026, 3, 9))))
    with pytest.raises(FrozenInstanceError):
        violation.rule = "dose_not_allowed"  # type: ignore[misc]


# --- Plan status --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", PLAN_STATUSES)
def test_only_an_active_plan_books(status: PlanStatus) -> None:
    found = check_booking(replace(PLAN, status=status), HISTORY, propose(at((2026, 3, 9))))
    if status == "active":
        assert found == []
    else:
        assert rules(found) == ["plan_not_active"]
        assert found[0].overridable is False
        assert found[0].numbers == {"status": status}
        assert status in found[0].message


@pytest.mark.parametrize("status", [s for s in PLAN_STATUSES if s != "active"])
def test_an_inactive_plan_still_reports_the_other_rules(status: PlanStatus) -> None:
    found = check_booking(replace(PLAN, status=status), HISTORY, propose(at((2026, 3, 6)), 70.0))
    assert rules(found) == [
        "plan_not_active",
        "too_soon_after_previous",
        "too_many_in_7_days",
        "dose_not_allowed",
    ]
    assert [v.overridable for v in found] == [False, True, True, True]


# --- Boundaries ---------------------------------------------------------------------------------


def test_exactly_the_minimum_interval_after_the_previous_is_allowed() -> None:
    previous = session("s1", at((2026, 3, 2)))
    assert check_booking(PLAN, (previous,), propose(previous.at + timedelta(hours=48))) == []
    short = propose(previous.at + timedelta(hours=48, seconds=-1))
    assert rules(check_booking(PLAN, (previous,), short)) == ["too_soon_after_previous"]


def test_exactly_the_minimum_interval_before_the_next_is_allowed() -> None:
    following = session("s1", at((2026, 3, 5)), given=False)
    proposal = propose(following.at - timedelta(hours=48))
    assert check_booking(PLAN, (following,), proposal) == []
    short = propose(following.at - timedelta(hours=48, seconds=-1))
    assert rules(check_booking(PLAN, (following,), short)) == ["too_close_to_next"]


def test_a_session_at_the_same_instant_is_the_previous_one() -> None:
    same = session("s1", at((2026, 3, 5)))
    found = check_booking(PLAN, (same,), propose(same.at))
    assert rules(found) == ["too_soon_after_previous"]
    assert found[0].numbers["hours_since_previous"] == 0.0


def test_the_interval_is_measured_to_the_nearest_sessions() -> None:
    plan = replace(PLAN, phases=(replace(INDUCTION, max_sessions_per_7_days=3),))
    booked = (  # in no particular order
        session("s3", at((2026, 3, 12)), given=False),
        session("s1", at((2026, 3, 2))),
        session("s2", at((2026, 3, 8))),
    )
    # 40 h after s2 and 56 h before s3.
    [soon] = check_booking(plan, booked, propose(at((2026, 3, 10), 1)))
    assert (soon.rule, soon.numbers["previous_session_id"]) == ("too_soon_after_previous", "s2")
    # 63 h after s2 and 33 h before s3.
    [close] = check_booking(plan, booked, propose(at((2026, 3, 11), 0)))
    assert (close.rule, close.numbers["next_session_id"]) == ("too_close_to_next", "s3")
    assert close.numbers["hours_until_next"] == 33.0


def test_exactly_the_maximum_in_a_window_is_allowed() -> None:
    booked = (session("s1", at((2026, 3, 2))),)
    assert check_booking(PLAN, booked, propose(at((2026, 3, 8)))) == []
    booked_two = (*booked, session("s2", at((2026, 3, 4))))
    assert rules(check_booking(PLAN, booked_two, propose(at((2026, 3, 8))))) == [
        "too_many_in_7_days"
    ]


@pytest.mark.parametrize(
    ("earlier_days", "later_days", "expected"),
    [
        # Sessions 7 days before and 7 days after the proposal share no window with it.
        (-7, 7, ()),
        # 6 days before: the window ending on the proposal's day holds both.
        (-6, 7, ("too_many_in_7_days",)),
        # 6 days after: the window starting on the proposal's day holds both.
        (-7, 6, ("too_many_in_7_days",)),
    ],
)
def test_the_window_slides_over_local_days(
    earlier_days: int, later_days: int, expected: tuple[RuleId, ...]
) -> None:
    plan = replace(
        PLAN, phases=(replace(INDUCTION, max_sessions_per_7_days=1, min_interval_hours=None),)
    )
    day = date(2026, 3, 18)
    booked = (
        session("before", at(day + timedelta(days=earlier_days))),
        session("after", at(day + timedelta(days=later_days)), given=False),
    )
    assert tuple(rules(check_booking(plan, booked, propose(at(day))))) == expected


def test_the_window_reports_the_fullest_window() -> None:
    plan = replace(
        PLAN, phases=(replace(INDUCTION, max_sessions_per_7_days=2, min_interval_hours=None),)
    )
    booked = (
        session("a", at((2026, 3, 9))),
        session("b", at((2026, 3, 11))),
        session("c", at((2026, 3, 17)), given=False),
        session("d", at((2026, 3, 18)), given=False),
    )
    # Proposal 13 March: 9-15 (a, b and it), 11-17 (b, it and c) and 13-19 (it, c and d) hold 3
    # each; the earliest is reported, starting on its first session's day.
    [violation] = check_booking(plan, booked, propose(at((2026, 3, 13))))
    assert violation.numbers["sessions_in_window"] == 3
    assert (violation.numbers["window_start"], violation.numbers["window_end"]) == (
        "2026-03-09",
        "2026-03-15",
    )


def test_the_window_uses_the_clinic_date_not_the_utc_date() -> None:
    weekly = replace(INDUCTION, max_sessions_per_7_days=1, min_interval_hours=None)
    plan = replace(PLAN, phases=(weekly,))
    # Sunday 23:30 in Chicago is already Monday in UTC; the next Sunday 00:30 is 7 local days on
    # but only 6 UTC dates on.
    sunday_late = session("s1", at((2026, 3, 8), 23, 30))
    assert sunday_late.at.date() == date(2026, 3, 9)
    assert check_booking(plan, (sunday_late,), propose(at((2026, 3, 15), 0, 30))) == []
    assert rules(check_booking(plan, (sunday_late,), propose(at((2026, 3, 14), 23, 0)))) == [
        "too_many_in_7_days"
    ]


def test_course_boundaries_are_inclusive() -> None:
    plan = replace(
        PLAN, course=CourseLimits(max_weeks=12, max_sessions=3, planned_end=date(2026, 5, 24))
    )
    booked = (session("s1", at((2026, 5, 11))),)
    last_day = propose(at((2026, 5, 24), 23, 59))
    assert week_of(plan, last_day.at) == 12
    assert check_booking(plan, booked, last_day) == []
    # Two booked of three: still one left.
    assert check_booking(plan, (*booked, session("s0", at((2026, 5, 4)))), last_day) == []


def test_the_first_week_day_is_allowed() -> None:
    assert check_booking(PLAN, (), propose(at(START, 0, 0))) == []


# --- Daylight saving ----------------------------------------------------------------------------

# Monday 09:00 the week before and the week after each change. Across the spring change only 167
# real hours pass between the two Mondays, across the autumn change 169.
DST_WEEKS = [
    pytest.param(CHICAGO, date(2026, 3, 2), date(2026, 3, 9), 167, id="chicago-spring-forward"),
    pytest.param(CHICAGO, date(2026, 10, 26), date(2026, 11, 2), 169, id="chicago-fall-back"),
    pytest.param(LONDON, date(2026, 3, 23), date(2026, 3, 30), 167, id="london-spring-forward"),
    pytest.param(LONDON, date(2026, 10, 19), date(2026, 10, 26), 169, id="london-fall-back"),
]


def weekly_plan(tz: str, start: date, min_interval_hours: float | None = None) -> PlanFacts:
    weekly = PhaseLimits(
        name="Weekly",
        start_week=1,
        end_week=None,
        max_sessions_per_7_days=1,
        min_interval_hours=min_interval_hours,
        allowed_mg=None,
    )
    return PlanFacts(
        status="active",
        start_date=start,
        timezone=tz,
        phases=(weekly,),
        dose=FIXED,
        course=CourseLimits(max_weeks=None, max_sessions=None, planned_end=None),
    )


@pytest.mark.parametrize(("tz", "before", "after", "real_hours"), DST_WEEKS)
def test_weekly_monday_session_does_not_collide_with_itself_across_dst(
    tz: str, before: date, after: date, real_hours: int
) -> None:
    plan = weekly_plan(tz, before)
    earlier, later = at(before, tz=tz), at(after, tz=tz)
    assert later - earlier == timedelta(hours=real_hours)  # the change really is crossed
    assert week_of(plan, earlier) == 1
    assert week_of(plan, later) == 2
    # Booking the later Monday after the earlier one, and the earlier before the later one.
    assert check_booking(plan, (session("s1", earlier),), propose(later)) == []
    assert check_booking(plan, (session("s2", later, given=False),), propose(earlier)) == []
    # A second session in the same local week is still refused.
    sunday = at(after - timedelta(days=1), tz=tz)
    assert rules(check_booking(plan, (session("s1", earlier),), propose(sunday))) == [
        "too_many_in_7_days"
    ]


@pytest.mark.parametrize(("tz", "before", "after", "real_hours"), DST_WEEKS)
def test_the_minimum_interval_is_real_elapsed_time_across_dst(
    tz: str, before: date, after: date, real_hours: int
) -> None:
    plan = weekly_plan(tz, before, min_interval_hours=168)
    found = check_booking(plan, (session("s1", at(before, tz=tz)),), propose(at(after, tz=tz)))
    if real_hours < 168:
        assert rules(found) == ["too_soon_after_previous"]
        assert found[0].numbers["hours_since_previous"] == real_hours
    else:
        assert found == []


@pytest.mark.parametrize(("tz", "before", "after", "real_hours"), DST_WEEKS)
def test_twice_weekly_monday_thursday_across_dst(
    tz: str, before: date, after: date, real_hours: int
) -> None:
    plan = replace(
        weekly_plan(tz, before, min_interval_hours=48),
        phases=(
            PhaseLimits(
                name="Twice weekly",
                start_week=1,
                end_week=None,
                max_sessions_per_7_days=2,
                min_interval_hours=48,
                allowed_mg=None,
            ),
        ),
    )
    booked = tuple(
        session(f"s{i}", at(day, tz=tz))
        for i, day in enumerate((before, before + timedelta(days=3), after))
    )
    assert check_booking(plan, booked, propose(at(after + timedelta(days=3), tz=tz))) == []


def test_week_boundaries_follow_the_clinic_clock() -> None:
    plan = weekly_plan(CHICAGO, date(2026, 3, 2))
    assert week_of(plan, at((2026, 3, 8), 23, 59)) == 1
    assert week_of(plan, at((2026, 3, 9), 0, 0)) == 2
    fall = weekly_plan(LONDON, date(2026, 10, 19))
    assert week_of(fall, at((2026, 10, 25), 23, 59, tz=LONDON)) == 1
    assert week_of(fall, at((2026, 10, 26), 0, 0, tz=LONDON)) == 2


def test_a_proposal_in_another_timezone_is_read_on_the_clinic_clock() -> None:
    # Monday 11:00 in Chicago is already Tuesday in Tokyo.
    tokyo = at((2026, 3, 9), 11).astimezone(ZoneInfo("Asia/Tokyo"))
    assert tokyo.date() == date(2026, 3, 10)
    assert week_of(PLAN, tokyo) == 2
    assert check_booking(PLAN, HISTORY, propose(tokyo)) == []
    # Sunday 23:00 in Chicago (Monday in Tokyo) is still in week 1, the third session of it.
    late = at((2026, 3, 8), 23).astimezone(ZoneInfo("Asia/Tokyo"))
    assert late.date() == date(2026, 3, 9)
    assert rules(check_booking(PLAN, HISTORY, propose(late))) == ["too_many_in_7_days"]


# --- Rescheduling -------------------------------------------------------------------------------

WEEK_TWO = (*HISTORY, session("s3", at((2026, 3, 9)), given=False))


def test_rescheduling_a_session_does_not_count_it() -> None:
    moved = at((2026, 3, 10))
    assert check_booking(PLAN, WEEK_TWO, propose(moved, session_id="s3")) == []
    # The same time as a new booking collides with s3.
    assert rules(check_booking(PLAN, WEEK_TWO, propose(moved))) == [
        "too_soon_after_previous",
        "too_many_in_7_days",
    ]


def test_rescheduling_does_not_use_up_the_course() -> None:
    plan = replace(PLAN, course=replace(PLAN.course, max_sessions=3))
    assert check_booking(plan, WEEK_TWO, propose(at((2026, 3, 10)), session_id="s3")) == []
    assert rules(check_booking(plan, WEEK_TWO, propose(at((2026, 3, 16))))) == [
        "course_sessions_exhausted"
    ]


def test_rescheduling_the_first_session_keeps_the_first_dose_rule() -> None:
    first = (session("s1", at((2026, 3, 2)), given=False),)
    assert check_booking(PLAN, first, propose(at((2026, 3, 3)), session_id="s1")) == []
    assert rules(check_booking(PLAN, first, propose(at((2026, 3, 3)), 84.0, "s1"))) == [
        "first_dose_mismatch"
    ]


def test_an_unknown_session_id_excludes_nothing() -> None:
    found = check_booking(PLAN, WEEK_TWO, propose(at((2026, 3, 10)), session_id="elsewhere"))
    assert rules(found) == ["too_soon_after_previous", "too_many_in_7_days"]


def test_step_up_compares_with_the_latest_earlier_session_given_or_scheduled() -> None:
    booked = (
        session("s1", at((2026, 3, 2)), 56.0),
        session("s2", at((2026, 3, 5)), 28.0, given=False),
        session("s3", at((2026, 3, 12)), 28.0, given=False),
    )
    found = check_booking(PLAN, booked, propose(at((2026, 3, 9)), 84.0))
    assert rules(found) == ["step_up_too_large"]
    assert found[0].numbers["previous_session_id"] == "s2"


# --- Doses: tolerance ---------------------------------------------------------------------------


def test_fixed_doses_are_compared_within_the_tolerance() -> None:
    within = 56.0 + DOSE_TOLERANCE_MG / 2
    assert check_booking(PLAN, HISTORY, propose(at((2026, 3, 9)), within)) == []
    beyond = 56.0 + DOSE_TOLERANCE_MG * 10
    assert rules(check_booking(PLAN, HISTORY, propose(at((2026, 3, 9)), beyond))) == [
        "dose_not_allowed"
    ]


def test_weight_based_limits_survive_float_rounding() -> None:
    weight = 70.1
    dose = PerKgDoseLimits(min_mg=0.5 * weight, max_mg=0.75 * weight, max_step_up_mg=None)
    plan = replace(PLAN, dose=dose)
    for mg in (35.05, 52.575):
        assert check_booking(plan, HISTORY, propose(at((2026, 3, 9)), mg)) == []
    assert rules(check_booking(plan, HISTORY, propose(at((2026, 3, 9)), 52.6))) == [
        "dose_above_maximum"
    ]
    assert rules(check_booking(plan, HISTORY, propose(at((2026, 3, 9)), 35.0))) == [
        "dose_below_minimum"
    ]


def test_a_step_up_of_exactly_the_maximum_is_allowed() -> None:
    booked = (session("s1", at((2026, 3, 2)), 28.0),)
    assert check_booking(PLAN, booked, propose(at((2026, 3, 5)), 56.0)) == []


def test_no_step_up_limit_allows_any_rise() -> None:
    plan = replace(PLAN, dose=replace(FIXED, max_step_up_mg=None))
    booked = (session("s1", at((2026, 3, 2)), 28.0),)
    assert check_booking(plan, booked, propose(at((2026, 3, 5)), 84.0)) == []


def test_no_first_dose_allows_any_first_dose() -> None:
    plan = replace(PLAN, dose=replace(FIXED, first_dose_mg=None))
    assert check_booking(plan, (), propose(at((2026, 3, 2)), 84.0)) == []


# --- week_of and phase_for ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "week"),
    [
        ((2026, 3, 1), 0),
        ((2026, 2, 22), -1),
        ((2026, 3, 2), 1),
        ((2026, 3, 8), 1),
        ((2026, 3, 9), 2),
    ],
)
def test_week_of(day: tuple[int, int, int], week: int) -> None:
    assert week_of(PLAN, at(day)) == week


def test_phase_for() -> None:
    assert phase_for(PLAN, 0) is None
    assert phase_for(PLAN, 1) is INDUCTION
    assert phase_for(PLAN, 4) is INDUCTION
    assert phase_for(PLAN, 5) is MAINTENANCE
    assert phase_for(PLAN, 500) is MAINTENANCE
    gap = replace(PLAN, phases=(INDUCTION, replace(MAINTENANCE, start_week=6)))
    assert phase_for(gap, 5) is None


def test_the_phase_of_the_proposal_week_sets_the_limits() -> None:
    # Friday of week 4 (induction, 48 h) and Monday of week 5 (maintenance, 120 h), 72 h apart.
    friday = session("s1", at((2026, 3, 27)))
    monday = propose(at((2026, 3, 30)))
    assert rules(check_booking(PLAN, (friday,), monday)) == [
        "too_soon_after_previous",
        "too_many_in_7_days",
    ]
    earlier = propose(friday.at - timedelta(hours=72))
    assert check_booking(PLAN, (replace(friday, given=False),), earlier) == []


# --- Invalid input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: replace(PLAN, timezone="Mars/Olympus"), "Unknown timezone"),
        (lambda: replace(PLAN, status="archived"), "Unknown plan status"),  # type: ignore[arg-type]
        (lambda: replace(PLAN, start_date=datetime(2026, 3, 2, tzinfo=UTC)), "not a datetime"),
        (
            lambda: replace(PLAN, phases=(INDUCTION, replace(MAINTENANCE, start_week=4))),
            "overlap",
        ),
        (
            lambda: replace(PLAN, phases=(replace(INDUCTION, end_week=None), MAINTENANCE)),
            "overlap",
        ),
        (
            lambda: replace(PLAN, dose=PER_KG, phases=(replace(INDUCTION, allowed_mg=(56.0,)),)),
            "needs fixed doses",
        ),
        (
            lambda: replace(PLAN, phases=(replace(INDUCTION, allowed_mg=(112.0,)),)),
            "narrow",
        ),
        (
            lambda: replace(PLAN, course=replace(PLAN.course, planned_end=date(2026, 3, 1))),
            "before",
        ),
        (lambda: replace(INDUCTION, start_week=0), "start_week"),
        (lambda: replace(INDUCTION, end_week=0), "end_week"),
        (lambda: replace(INDUCTION, max_sessions_per_7_days=0), "max_sessions_per_7_days"),
        (lambda: replace(INDUCTION, min_interval_hours=0), "min_interval_hours"),
        (lambda: replace(INDUCTION, allowed_mg=()), "allowed_mg"),
        (lambda: replace(FIXED, allowed_mg=(56.0, 112.0)), "exceed max_per_session_mg"),
        (lambda: replace(FIXED, first_dose_mg=42.0), "first_dose_mg"),
        (lambda: replace(FIXED, max_step_up_mg=-1.0), "max_step_up_mg"),
        (lambda: replace(FIXED, kind="per_kg"), "kind"),  # type: ignore[arg-type]
        (lambda: replace(PER_KG, min_mg=60.0), "min_mg must not exceed max_mg"),
        (lambda: replace(PER_KG, max_mg=float("nan")), "max_mg"),
        (lambda: CourseLimits(max_weeks=0, max_sessions=None, planned_end=None), "max_weeks"),
        (lambda: CourseLimits(max_weeks=None, max_sessions=0, planned_end=None), "max_sessions"),
        (lambda: session("s1", datetime(2026, 3, 2, 9)), "timezone-aware"),  # noqa: DTZ001
        (lambda: session("s1", at((2026, 3, 2)), 0.0), "dose_mg"),
        (lambda: propose(datetime(2026, 3, 2, 9)), "timezone-aware"),  # noqa: DTZ001
        (lambda: propose(at((2026, 3, 2)), -56.0), "dose_mg"),
    ],
)
def test_invalid_input_is_refused(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_week_of_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        week_of(PLAN, datetime(2026, 3, 2, 9))  # noqa: DTZ001

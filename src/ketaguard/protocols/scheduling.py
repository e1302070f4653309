"""Whether a session may be booked under a treatment plan, and every rule a booking would break.

``check_booking(plan, booked, proposal)`` returns ``[]`` when the session may be booked, otherwise
one ``Violation`` per broken rule, each with a plain-language message and the numbers behind it.
These rules are the dependence safeguards of a plan: a controlled dose, a limited frequency and a
defined course. Every limit comes from the plan (``PlanFacts``, built by the caller from the
protocol definition and the patient's treatment plan); this module holds no clinical number.

Pure and typed: no database, no HTTP. Invalid input (a naive datetime, an unknown timezone,
overlapping phases, ...) raises ``ValueError`` when the input object is built.

Semantics
---------
- **Calendar.** All calendar reasoning is in the clinic's timezone (``PlanFacts.timezone``, IANA,
  via ``zoneinfo``). A moment's *local date* is its date on the clinic's wall clock. Week ``n`` is
  ``((local date - start_date).days // 7) + 1``; ``start_date`` is week 1 day 1. A proposal whose
  local date is before ``start_date`` breaks ``before_plan_start``; its week is 0 or less, which no
  phase covers, so ``no_phase_for_week`` is reported with it.
- **Phase.** The phase is the one covering the proposal's week (``phase_for``); its limits apply
  to the proposal even when a neighbouring session lies in another phase. With no phase for the
  week (a gap, past the last phase, or before the start) ``no_phase_for_week`` is reported and the
  frequency and interval rules cannot be checked: overriding that violation is the prescriber's
  explicit decision to book without them.
- **Which sessions count.** ``booked`` holds the plan's sessions, given or only scheduled; both
  count everywhere. When ``proposal.session_id`` is set (rescheduling), the session with that id is
  left out of every count and comparison, so a session never collides with its old self.
- **Previous and next.** The previous session is the latest booked one at or before the proposal's
  instant (a session at the very same instant counts as previous, 0 hours before); the next is the
  earliest one after it.
- **Sessions per 7 days** (``too_many_in_7_days``). Any 7 consecutive *local calendar days* may
  hold at most the phase's ``max_sessions_per_7_days``. Every 7-day window containing the
  proposal's local date is checked, counting the proposal and the booked sessions whose local date
  falls in it; the fullest window (earliest on a tie, starting on its first session's day) is
  reported. Local days rather than 168-hour spans keep a weekly Monday 09:00 session from
  colliding with itself across a daylight-saving change (only 167 real hours pass between those
  two Mondays in spring).
- **Minimum interval** (``too_soon_after_previous``, ``too_close_to_next``). Real elapsed time
  (UTC) between the proposal and the previous or next session, against the phase's
  ``min_interval_hours``. Exactly the minimum is allowed.
- **Course.** A week beyond ``max_weeks`` → ``outside_course_weeks``; as many booked sessions as
  ``max_sessions`` already → ``course_sessions_exhausted``; a local date after ``planned_end``
  (inclusive, a local date) → ``after_planned_end``.
- **Dose, fixed.** Not one of the allowed doses (the phase's ``allowed_mg`` when it narrows them,
  else the plan's) → ``dose_not_allowed``; above ``max_per_session_mg`` → ``dose_above_maximum``;
  the plan's first session (no previous session) with ``first_dose_mg`` set and another dose →
  ``first_dose_mismatch``; more than ``max_step_up_mg`` above the previous session's dose →
  ``step_up_too_large``.
- **Dose, per kg.** The caller converts the mg/kg range to mg for this patient. Below ``min_mg``
  → ``dose_below_minimum``; above ``max_mg`` → ``dose_above_maximum``; step-up as for fixed.
- **Float doses** are compared with a tolerance of ``DOSE_TOLERANCE_MG`` (0.001 mg): far below any
  dose a clinic can measure, far above the rounding error of ``mg/kg x kg``. A dose within it of an
  allowed dose is that dose; a dose must exceed a maximum (or step-up) by more than it, or fall
  below a minimum by more than it, to break the rule.
- **Plan status.** A plan that is not ``active`` breaks ``plan_not_active``, which is never
  overridable; every other rule is overridable by a prescriber with a written reason (the caller
  records it). The other violations are still reported, so the screen can show everything at once.
- **Order.** Violations come in the order of ``RULE_IDS``: plan state, course, schedule, dose.

The dose limits are a tagged union, ``DoseLimits = FixedDoseLimits | PerKgDoseLimits``, rather
than one class with optional fields: each kind has exactly the fields it needs, all required, and a
type checker narrows on ``isinstance`` or ``kind``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PlanStatus = Literal["draft", "active", "paused", "completed", "discontinued"]
RuleId = Literal[
    # Plan state
    "plan_not_active",
    # Course
    "before_plan_start",
    "outside_course_weeks",
    "after_planned_end",
    "course_sessions_exhausted",
    # Schedule
    "no_phase_for_week",
    "too_soon_after_previous",
    "too_close_to_next",
    "too_many_in_7_days",
    # Dose
    "dose_not_allowed",
    "dose_above_maximum",
    "dose_below_minimum",
    "first_dose_mismatch",
    "step_up_too_large",
]
NumberValue = float | int | str

PLAN_STATUSES = cast(tuple[PlanStatus, ...], get_args(PlanStatus))
RULE_IDS = cast(tuple[RuleId, ...], get_args(RuleId))  # the order violations are reported in
# Plan-state rules: no override reason can book a session under a plan that is not active.
NEVER_OVERRIDABLE: frozenset[RuleId] = frozenset({"plan_not_active"})
# Not a clinical number: the float tolerance for dose comparisons (see the module docstring).
DOSE_TOLERANCE_MG = 1e-3
WINDOW_DAYS = 7


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _require_doses(values: tuple[float, ...], name: str) -> None:
    if not values:
        raise ValueError(f"{name} must not be empty")
    if any(not math.isfinite(v) or v <= 0 for v in values):
        raise ValueError(f"{name} must hold positive doses, got {values}")


def _require_positive(value: float | None, name: str, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}")


def _in(dose: float, allowed: tuple[float, ...]) -> bool:
    return any(abs(dose - a) <= DOSE_TOLERANCE_MG for a in allowed)


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PhaseLimits:
    """One phase of the plan: weeks ``start_week``..``end_week`` inclusive (None: open-ended).

    ``allowed_mg`` narrows the plan's fixed doses during this phase; it must be None for a per-kg
    plan.
    """

    name: str
    start_week: int
    end_week: int | None
    max_sessions_per_7_days: int
    min_interval_hours: float | None
    allowed_mg: tuple[float, ...] | None

    def __post_init__(self) -> None:
        if self.start_week < 1:
            raise ValueError(f"Phase {self.name!r}: start_week must be 1 or more")
        if self.end_week is not None and self.end_week < self.start_week:
            raise ValueError(f"Phase {self.name!r}: end_week must not be before start_week")
        if self.max_sessions_per_7_days < 1:
            raise ValueError(f"Phase {self.name!r}: max_sessions_per_7_days must be 1 or more")
        _require_positive(self.min_interval_hours, f"Phase {self.name!r}: min_interval_hours")
        if self.allowed_mg is not None:
            _require_doses(self.allowed_mg, f"Phase {self.name!r}: allowed_mg")

    def covers(self, week: int) -> bool:
        return self.start_week <= week and (self.end_week is None or week <= self.end_week)


@dataclass(frozen=True, kw_only=True)
class FixedDoseLimits:
    """Fixed doses (e.g. esketamine devices): one of ``allowed_mg``, at most the maximum."""

    kind: Literal["fixed"] = "fixed"
    allowed_mg: tuple[float, ...]
    first_dose_mg: float | None
    max_per_session_mg: float
    max_step_up_mg: float | None

    def __post_init__(self) -> None:
        if self.kind != "fixed":
            raise ValueError(f"FixedDoseLimits.kind must be 'fixed', got {self.kind!r}")
        _require_doses(self.allowed_mg, "allowed_mg")
        _require_positive(self.max_per_session_mg, "max_per_session_mg")
        _require_positive(self.max_step_up_mg, "max_step_up_mg", allow_zero=True)
        above = [a for a in self.allowed_mg if a > self.max_per_session_mg + DOSE_TOLERANCE_MG]
        if above:
            raise ValueError(f"allowed_mg {above} exceed max_per_session_mg")
        if self.first_dose_mg is not None and not _in(self.first_dose_mg, self.allowed_mg):
            raise ValueError(f"first_dose_mg {self.first_dose_mg:g} is not one of allowed_mg")


@dataclass(frozen=True, kw_only=True)
class PerKgDoseLimits:
    """A weight-based dose, already converted to mg for this patient (mg/kg x weight)."""

    kind: Literal["per_kg"] = "per_kg"
    min_mg: float
    max_mg: float
    max_step_up_mg: float | None

    def __post_init__(self) -> None:
        if self.kind != "per_kg":
            raise ValueError(f"PerKgDoseLimits.kind must be 'per_kg', got {self.kind!r}")
        _require_positive(self.min_mg, "min_mg")
        _require_positive(self.max_mg, "max_mg")
        if self.min_mg > self.max_mg:
            raise ValueError("min_mg must not exceed max_mg")
        _require_positive(self.max_step_up_mg, "max_step_up_mg", allow_zero=True)


DoseLimits = FixedDoseLimits | PerKgDoseLimits


@dataclass(frozen=True, kw_only=True)
class CourseLimits:
    """The course's bounds; None means the plan sets no such bound."""

    max_weeks: int | None
    max_sessions: int | None
    planned_end: date | None  # a local date, inclusive

    def __post_init__(self) -> None:
        if self.max_weeks is not None and self.max_weeks < 1:
            raise ValueError("max_weeks must be 1 or more")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise ValueError("max_sessions must be 1 or more")
        if isinstance(self.planned_end, datetime):
            raise ValueError("planned_end must be a date, not a datetime")


@dataclass(frozen=True, kw_only=True)
class PlanFacts:
    status: PlanStatus
    start_date: date  # the local date of week 1 day 1
    timezone: str  # the clinic's IANA timezone
    phases: tuple[PhaseLimits, ...]
    dose: DoseLimits
    course: CourseLimits

    def __post_init__(self) -> None:
        if self.status not in PLAN_STATUSES:
            raise ValueError(f"Unknown plan status {self.status!r}")
        if isinstance(self.start_date, datetime):
            raise ValueError("start_date must be a date, not a datetime")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"Unknown timezone {self.timezone!r}") from error
        ordered = sorted(self.phases, key=lambda p: p.start_week)
        for earlier, later in itertools.pairwise(ordered):
            if earlier.end_week is None or earlier.end_week >= later.start_week:
                raise ValueError(f"Phases {earlier.name!r} and {later.name!r} overlap")
        for phase in self.phases:
            if phase.allowed_mg is None:
                continue
            if not isinstance(self.dose, FixedDoseLimits):
                raise ValueError(f"Phase {phase.name!r}: allowed_mg needs fixed doses")
            if not all(_in(a, self.dose.allowed_mg) for a in phase.allowed_mg):
                raise ValueError(f"Phase {phase.name!r}: allowed_mg must narrow the plan's doses")
        if self.course.planned_end is not None and self.course.planned_end < self.start_date:
            raise ValueError("planned_end must not be before start_date")


@dataclass(frozen=True, kw_only=True)
class BookedSession:
    """A session of this plan: given, or only scheduled (both count)."""

    id: str
    at: datetime  # aware (stored UTC)
    dose_mg: float
    given: bool

    def __post_init__(self) -> None:
        _require_aware(self.at, f"Session {self.id!r}: at")
        _require_positive(self.dose_mg, f"Session {self.id!r}: dose_mg")


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """The session to book; ``session_id`` names the booked session being rescheduled, if any."""

    at: datetime  # aware, any timezone
    dose_mg: float
    session_id: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.at, "Proposal at")
        _require_positive(self.dose_mg, "Proposal dose_mg")


# --- Output -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Violation:
    rule: RuleId
    message: str
    numbers: dict[str, NumberValue]
    overridable: bool


# --- Calendar -----------------------------------------------------------------------------------


def local_date(plan: PlanFacts, at: datetime) -> date:
    """The date of ``at`` (aware) on the clinic's wall clock."""
    _require_aware(at, "at")
    return at.astimezone(ZoneInfo(plan.timezone)).date()


def week_of(plan: PlanFacts, at: datetime) -> int:
    """The plan week of ``at`` (aware): 1 from ``start_date``, 0 or less before it."""
    return (local_date(plan, at) - plan.start_date).days // 7 + 1


def phase_for(plan: PlanFacts, week: int) -> PhaseLimits | None:
    """The phase covering ``week``, or None (a gap, past the last phase, or before week 1)."""
    return next((p for p in plan.phases if p.covers(week)), None)


# --- Rules --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Facts:
    """What every rule reads, worked out once."""

    plan: PlanFacts
    proposal: Proposal
    others: tuple[BookedSession, ...]  # booked minus the rescheduled session, in time order
    day: date  # the proposal's local date
    week: int
    phase: PhaseLimits | None
    previous: BookedSession | None
    following: BookedSession | None

    def when(self, at: datetime) -> str:
        """E.g. "2026-03-05 09:00 America/Chicago"."""
        return f"{at.astimezone(ZoneInfo(self.plan.timezone)):%Y-%m-%d %H:%M} {self.plan.timezone}"


def _violation(rule: RuleId, message: str, numbers: dict[str, NumberValue]) -> Violation:
    return Violation(
        rule=rule, message=message, numbers=numbers, overridable=rule not in NEVER_OVERRIDABLE
    )


def _mg(value: float) -> str:
    return f"{value:g} mg"


def _hours_down(hours: float) -> str:
    """One decimal, rounded down, so a gap just short of the minimum never prints as it."""
    return f"{math.floor(hours * 10) / 10:.1f}"


def _hours(a: datetime, b: datetime) -> float:
    return abs((b - a).total_seconds()) / 3600


Rule = Callable[[_Facts], Violation | None]


def plan_not_active(f: _Facts) -> Violation | None:
    if f.plan.status == "active":
        return None
    return _violation(
        "plan_not_active",
        f"The treatment plan is {f.plan.status}; sessions can be booked only under an active plan.",
        {"status": f.plan.status},
    )


def before_plan_start(f: _Facts) -> Violation | None:
    if f.day >= f.plan.start_date:
        return None
    return _violation(
        "before_plan_start",
        f"Session date {f.day} is before the plan starts ({f.plan.start_date}).",
        {
            "date": f.day.isoformat(),
            "start_date": f.plan.start_date.isoformat(),
            "days_before_start": (f.plan.start_date - f.day).days,
        },
    )


def outside_course_weeks(f: _Facts) -> Violation | None:
    max_weeks = f.plan.course.max_weeks
    if max_weeks is None or f.week <= max_weeks:
        return None
    return _violation(
        "outside_course_weeks",
        f"Session would fall in week {f.week}; the course is limited to {max_weeks} weeks.",
        {"week": f.week, "max_weeks": max_weeks},
    )


def after_planned_end(f: _Facts) -> Violation | None:
    end = f.plan.course.planned_end
    if end is None or f.day <= end:
        return None
    return _violation(
        "after_planned_end",
        f"Session date {f.day} is after the plan's planned end ({end}).",
        {
            "date": f.day.isoformat(),
            "planned_end": end.isoformat(),
            "days_after_end": (f.day - end).days,
        },
    )


def course_sessions_exhausted(f: _Facts) -> Violation | None:
    max_sessions = f.plan.course.max_sessions
    if max_sessions is None or len(f.others) < max_sessions:
        return None
    return _violation(
        "course_sessions_exhausted",
        f"The course allows {max_sessions} sessions and {len(f.others)} are already booked or "
        "given.",
        {"booked_sessions": len(f.others), "max_sessions": max_sessions},
    )


def no_phase_for_week(f: _Facts) -> Violation | None:
    if f.phase is not None:
        return None
    return _violation(
        "no_phase_for_week",
        f"No phase of the plan covers week {f.week}, so its session frequency and interval limits "
        "cannot be checked.",
        {"week": f.week},
    )


def too_soon_after_previous(f: _Facts) -> Violation | None:
    if f.phase is None or f.phase.min_interval_hours is None or f.previous is None:
        return None
    minimum = f.phase.min_interval_hours
    if f.proposal.at - f.previous.at >= timedelta(hours=minimum):
        return None
    hours = _hours(f.previous.at, f.proposal.at)
    return _violation(
        "too_soon_after_previous",
        f"Session would be {_hours_down(hours)} hours after the previous one "
        f"({f.when(f.previous.at)}); this phase ({f.phase.name}) requires at least {minimum:g} "
        "hours.",
        {
            "hours_since_previous": hours,
            "min_interval_hours": minimum,
            "previous_session_id": f.previous.id,
            "previous_at": f.when(f.previous.at),
            "phase": f.phase.name,
        },
    )


def too_close_to_next(f: _Facts) -> Violation | None:
    if f.phase is None or f.phase.min_interval_hours is None or f.following is None:
        return None
    minimum = f.phase.min_interval_hours
    if f.following.at - f.proposal.at >= timedelta(hours=minimum):
        return None
    hours = _hours(f.proposal.at, f.following.at)
    return _violation(
        "too_close_to_next",
        f"Session would be {_hours_down(hours)} hours before the next one "
        f"({f.when(f.following.at)}); this phase ({f.phase.name}) requires at least {minimum:g} "
        "hours.",
        {
            "hours_until_next": hours,
            "min_interval_hours": minimum,
            "next_session_id": f.following.id,
            "next_at": f.when(f.following.at),
            "phase": f.phase.name,
        },
    )


def too_many_in_7_days(f: _Facts) -> Violation | None:
    if f.phase is None:
        return None
    span = timedelta(days=WINDOW_DAYS - 1)
    days = [local_date(f.plan, s.at) for s in f.others]
    days = [d for d in days if f.day - span <= d <= f.day + span]
    # The windows of 7 local days holding the proposal's date start from day-6 to day. Any such
    # window holds no more than the one starting on its own first session's day, so only those
    # starts are tried; the fullest wins, the earliest on a tie.
    best_start, best_count = f.day, 0
    for start in sorted({d for d in days if d <= f.day} | {f.day}):
        count = 1 + sum(1 for d in days if start <= d <= start + span)
        if count > best_count:
            best_start, best_count = start, count
    limit = f.phase.max_sessions_per_7_days
    if best_count <= limit:
        return None
    end = best_start + span
    return _violation(
        "too_many_in_7_days",
        f"Session would make {best_count} sessions in the 7 days {best_start} to {end}; this "
        f"phase ({f.phase.name}) allows at most {limit} in any 7 days.",
        {
            "sessions_in_window": best_count,
            "max_sessions_per_7_days": limit,
            "window_start": best_start.isoformat(),
            "window_end": end.isoformat(),
            "phase": f.phase.name,
        },
    )


def dose_not_allowed(f: _Facts) -> Violation | None:
    dose = f.plan.dose
    if not isinstance(dose, FixedDoseLimits):
        return None
    if f.phase is not None and f.phase.allowed_mg is not None:
        allowed, where = f.phase.allowed_mg, f"in this phase ({f.phase.name})"
    else:
        allowed, where = dose.allowed_mg, "under this plan"
    if _in(f.proposal.dose_mg, allowed):
        return None
    listed = ", ".join(_mg(a) for a in sorted(allowed))
    return _violation(
        "dose_not_allowed",
        f"{_mg(f.proposal.dose_mg)} is not an allowed dose {where}; allowed: {listed}.",
        {"dose_mg": f.proposal.dose_mg, "allowed_mg": ", ".join(f"{a:g}" for a in sorted(allowed))},
    )


def dose_above_maximum(f: _Facts) -> Violation | None:
    dose = f.plan.dose
    if isinstance(dose, FixedDoseLimits):
        maximum, what = dose.max_per_session_mg, "per session"
    else:
        maximum, what = dose.max_mg, "for this patient (weight-based)"
    if f.proposal.dose_mg <= maximum + DOSE_TOLERANCE_MG:
        return None
    return _violation(
        "dose_above_maximum",
        f"A {_mg(f.proposal.dose_mg)} dose is above the maximum of {_mg(maximum)} {what}.",
        {"dose_mg": f.proposal.dose_mg, "max_mg": maximum},
    )


def dose_below_minimum(f: _Facts) -> Violation | None:
    dose = f.plan.dose
    if not isinstance(dose, PerKgDoseLimits):
        return None
    if f.proposal.dose_mg >= dose.min_mg - DOSE_TOLERANCE_MG:
        return None
    return _violation(
        "dose_below_minimum",
        f"A {_mg(f.proposal.dose_mg)} dose is below the minimum of {_mg(dose.min_mg)} for this "
        f"patient (weight-based range {_mg(dose.min_mg)} to {_mg(dose.max_mg)}).",
        {"dose_mg": f.proposal.dose_mg, "min_mg": dose.min_mg, "max_mg": dose.max_mg},
    )


def first_dose_mismatch(f: _Facts) -> Violation | None:
    dose = f.plan.dose
    if not isinstance(dose, FixedDoseLimits) or dose.first_dose_mg is None:
        return None
    if f.previous is not None or _in(f.proposal.dose_mg, (dose.first_dose_mg,)):
        return None
    return _violation(
        "first_dose_mismatch",
        f"This would be the first session of the plan; the first dose must be "
        f"{_mg(dose.first_dose_mg)}, not {_mg(f.proposal.dose_mg)}.",
        {"dose_mg": f.proposal.dose_mg, "first_dose_mg": dose.first_dose_mg},
    )


def step_up_too_large(f: _Facts) -> Violation | None:
    max_step = f.plan.dose.max_step_up_mg
    if max_step is None or f.previous is None:
        return None
    step = f.proposal.dose_mg - f.previous.dose_mg
    if step <= max_step + DOSE_TOLERANCE_MG:
        return None
    return _violation(
        "step_up_too_large",
        f"The dose would rise by {_mg(step)}, from {_mg(f.previous.dose_mg)} at the previous "
        f"session ({f.when(f.previous.at)}) to {_mg(f.proposal.dose_mg)}; the plan allows a "
        f"step-up of at most {_mg(max_step)}.",
        {
            "dose_mg": f.proposal.dose_mg,
            "previous_dose_mg": f.previous.dose_mg,
            "step_up_mg": step,
            "max_step_up_mg": max_step,
            "previous_session_id": f.previous.id,
        },
    )


# In the order of RULE_IDS, so violations come out in that order. Add a rule here, to RuleId, and
# a row to the table test.
RULES: tuple[Rule, ...] = (
    plan_not_active,
    before_plan_start,
    outside_course_weeks,
    after_planned_end,
    course_sessions_exhausted,
    no_phase_for_week,
    too_soon_after_previous,
    too_close_to_next,
    too_many_in_7_days,
    dose_not_allowed,
    dose_above_maximum,
    dose_below_minimum,
    first_dose_mismatch,
    step_up_too_large,
)


def check_booking(
    plan: PlanFacts, booked: Sequence[BookedSession], proposal: Proposal
) -> list[Violation]:
    """Every rule the proposed session would break, in ``RULE_IDS`` order; [] when allowed.

    ``booked`` is the plan's sessions, given or scheduled, in any order. See the module docstring
    for the semantics of each rule.
    """
    others = tuple(
        sorted(
            (s for s in booked if proposal.session_id is None or s.id != proposal.session_id),
            key=lambda s: (s.at, s.id),
        )
    )
    week = week_of(plan, proposal.at)
    facts = _Facts(
        plan=plan,
        proposal=proposal,
        others=others,
        day=local_date(plan, proposal.at),
        week=week,
        phase=phase_for(plan, week),
        previous=next((s for s in reversed(others) if s.at <= proposal.at), None),
        following=next((s for s in others if s.at > proposal.at), None),
    )
    found = (rule(facts) for rule in RULES)
    return sorted((v for v in found if v is not None), key=lambda v: RULE_IDS.index(v.rule))

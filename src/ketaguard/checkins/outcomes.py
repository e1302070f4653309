"""PHQ-9 outcomes of treatment: the trajectory from baseline, response, remission, time to
response and loss of response. Pure: scores in, findings out.

Definitions
-----------
- **Response**: a fall of at least 50% from baseline. **Remission**: a score below 5
  (clinical-reference §3.2 [S105][S106][S107][S108]). Those measures start from a baseline above
  9; `baseline_in_measure` says whether this baseline does. Response and remission are computed
  either way, for the clinician to weigh.
- **Time to response**: whole calendar days in the clinic's timezone from the plan's first dose
  to the first score meeting the response criterion completed at or after that dose. Scores
  before the first dose do not count for it.
- **Loss of response** (ketaguard's definition: the reference has none): once responding,
  `loss_after` scores in a row that no longer meet the response criterion. The loss is dated at
  the last of them. `loss_after` comes from the plan's check-in schedule (a default to review
  locally). A later score meeting the criterion again is a new response.
- **Status** is where the patient is now: `remission` when the latest score is in remission,
  else `response` while responding (including scores not yet confirming a loss),
  `lost_response` after a loss, `no_response` when never responding.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo

# clinical-reference §3.2 [S105][S106][S107][S108]: response is a fall of at least 50% from
# baseline, remission a score below 5, and the measures start from a baseline above 9. The one
# definition in ketaguard: the dependence watch (dependence.thresholds) reads it from here.
RESPONSE_FALL = Fraction(1, 2)
REMISSION_BELOW = 5
MEASURE_BASELINE_ABOVE = 9

Status = Literal[
    "no_baseline", "no_follow_up", "no_response", "response", "remission", "lost_response"
]
EventKind = Literal["response", "loss_of_response", "remission"]


@dataclass(frozen=True)
class Score:
    completed_at: datetime
    total: int


@dataclass(frozen=True)
class Point:
    completed_at: datetime
    total: int
    change: int
    percent_change: float | None
    response: bool
    remission: bool


@dataclass(frozen=True)
class Event:
    kind: EventKind
    completed_at: datetime
    total: int


@dataclass(frozen=True)
class Outcomes:
    baseline: Score | None
    baseline_in_measure: bool
    points: tuple[Point, ...]
    events: tuple[Event, ...]
    days_to_response: int | None
    status: Status


def is_response(baseline: int, total: int) -> bool:
    return baseline > 0 and baseline - total >= RESPONSE_FALL * baseline


def is_remission(total: int) -> bool:
    return total < REMISSION_BELOW


def trajectory(baseline: Score, scores: Sequence[Score]) -> list[Point]:
    """Each score in time order, against the baseline."""
    points = []
    for score in sorted(scores, key=lambda s: s.completed_at):
        change = score.total - baseline.total
        points.append(
            Point(
                completed_at=score.completed_at,
                total=score.total,
                change=change,
                percent_change=round(100 * change / baseline.total, 1) if baseline.total else None,
                response=is_response(baseline.total, score.total),
                remission=is_remission(score.total),
            )
        )
    return points


def _events(points: Sequence[Point], loss_after: int) -> tuple[list[Event], bool, bool]:
    """The response, loss and remission events; then whether responding and whether lost now."""
    events: list[Event] = []
    responding, lost, misses, in_remission = False, False, 0, False
    for point in points:
        if point.remission and not in_remission:
            events.append(Event("remission", point.completed_at, point.total))
        in_remission = point.remission
        if point.response:
            if not responding:
                events.append(Event("response", point.completed_at, point.total))
            responding, lost, misses = True, False, 0
        elif responding:
            misses += 1
            if misses >= loss_after:
                events.append(Event("loss_of_response", point.completed_at, point.total))
                responding, lost, misses = False, True, 0
    return events, responding, lost


def _local_day(instant: datetime, timezone: str) -> int:
    return instant.astimezone(ZoneInfo(timezone)).date().toordinal()


def outcomes(
    baseline: Score | None,
    scores: Sequence[Score],
    *,
    loss_after: int,
    first_dose_at: datetime | None,
    timezone: str,
) -> Outcomes:
    if loss_after < 1:
        raise ValueError(f"loss_after must be at least 1, not {loss_after}")
    if baseline is None:
        return Outcomes(None, False, (), (), None, "no_baseline")
    points = trajectory(baseline, scores)
    in_measure = baseline.total > MEASURE_BASELINE_ABOVE
    if not points:
        return Outcomes(baseline, in_measure, (), (), None, "no_follow_up")
    events, responding, lost = _events(points, loss_after)
    days = None
    if first_dose_at is not None:
        first = next((p for p in points if p.response and p.completed_at >= first_dose_at), None)
        if first is not None:
            days = _local_day(first.completed_at, timezone) - _local_day(first_dose_at, timezone)
    status: Status
    if points[-1].remission:
        status = "remission"
    elif responding:
        status = "response"
    elif lost:
        status = "lost_response"
    else:
        status = "no_response"
    return Outcomes(baseline, in_measure, tuple(points), tuple(events), days, status)

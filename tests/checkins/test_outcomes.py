"""PHQ-9 outcomes as a table: baseline, later scores, what they add up to."""

from datetime import UTC, datetime, timedelta

import pytest

from ketaguard.checkins.outcomes import (
    Outcomes,
    Score,
    is_remission,
    is_response,
    outcomes,
    trajectory,
)

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 09:00 in Chicago, a Monday


def _scores(*totals: int, every_days: int = 7) -> list[Score]:
    return [Score(START + timedelta(days=every_days * (n + 1)), t) for n, t in enumerate(totals)]


def _run(baseline: int | None, *totals: int, loss_after: int = 2) -> Outcomes:
    return outcomes(
        Score(START - timedelta(days=3), baseline) if baseline is not None else None,
        _scores(*totals),
        loss_after=loss_after,
        first_dose_at=START,
        timezone="America/Chicago",
    )


@pytest.mark.parametrize(
    ("baseline", "total", "response"),
    [
        (20, 10, True),  # exactly 50% lower: a response [S105]
        (20, 11, False),
        (15, 7, True),  # 53% lower
        (15, 8, False),  # 47% lower
        (1, 0, True),
        (0, 0, False),  # nothing to fall from
        (12, 14, False),
    ],
)
def test_response_is_a_fall_of_at_least_half(baseline: int, total: int, response: bool) -> None:
    assert is_response(baseline, total) is response


@pytest.mark.parametrize(("total", "remission"), [(4, True), (5, False), (0, True), (27, False)])
def test_remission_is_below_five(total: int, remission: bool) -> None:
    assert is_remission(total) is remission


@pytest.mark.parametrize(
    ("baseline", "totals", "loss_after", "status", "events", "days"),
    [
        (18, (), 2, "no_follow_up", [], None),
        (18, (16, 14, 12), 2, "no_response", [], None),
        (18, (14, 9), 2, "response", [("response", 9)], 14),
        (18, (9, 4), 2, "remission", [("response", 9), ("remission", 4)], 7),
        # One score above the response line after a response is not yet a loss (2 needed).
        (18, (9, 12), 2, "response", [("response", 9)], 7),
        (18, (9, 12, 13), 2, "lost_response", [("response", 9), ("loss_of_response", 13)], 7),
        # The count is configurable: with 1, the first miss is the loss.
        (18, (9, 12), 1, "lost_response", [("response", 9), ("loss_of_response", 12)], 7),
        # A miss in between resets the count.
        (18, (9, 12, 8, 12), 2, "response", [("response", 9)], 7),
        # Lost, then a response again is a new response.
        (
            18,
            (9, 12, 13, 7),
            2,
            "response",
            [("response", 9), ("loss_of_response", 13), ("response", 7)],
            7,
        ),
        # Remission that later lifts out of remission but stays a response.
        (
            18,
            (4, 6),
            2,
            "response",
            [("remission", 4), ("response", 4)],
            7,
        ),
    ],
)
def test_outcome_table(
    baseline: int,
    totals: tuple[int, ...],
    loss_after: int,
    status: str,
    events: list[tuple[str, int]],
    days: int | None,
) -> None:
    result = _run(baseline, *totals, loss_after=loss_after)
    assert result.status == status
    assert [(e.kind, e.total) for e in result.events] == events
    assert result.days_to_response == days


def test_no_baseline_means_no_outcome() -> None:
    result = _run(None, 5, 4)
    assert result.status == "no_baseline"
    assert result.points == ()


def test_baseline_in_measure_only_above_nine() -> None:
    assert _run(10, 4).baseline_in_measure
    assert not _run(9, 4).baseline_in_measure


def test_trajectory_is_in_time_order_with_change_from_baseline() -> None:
    baseline = Score(START, 20)
    later = [Score(START + timedelta(days=14), 8), Score(START + timedelta(days=7), 15)]
    points = trajectory(baseline, later)
    assert [(p.total, p.change, p.percent_change) for p in points] == [
        (15, -5, -25.0),
        (8, -12, -60.0),
    ]
    assert [p.response for p in points] == [False, True]


def test_time_to_response_counts_local_days_from_the_first_dose_only_after_it() -> None:
    # The first dose late on a Chicago evening (already the next day in UTC). A response seen
    # before the dose does not count; the one 50 hours after it falls 3 local days later (only
    # 2 days by UTC dates or by elapsed time).
    dose = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)  # 22:30 on 2 March in Chicago
    result = outcomes(
        Score(dose - timedelta(days=10), 16),
        [Score(dose - timedelta(hours=2), 8), Score(dose + timedelta(hours=50), 7)],
        loss_after=2,
        first_dose_at=dose,
        timezone="America/Chicago",
    )
    assert result.days_to_response == 3
    assert result.events[0].completed_at == dose - timedelta(hours=2)


def test_loss_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="loss_after"):
        _run(18, 9, loss_after=0)

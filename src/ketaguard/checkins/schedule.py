"""What a plan's check-in schedule is, ketaguard's default one, and the check-ins it asks for.

The clinical reference gives no schedule for check-ins between sessions, so every number here is
a ketaguard default marked `review_locally`: the plan stores its own copy when it starts and a
prescriber may change it for the patient. Numbers use the protocol format (`Sourced`).

Pure: no database. Semantics:

- **Before a session** the check-in opens `opens_hours_before` real hours before the booked start
  and closes at the start.
- **After a dose** each check-in opens `hours_after_dose` real hours after the dose started and
  stays open `window_hours` (elapsed time, UTC instants: 24 hours after is 24 hours after, even
  across a daylight-saving change).
- **Weekly** from plan week `from_week`: open for that week's 7 local calendar days in the
  clinic's timezone, from local midnight to local midnight (167 or 169 real hours across a
  daylight-saving change). Week n starts on `start_date + 7 * (n - 1)`.
- **Items.** Each check-in asks for its anchor's `items`, plus each `periodic` item unless an
  earlier check-in of the plan asking for it opened less than `every_days` days before this one.
  Check-ins are generated as sessions are booked and dosed, not in time order, so an item may
  come a little more often than every `every_days` days, never less often.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal, Self, cast, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from ketaguard.protocols.definition import Count, Hours, ProtocolDefinition, Sourced, Week

Item = Literal["phq9", "craving", "substance_use", "withdrawal", "urinary", "memory", "sds", "icsi"]
ITEMS = cast(tuple[Item, ...], get_args(Item))
ItemList = Annotated[tuple[Item, ...], Strict(False), Field(min_length=1)]

DEFAULT_SOURCE = "ketaguard default, not in the clinical reference: review locally"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _unique_items(items: tuple[Item, ...]) -> tuple[Item, ...]:
    if len(set(items)) != len(items):
        raise ValueError("lists an item more than once")
    return items


class BeforeSession(_Frozen):
    opens_hours_before: Sourced[Hours]
    items: ItemList

    @model_validator(mode="after")
    def _items(self) -> Self:
        _unique_items(self.items)
        return self


class AfterDose(_Frozen):
    hours_after_dose: Sourced[Hours]
    window_hours: Sourced[Hours]
    items: ItemList

    @model_validator(mode="after")
    def _items(self) -> Self:
        _unique_items(self.items)
        return self


class Weekly(_Frozen):
    from_week: Sourced[Week]
    items: ItemList

    @model_validator(mode="after")
    def _items(self) -> Self:
        _unique_items(self.items)
        return self


class Periodic(_Frozen):
    item: Item
    every_days: Sourced[Count]


class ScheduleDefinition(_Frozen):
    before_session: BeforeSession | None = None
    after_dose: Annotated[tuple[AfterDose, ...], Strict(False)] = ()
    weekly: Weekly | None = None
    periodic: Annotated[tuple[Periodic, ...], Strict(False)] = ()
    # Loss of response (checkins.outcomes): this many scores in a row after a response that no
    # longer meet the response criterion. The reference defines no loss of response.
    loss_of_response_scores: Sourced[Count]

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        offsets = [entry.hours_after_dose.value for entry in self.after_dose]
        if len(set(offsets)) != len(offsets):
            raise ValueError("after_dose lists the same hours_after_dose more than once")
        periodic = [entry.item for entry in self.periodic]
        if len(set(periodic)) != len(periodic):
            raise ValueError("periodic lists an item more than once")
        return self


def _default(value: object) -> dict[str, object]:
    return {"value": value, "source": DEFAULT_SOURCE, "review_locally": True}


# What each check-in asks every time: the dependence signals of the days around a dose (reference
# §7: craving, use outside sessions; §4.2: withdrawal-like symptoms). The rest come periodically.
EVERY_TIME: tuple[Item, ...] = ("craving", "substance_use", "withdrawal")


def default_schedule(protocol: ProtocolDefinition) -> ScheduleDefinition:
    """ketaguard's default: before each session, 24 h, 72 h and 7 days after each dose, weekly
    from the protocol's second phase (its maintenance) on; PHQ-9, urinary symptoms and memory
    weekly, the SDS every 4 weeks. Every number is a default to review locally."""
    weekly = None
    if len(protocol.phases) > 1:
        maintenance = protocol.phases[1]
        weekly = {
            "from_week": {
                "value": maintenance.start_week,
                "source": (
                    f"ketaguard default: the protocol's second phase ({maintenance.name!r}, "
                    f"week {maintenance.start_week}) on, as maintenance; review locally"
                ),
                "review_locally": True,
            },
            "items": EVERY_TIME,
        }
    return ScheduleDefinition.model_validate(
        {
            "before_session": {"opens_hours_before": _default(48), "items": EVERY_TIME},
            "after_dose": [
                {
                    "hours_after_dose": _default(hours),
                    "window_hours": _default(24),
                    "items": EVERY_TIME,
                }
                for hours in (24, 72, 168)
            ],
            "weekly": weekly,
            "periodic": [
                {"item": "phq9", "every_days": _default(7)},
                {"item": "urinary", "every_days": _default(7)},
                {"item": "memory", "every_days": _default(7)},
                {"item": "sds", "every_days": _default(28)},
            ],
            "loss_of_response_scores": {
                "value": 2,
                "source": (
                    "ketaguard definition: the clinical reference (§3.2) defines no loss of "
                    "response; review locally"
                ),
                "review_locally": True,
            },
        },
        strict=False,
    )


@dataclass(frozen=True)
class Slot:
    """One check-in the schedule asks for, before its items are chosen."""

    slot: str
    anchor: Literal["before_session", "after_dose", "weekly"]
    opens_at: datetime
    closes_at: datetime
    base_items: tuple[Item, ...]


def session_slots(
    schedule: ScheduleDefinition,
    session_key: str,
    scheduled_at: datetime,
    dosed_at: datetime | None,
) -> list[Slot]:
    """The check-ins anchored to one session: before it, and after its dose once dosed."""
    # In UTC: Python adds hours to an aware local time on the wall clock, not in real time.
    scheduled_at = scheduled_at.astimezone(UTC)
    dosed_at = dosed_at.astimezone(UTC) if dosed_at is not None else None
    slots = []
    before = schedule.before_session
    if before is not None:
        slots.append(
            Slot(
                slot=f"session:{session_key}:before",
                anchor="before_session",
                opens_at=scheduled_at - timedelta(hours=before.opens_hours_before.value),
                closes_at=scheduled_at,
                base_items=before.items,
            )
        )
    if dosed_at is not None:
        for entry in schedule.after_dose:
            opens = dosed_at + timedelta(hours=entry.hours_after_dose.value)
            slots.append(
                Slot(
                    slot=f"session:{session_key}:after:{entry.hours_after_dose.value:g}h",
                    anchor="after_dose",
                    opens_at=opens,
                    closes_at=opens + timedelta(hours=entry.window_hours.value),
                    base_items=entry.items,
                )
            )
    return slots


def local_midnight(day: date, timezone: str) -> datetime:
    """The instant (in UTC) a local calendar day starts in the clinic's timezone."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def plan_week(start_date: date, instant: datetime, timezone: str) -> int:
    """The plan week an instant falls in, on the clinic's calendar (week 1 starts on start_date)."""
    local_day = instant.astimezone(ZoneInfo(timezone)).date()
    return (local_day - start_date).days // 7 + 1


def weekly_slot(
    schedule: ScheduleDefinition, start_date: date, week: int, timezone: str
) -> Slot | None:
    weekly = schedule.weekly
    if weekly is None or week < weekly.from_week.value:
        return None
    first_day = start_date + timedelta(days=7 * (week - 1))
    return Slot(
        slot=f"week:{week}",
        anchor="weekly",
        opens_at=local_midnight(first_day, timezone),
        closes_at=local_midnight(first_day + timedelta(days=7), timezone),
        base_items=weekly.items,
    )


@dataclass(frozen=True)
class Scheduled:
    """A check-in already generated for the plan: when it opens and what it asks."""

    opens_at: datetime
    items: Sequence[str]


def items_for(
    schedule: ScheduleDefinition, slot: Slot, existing: Iterable[Scheduled]
) -> list[Item]:
    """The slot's items plus each periodic item no recent check-in of the plan asked for."""
    existing = list(existing)
    chosen = list(slot.base_items)
    for entry in schedule.periodic:
        if entry.item in chosen:
            continue
        since = slot.opens_at - timedelta(days=entry.every_days.value)
        if not any(
            entry.item in other.items and since < other.opens_at <= slot.opens_at
            for other in existing
        ):
            chosen.append(entry.item)
    return [item for item in ITEMS if item in chosen]

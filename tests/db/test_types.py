from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import AwareDatetime, TypeAdapter
from sqlalchemy import DateTime, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from ketaguard.clinics.models import Organisation
from ketaguard.db.types import UTCDateTime


def test_aware_timestamps_come_back_as_the_same_instant_in_utc(db: Session) -> None:
    five_hours_west = timezone(timedelta(hours=-5))
    moment = datetime(2026, 3, 8, 1, 30, tzinfo=five_hours_west)
    db.add(Organisation(name="Timekeepers", created_at=moment))
    db.flush()
    db.expire_all()
    stored = db.scalar(select(Organisation.created_at).where(Organisation.name == "Timekeepers"))
    assert stored == moment
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored.hour == 6


def test_naive_timestamps_are_refused(db: Session) -> None:
    db.add(Organisation(name="Naive", created_at=datetime(2026, 1, 1, 12, 0)))  # noqa: DTZ001
    with pytest.raises(StatementError, match="naive datetime"):
        db.flush()


def test_default_timestamp_is_utc_now(db: Session) -> None:
    before = datetime.now(UTC)
    organisation = Organisation(name="Now")
    db.add(organisation)
    db.flush()
    assert before <= organisation.created_at <= datetime.now(UTC)


def test_sqlite_stores_the_text_sqlalchemys_own_processors_would() -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None
    assert theirs is not None
    half_past_five_west = timezone(-timedelta(hours=5, minutes=30))
    new_york = ZoneInfo("America/New_York")
    moments = [
        datetime(2026, 3, 8, 1, 30, tzinfo=half_past_five_west),
        datetime(2026, 12, 5, 4, 15, 25, 916097, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: still written out
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        # Either side of a daylight-saving change, and the hour that happens twice.
        datetime(2026, 3, 8, 1, 59, tzinfo=new_york),
        datetime(2026, 3, 8, 3, 0, tzinfo=new_york),
        datetime(2026, 11, 1, 1, 30, tzinfo=new_york),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=new_york),
        # As pydantic reads a time from JSON, with a zone of its own.
        *TypeAdapter(list[AwareDatetime]).validate_json(
            b'["2026-12-05T04:15:25.916097Z", "2026-12-05T04:15:25.916097+05:45"]'
        ),
    ]
    # Forwards and back: each zone after another, the processor remembering the last fixed one.
    for moment in moments + moments[::-1]:
        assert ours(moment) == theirs(moment.astimezone(UTC))
    assert ours(moments[0]) == "2026-03-08 07:00:00.000000"
    assert [ours(moment) for moment in moments[7:9]] == [
        "2026-11-01 05:30:00.000000",
        "2026-11-01 06:30:00.000000",
    ]
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        ours(datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001

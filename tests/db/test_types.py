from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from ketaguard.clinics.models import Organisation


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

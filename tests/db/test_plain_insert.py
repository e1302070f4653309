"""Rows sent straight to the driver are stored exactly as SQLAlchemy stores them."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Float, MetaData, String, Table, UniqueConstraint, Uuid, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from ketaguard.db.base import str_enum
from ketaguard.db.plain_insert import PlainInsert, stored_uuids
from ketaguard.db.types import UTCDateTime
from ketaguard.kit.ids import new_uuid7_run, uuids_of
from ketaguard.sessions.models import ReadingSource

metadata = MetaData()
# Made inside the test's transaction, so it goes when the test's work is rolled back.
sample = Table(
    "plain_insert_sample",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("measured_at", UTCDateTime()),
    Column("source", str_enum(ReadingSource, "plain_insert_source")),
    Column("device_key", String(32)),
    Column("value", Float),
    UniqueConstraint("device_key", "measured_at"),
)


def test_stored_values_match_sqlalchemys_and_repeats_are_skipped(db: Session) -> None:
    connection = db.connection()
    sample.create(connection)
    # A time given in another zone is stored as the same instant in UTC, as the ORM stores it.
    at = datetime(2026, 3, 29, 3, 30, 0, 120, tzinfo=timezone(timedelta(hours=2)))
    row = {"measured_at": at, "source": ReadingSource.device.value, "value": 98.5}
    plain = {**row, "id": uuid.uuid4(), "device_key": "plain"}
    connection.execute(sample.insert(), {**row, "id": uuid.uuid4(), "device_key": "orm"})
    insert = PlainInsert(sample, ["device_key", "measured_at"])
    insert.execute(connection, {name: [value] for name, value in plain.items()})
    repeat = {**plain, "id": uuid.uuid4(), "value": 1.0}
    insert.execute(connection, {name: [value] for name, value in repeat.items()})

    rows = connection.execute(
        select(sample, sql_cast(sample.c.measured_at, String).label("as_text")).order_by(
            sample.c.device_key
        )
    ).all()
    assert [r.device_key for r in rows] == ["orm", "plain"]
    orm, stored = rows
    assert stored.id == plain["id"]
    assert stored.value == 98.5
    assert stored.measured_at == at.astimezone(UTC)
    assert stored.source == orm.source == ReadingSource.device
    assert stored.as_text == orm.as_text  # the very same text: range queries compare it


def test_a_batch_shares_values_skips_only_its_repeats_and_counts_what_went_in(db: Session) -> None:
    connection = db.connection()
    sample.create(connection)
    origin = datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
    insert = PlainInsert(sample, ["device_key", "measured_at"])
    shared = {"source": ReadingSource.staff.value, "device_key": "chair-2", "value": None}

    def rows(first: int, count: int) -> dict[str, list[object]]:
        seconds = range(first, first + count)
        return {
            "id": [uuid.uuid4() for _ in seconds],
            "measured_at": [origin + timedelta(seconds=k) for k in seconds],
        }

    assert insert.execute(connection, rows(0, 3), shared) == 3
    assert insert.execute(connection, rows(2, 3), shared) == 2  # the first is a repeat
    assert insert.execute(connection, rows(0, 0), shared) == 0

    stored = connection.execute(select(sample).order_by(sample.c.measured_at)).all()
    assert [r.measured_at for r in stored] == [origin + timedelta(seconds=k) for k in range(5)]
    assert {(r.source, r.device_key, r.value) for r in stored} == {
        (ReadingSource.staff, "chair-2", None)
    }


def test_varying_values_keep_their_characters_and_their_nulls(db: Session) -> None:
    connection = db.connection()
    sample.create(connection)
    origin = datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
    # Characters an array's text form would have to quote, and a missing value beside a number.
    keys = ['a "quoted", {braced} key', "back\\slash", "NULL", " spaced ", "ünïcode"]
    columns: dict[str, list[Any]] = {
        "id": [uuid.uuid4() for _ in keys],
        "measured_at": [origin + timedelta(seconds=k) for k in range(len(keys))],
        "source": [ReadingSource.device.value] * len(keys),
        "device_key": keys,
        "value": [None if k % 2 else k + 0.1 for k in range(len(keys))],
    }
    assert PlainInsert(sample, ["device_key", "measured_at"]).execute(connection, columns) == 5

    stored = connection.execute(select(sample).order_by(sample.c.measured_at)).all()
    assert [(r.id, r.device_key, r.value) for r in stored] == list(
        zip(columns["id"], keys, columns["value"], strict=True)
    )


def test_ids_given_as_integers_in_their_stored_form_come_back_as_the_same_uuids(
    db: Session,
) -> None:
    connection = db.connection()
    sample.create(connection)
    ids = new_uuid7_run(3)
    # The very form the column's own type gives them, on this database.
    encode = Uuid().dialect_impl(connection.dialect).bind_processor(connection.dialect)
    as_stored = stored_uuids(ids, connection.dialect)
    assert as_stored == [encode(made) if encode else made for made in uuids_of(ids)]
    at = datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
    columns = {"measured_at": [at + timedelta(seconds=k) for k in range(3)]}
    shared = {"source": ReadingSource.device.value, "value": 1.0, "device_key": "k"}
    insert = PlainInsert(sample, ["device_key", "measured_at"])

    assert insert.execute(connection, columns, shared, {"id": as_stored}) == 3

    stored = connection.execute(select(sample.c.id).order_by(sample.c.measured_at)).scalars()
    assert [made.int for made in stored] == list(ids)
    with pytest.raises(ValueError, match="different lengths"):
        insert.execute(connection, columns, shared, {"id": as_stored[:2]})


def test_columns_of_different_lengths_or_a_column_left_out_are_refused(db: Session) -> None:
    connection = db.connection()
    sample.create(connection)
    insert = PlainInsert(sample, ["device_key", "measured_at"])
    at = datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
    shared = {"source": ReadingSource.device.value, "value": 1.0, "device_key": "k"}
    with pytest.raises(ValueError, match="different lengths"):
        insert.execute(connection, {"id": [uuid.uuid4()], "measured_at": [at, at]}, shared)
    with pytest.raises(ValueError, match=r"no values for \['measured_at'\]"):
        insert.execute(connection, {"id": [uuid.uuid4()]}, shared)
    assert connection.execute(select(sample)).all() == []

"""Searching, sorting and exporting the audit trail."""

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent, Outcome
from ketaguard.audit.schemas import AuditEventOut, AuditFilter
from ketaguard.audit.service import (
    EVENT_FIELDS,
    AuditContext,
    count_events,
    events_to_csv,
    record,
    search_events,
)
from ketaguard.kit.errors import InvalidInput
from ketaguard.kit.time import utcnow


@dataclass(frozen=True)
class Trail:
    organisation_id: uuid.UUID
    alice: uuid.UUID
    bob: uuid.UUID
    patient_1: uuid.UUID
    patient_2: uuid.UUID
    events: list[AuditEvent]

    def seqs(self, *indexes: int) -> list[int]:
        return [self.events[i].seq for i in indexes]


def _record(
    db: Session,
    organisation_id: uuid.UUID,
    action: str,
    *,
    actor: uuid.UUID | None = None,
    patient: uuid.UUID | None = None,
    outcome: Outcome = Outcome.success,
    actor_role: str | None = None,
    address: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    who = AuditContext(
        actor_user_id=actor,
        actor_role=actor_role,
        organisation_id=organisation_id,
        address=address,
        user_agent=user_agent,
    )
    event = record(db, who, action, outcome=outcome, patient_id=patient)
    db.flush()  # joins the chain: seq and hash are set
    return event


@pytest.fixture
def trail(db: Session) -> Trail:
    organisation_id, alice, bob = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    patient_1, patient_2 = uuid.uuid4(), uuid.uuid4()
    org = organisation_id
    events = [
        _record(db, org, "auth.login", actor=alice),
        _record(db, org, "patient.view", actor=alice, patient=patient_1),
        _record(db, org, "patient.view", actor=bob, patient=patient_2, outcome=Outcome.denied),
        _record(db, org, "authority.grant", actor=bob),
        _record(db, org, "patient.update", actor=alice, patient=patient_1),
        _record(db, org, "auth.logout"),
    ]
    return Trail(organisation_id, alice, bob, patient_1, patient_2, events)


def _found(db: Session, trail: Trail, **filters: Any) -> list[int]:
    criteria = AuditFilter(**filters)
    events = search_events(
        db, organisation_id=trail.organisation_id, filters=criteria, sort="seq", limit=1000
    )
    assert count_events(db, organisation_id=trail.organisation_id, filters=criteria) == len(events)
    return [event.seq for event in events]


def test_filter_by_actor_and_patient(db: Session, trail: Trail) -> None:
    assert _found(db, trail, actor_user_id=trail.alice) == trail.seqs(0, 1, 4)
    assert _found(db, trail, actor_user_id=trail.bob) == trail.seqs(2, 3)
    assert _found(db, trail, patient_id=trail.patient_1) == trail.seqs(1, 4)
    assert _found(db, trail, actor_user_id=trail.bob, patient_id=trail.patient_1) == []


def test_filter_by_exact_action_or_family(db: Session, trail: Trail) -> None:
    assert _found(db, trail, action="patient.view") == trail.seqs(1, 2)
    assert _found(db, trail, action="patient") == []
    # The dot is part of the family: authority.grant is not an auth.* action.
    assert _found(db, trail, action="auth.*") == trail.seqs(0, 5)
    assert _found(db, trail, action="patient.*", actor_user_id=trail.alice) == trail.seqs(1, 4)


def test_an_action_family_is_case_sensitive_on_every_database(db: Session) -> None:
    organisation_id = uuid.uuid4()
    kept = _record(db, organisation_id, "auth.login")
    _record(db, organisation_id, "AUTH.LOGIN")
    found = search_events(
        db, organisation_id=organisation_id, filters=AuditFilter(action="auth.*"), limit=10
    )
    assert [event.seq for event in found] == [kept.seq]


def test_filter_by_time_since_inclusive_until_exclusive(db: Session, trail: Trail) -> None:
    since, until = trail.events[1].occurred_at, trail.events[4].occurred_at
    expected = [e.seq for e in trail.events if since <= e.occurred_at < until]
    assert trail.events[1].seq in expected
    assert trail.events[4].seq not in expected

    assert _found(db, trail, since=since, until=until) == expected
    chicago = ZoneInfo("America/Chicago")
    local = _found(db, trail, since=since.astimezone(chicago), until=until.astimezone(chicago))
    assert local == expected
    assert _found(db, trail, since=trail.events[5].occurred_at) == [
        e.seq for e in trail.events if e.occurred_at >= trail.events[5].occurred_at
    ]


def test_times_must_be_aware_and_in_order() -> None:
    now = utcnow()
    with pytest.raises(ValidationError, match="timezone"):
        AuditFilter(since=now.replace(tzinfo=None))
    with pytest.raises(ValidationError, match="since must be earlier than until"):
        AuditFilter(since=now, until=now)


def _ascending(events: list[AuditEvent], field: str) -> list[int]:
    # NULL counts as the largest value; seq breaks ties.
    def key(event: AuditEvent) -> tuple[bool, Any, int]:
        value = getattr(event, field)
        return (value is None, value, event.seq)

    return [event.seq for event in sorted(events, key=key)]


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize(
    "field", ["seq", "occurred_at", "action", "outcome", "actor_user_id", "patient_id"]
)
def test_sort_by_any_column(db: Session, trail: Trail, field: str, descending: bool) -> None:
    events = search_events(
        db,
        organisation_id=trail.organisation_id,
        filters=AuditFilter(),
        sort=field,
        descending=descending,
    )
    expected = _ascending(trail.events, field)
    assert [event.seq for event in events] == (expected[::-1] if descending else expected)


def test_pages_never_overlap_when_sort_values_tie(db: Session, trail: Trail) -> None:
    pages = [
        search_events(
            db,
            organisation_id=trail.organisation_id,
            filters=AuditFilter(),
            sort="outcome",
            limit=2,
            offset=offset,
        )
        for offset in (0, 2, 4, 6)
    ]
    assert [len(page) for page in pages] == [2, 2, 2, 0]
    assert [e.seq for page in pages for e in page] == _ascending(trail.events, "outcome")


def test_an_unknown_sort_field_is_refused_naming_the_allowed_ones(db: Session) -> None:
    with pytest.raises(InvalidInput, match=r"'password'.*occurred_at") as refused:
        search_events(db, organisation_id=None, filters=AuditFilter(), sort="password")
    assert refused.value.details["allowed"] == list(EVENT_FIELDS)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (10, -1)])
def test_a_page_must_be_sensible(db: Session, limit: int, offset: int) -> None:
    with pytest.raises(InvalidInput, match="limit must be at least 1"):
        search_events(db, organisation_id=None, filters=AuditFilter(), limit=limit, offset=offset)


def test_an_organisation_sees_only_its_own_events(db: Session) -> None:
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    # A unique action keeps other tests' events out of the unscoped search.
    action = f"test.scope-{uuid.uuid4().hex[:8]}"
    mine = _record(db, ours, action)
    other = _record(db, theirs, action)
    anonymous = record(db, AuditContext(), action)
    criteria = AuditFilter(action=action)

    def seqs(organisation_id: uuid.UUID | None) -> list[int]:
        events = search_events(db, organisation_id=organisation_id, filters=criteria)
        assert count_events(db, organisation_id=organisation_id, filters=criteria) == len(events)
        return [event.seq for event in events]

    assert seqs(ours) == [mine.seq]
    assert seqs(theirs) == [other.seq]
    assert seqs(None) == [mine.seq, other.seq, anonymous.seq]


def _parse(lines: list[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


def test_csv_has_a_header_and_a_row_per_event(db: Session, trail: Trail) -> None:
    rows = _parse(list(events_to_csv(trail.events)))
    assert rows[0] == list(EVENT_FIELDS)
    assert len(rows) == 1 + len(trail.events)

    first = dict(zip(EVENT_FIELDS, rows[2], strict=True))
    event = trail.events[1]
    assert first["seq"] == str(event.seq)
    assert first["action"] == "patient.view"
    assert first["patient_id"] == str(trail.patient_1)
    assert first["clinic_id"] == ""
    assert first["detail"] == "{}"
    assert first["hash"] == event.hash
    assert first["occurred_at"].endswith("+00:00")
    assert datetime.fromisoformat(first["occurred_at"]) == event.occurred_at


def test_csv_times_are_utc_whatever_zone_they_come_in() -> None:
    tokyo_morning = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    event = AuditEvent(seq=1, occurred_at=tokyo_morning, action="auth.login", outcome="success")
    row = _parse(list(events_to_csv([event])))[1]
    assert row[EVENT_FIELDS.index("occurred_at")] == "2026-03-02T00:30:00+00:00"


def test_csv_cells_cannot_become_spreadsheet_formulas(db: Session) -> None:
    hostile = {
        "user_agent": '=HYPERLINK("https://evil.example","open")',
        "address": "@SUM(A1:A9)",
        "actor_role": "+cmd",
    }
    event = _record(
        db,
        uuid.uuid4(),
        "-2+3",
        user_agent=hostile["user_agent"],
        address=hostile["address"],
        actor_role=hostile["actor_role"],
    )
    header, row = _parse(list(events_to_csv([event])))
    cells = dict(zip(header, row, strict=True))

    assert cells["action"] == "'-2+3"
    for field, value in hostile.items():
        assert cells[field] == f"'{value}"
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_event_schema_parses_detail(db: Session) -> None:
    event = record(
        db,
        AuditContext(actor_user_id=uuid.uuid4()),
        "patient.view",
        outcome=Outcome.denied,
        detail={"reason": "not in care team", "attempts": 2},
    )
    db.flush()
    shown = AuditEventOut.model_validate(event)
    assert shown.detail == {"attempts": 2, "reason": "not in care team"}
    assert shown.outcome is Outcome.denied
    assert list(shown.model_dump()) == list(EVENT_FIELDS)

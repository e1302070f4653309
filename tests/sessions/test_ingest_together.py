"""Batches of readings stored together answer exactly as if each were stored in turn."""

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.audit.service import AuditContext
from ketaguard.auth.principal import Principal
from ketaguard.auth.service import principal_for_user
from ketaguard.kit.errors import InvalidInput
from ketaguard.kit.time import utcnow
from ketaguard.monitoring.vitals import Reading
from ketaguard.sessions.models import ReadingSource, SessionStatus, TreatmentSession, VitalReading
from ketaguard.sessions.run import VitalsBatch, check_in, ingest_batches
from tests.factories import Personas
from tests.sessions.test_session_flow import _session

AT = utcnow() - timedelta(minutes=30)


def _checked_in(db: Session, personas: Personas) -> tuple[TreatmentSession, TreatmentSession]:
    """An IV session, whose protocol judges readings after the dose too, and an esketamine one."""
    nurse = principal_for_user(db, personas.nurse_a, None)
    sessions = []
    for protocol in ("ketamine-iv-0.5", "esketamine-trd"):
        session_id = uuid.UUID(_session(db, personas, protocol))
        sessions.append(check_in(db, nurse, AuditContext(), session_id))
    return sessions[0], sessions[1]


def _heart_rate(*seconds: int) -> list[Reading]:
    return [
        Reading(vital="heart_rate", value=72, measured_at=AT + timedelta(seconds=s))
        for s in seconds
    ]


def _batch(
    principal: Principal, session: TreatmentSession, readings: list[Reading], device: str = ""
) -> VitalsBatch:
    source = ReadingSource.device if device else ReadingSource.staff
    return VitalsBatch(principal, AuditContext(), session.id, readings, source, device)


def _vitals_events(db: Session, since: int) -> list[tuple[str | None, dict[str, object]]]:
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.seq > since, AuditEvent.action == "session.vitals")
        .order_by(AuditEvent.seq)
    )
    return [(event.resource_id, json.loads(event.detail)) for event in events]


def _last_seq(db: Session) -> int:
    db.flush()
    return db.scalar(select(func.max(AuditEvent.seq))) or 0


def test_batches_stored_together_answer_as_one_after_another(
    db: Session, eligible: Personas
) -> None:
    first, second = _checked_in(db, eligible)
    first.status = SessionStatus.ready_for_discharge  # as a prescriber's clearance leaves it
    revisions = (first.revision, second.revision)
    nurse = principal_for_user(db, eligible.nurse_a, None)
    since = _last_seq(db)
    high = [
        Reading(vital="systolic_bp", value=200, measured_at=AT),
        Reading(vital="diastolic_bp", value=110, measured_at=AT),
    ]
    batches = [
        _batch(nurse, first, _heart_rate(1, 2), "monitor-1"),
        _batch(nurse, second, _heart_rate(1), "monitor-1"),
        # The same device and times as the first batch's second reading: a repeat.
        _batch(nurse, first, _heart_rate(2, 3), "monitor-1"),
        _batch(nurse, first, high),
        _batch(nurse, first, _heart_rate(4)),
    ]

    results = ingest_batches(db, batches)

    assert [(r.added, r.duplicates) for r in results] == [(2, 0), (1, 0), (1, 1), (2, 0), (1, 0)]
    assert [bool(r.alerts) for r in results] == [False, False, False, True, False]
    assert {a.session_id for a in results[3].alerts} == {first.id}
    db.flush()
    db.expire_all()
    # One revision per batch, whichever way the batch was stored.
    assert (first.revision, second.revision) == (revisions[0] + 4, revisions[1] + 1)
    # The alert moved the session back to monitoring, and the batch after it says so.
    assert first.status is SessionStatus.monitoring
    events = _vitals_events(db, since)
    assert [resource for resource, _ in events] == [
        str(first.id), str(second.id), str(first.id), str(first.id), str(first.id)
    ]  # fmt: skip
    assert [detail["added"] for _, detail in events] == [2, 1, 1, 2, 1]
    assert [detail["status"] for _, detail in events] == [
        "ready_for_discharge", "checked_in", "ready_for_discharge", "monitoring", "monitoring"
    ]  # fmt: skip
    assert db.scalar(select(func.count()).select_from(VitalReading)) == 7

    # Sent again, together: every reading is a repeat, and nothing is judged twice.
    again = ingest_batches(db, batches)
    assert [(r.added, r.alerts) for r in again] == [(0, [])] * 5
    assert [r.duplicates for r in again] == [2, 1, 2, 2, 1]


def test_a_reading_repeated_within_its_batch_counts_once(db: Session, eligible: Personas) -> None:
    first, second = _checked_in(db, eligible)
    nurse = principal_for_user(db, eligible.nurse_a, None)
    high = Reading(vital="systolic_bp", value=200, measured_at=AT)
    batches = [
        _batch(nurse, first, [*_heart_rate(5, 5, 6), high, high], "monitor-1"),
        _batch(nurse, second, _heart_rate(5), "monitor-1"),
    ]

    results = ingest_batches(db, batches)

    assert [(r.added, r.duplicates) for r in results] == [(3, 2), (1, 0)]
    rules = [alert.rule for alert in results[0].alerts]
    assert rules
    assert len(set(rules)) == len(rules)  # judged once
    rows = db.scalars(select(VitalReading.vital).where(VitalReading.session_id == first.id))
    assert sorted(rows) == ["heart_rate", "heart_rate", "systolic_bp"]


def test_one_refused_batch_is_refused_before_any_batch_is_written(
    db: Session, eligible: Personas
) -> None:
    first, second = _checked_in(db, eligible)
    nurse = principal_for_user(db, eligible.nurse_a, None)
    since = _last_seq(db)
    impossible = [Reading(vital="spo2", value=140, measured_at=AT)]
    with pytest.raises(InvalidInput, match="not possible"):
        ingest_batches(
            db, [_batch(nurse, first, _heart_rate(1)), _batch(nurse, second, impossible)]
        )
    assert db.scalar(select(func.count()).select_from(VitalReading)) == 0
    assert _vitals_events(db, since) == []

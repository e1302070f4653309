"""Escalation, missed checks, the alert stream, and concurrent writers on one session."""

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ketaguard.alerts.models import Alert, AlertSeverity
from ketaguard.alerts.service import raise_alert
from ketaguard.alerts.worker import escalate_due, raise_missed_readings
from ketaguard.app import create_app
from ketaguard.audit.service import AuditContext
from ketaguard.auth.models import User
from ketaguard.auth.principal import Principal
from ketaguard.auth.service import principal_for_user
from ketaguard.bootstrap import prepare_database
from ketaguard.clinics.models import Role
from ketaguard.config import Settings
from ketaguard.db.engine import build_engine, build_sessionmaker
from ketaguard.db.group_commit import _Job, commit_group
from ketaguard.db.session import unit_of_work
from ketaguard.kit.time import utcnow
from ketaguard.monitoring.vitals import Reading
from ketaguard.sessions.models import ReadingSource, TreatmentSession, VitalReading
from ketaguard.sessions.run import check_in, ingest_vitals
from tests.aio import run_async
from tests.factories import (
    Personas,
    login_over_http,
    make_clinic,
    make_eligible,
    make_patient,
    make_personas,
    make_staff,
)
from tests.sessions.test_session_flow import _at, _pre_dose, _session


def _alert(db: Session, personas: Personas, minutes_ago: float) -> Alert:
    alert = raise_alert(
        db,
        clinic_id=personas.clinic_a.id,
        patient_id=personas.patient_a.id,
        rule="test.rule",
        severity=AlertSeverity.urgent,
        message="synthetic",
        evidence={},
        source="test",
    )
    alert.raised_at = utcnow() - timedelta(minutes=minutes_ago)
    db.flush()
    return alert


def test_unacknowledged_alerts_escalate_once(personas: Personas, db: Session) -> None:
    old, recent = _alert(db, personas, 15), _alert(db, personas, 2)
    now = utcnow()
    assert [a.id for a in escalate_due(db, now, timedelta(minutes=10))] == [old.id]
    assert escalate_due(db, now, timedelta(minutes=10)) == []
    db.refresh(recent)
    assert recent.escalated_at is None


def test_a_missed_40_minute_bp_check_raises_an_alert(
    eligible: Personas, db: Session, login: Callable[[User], TestClient]
) -> None:
    session_id = _session(db, eligible, "esketamine-trd")
    nurse = login(eligible.nurse_a)
    url = f"/api/sessions/{session_id}"
    nurse.post(f"{url}/check-in")
    nurse.post(f"{url}/pre-dose", json=_pre_dose("esketamine-trd", 80))
    first = _at(70)
    nurse.post(f"{url}/dose", json={"dose_mg": 56, "lot_number": "L", "started_at": first})
    nurse.post(f"{url}/dose/complete", json={"device_times": [first, _at(65)]})
    raised = raise_missed_readings(db, utcnow(), grace_minutes=5)
    assert any(a.rule.startswith("vitals.missed") for a in raised)
    assert raise_missed_readings(db, utcnow(), grace_minutes=5) == []  # one open alert per rule


def test_the_stream_sends_new_alerts_of_the_callers_clinics(scratch_url: str) -> None:
    settings = Settings(database_url=scratch_url)
    engine = build_engine(settings)
    prepare_database(engine)
    with unit_of_work(build_sessionmaker(engine)) as db:
        clinic, elsewhere = make_clinic(db), make_clinic(db)
        nurse = make_staff(db, clinic, Role.nurse)
        for place, rule in ((clinic, "mine"), (elsewhere, "not.mine")):
            raise_alert(
                db,
                clinic_id=place.id,
                patient_id=make_patient(db, place).id,
                rule=rule,
                severity=AlertSeverity.urgent,
                message="m",
                evidence={},
                source="s",
            )
    app = create_app(settings)
    # A nurse needs no MFA step, so the login never touches this session: no lock is held.
    with TestClient(app) as client, build_sessionmaker(engine)() as idle:
        login_over_http(client, idle, nurse)
        since = (utcnow() - timedelta(minutes=1)).isoformat()
        with client.stream("GET", "/api/alerts/stream", params={"after": since, "seconds": 1}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            body = "".join(r.iter_text())
    events = [block for block in body.split("\n\n") if "event: alert" in block]
    rules = [json.loads(block.split("data: ", 1)[1])["rule"] for block in events]
    assert rules == ["mine"]
    engine.dispose()


def _checked_in(factory: sessionmaker[Session]) -> tuple[uuid.UUID, Principal]:
    """A checked-in esketamine session, committed, and the nurse who checked the patient in."""
    with unit_of_work(factory) as db:
        personas = make_eligible(db, make_personas(db))
        session_id = uuid.UUID(_session(db, personas, "esketamine-trd"))
        nurse = principal_for_user(db, personas.nurse_a, None)
        check_in(db, nurse, AuditContext(), session_id)
    return session_id, nurse


def test_concurrent_writers_on_one_session_keep_every_reading(scratch_engine: Engine) -> None:
    """Two nurses and a gateway posting at once: no reading lost, every write counted."""
    factory = build_sessionmaker(scratch_engine)
    session_id, nurse = _checked_in(factory)
    writers, batches = 3, 8
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for batch in range(batches):
                at = utcnow() - timedelta(minutes=writer * 60 + batch)
                readings = [Reading(vital="heart_rate", value=70 + writer, measured_at=at)]
                with unit_of_work(factory) as db:
                    ingest_vitals(
                        db,
                        nurse,
                        AuditContext(),
                        session_id,
                        readings,
                        source=ReadingSource.device,
                        device_key=f"d{writer}",
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with unit_of_work(factory) as db:
        rows = db.scalars(select(VitalReading).where(VitalReading.session_id == session_id)).all()
        assert len(rows) == writers * batches
        session = db.get_one(TreatmentSession, session_id)
        assert session.revision == 1 + writers * batches


def test_requests_on_one_session_in_one_group_each_count(scratch_engine: Engine) -> None:
    """One raises an alert (the session is loaded and changed), the next does not (plain
    statements): the second must see the first's change, and each adds one revision."""
    factory = build_sessionmaker(scratch_engine)
    session_id, nurse = _checked_in(factory)
    with unit_of_work(factory) as db:
        revision = db.get_one(TreatmentSession, session_id).revision
    at = utcnow() - timedelta(minutes=5)

    def posting(*readings: Reading) -> Callable[[Session], int]:
        def work(db: Session) -> int:
            ingested = ingest_vitals(
                db, nurse, AuditContext(), session_id, list(readings), source=ReadingSource.staff
            )
            return len(ingested.alerts)

        return work

    high = posting(
        Reading(vital="systolic_bp", value=186, measured_at=at),
        Reading(vital="diastolic_bp", value=104, measured_at=at),
    )
    calm = posting(Reading(vital="heart_rate", value=72, measured_at=at + timedelta(seconds=1)))

    async def group() -> list[int]:
        loop = asyncio.get_running_loop()
        jobs = [_Job(work, str(session_id), loop.create_future()) for work in (high, calm)]
        await commit_group(factory, jobs)
        return [job.future.result() for job in jobs]

    raised, calm_raised = run_async(group())
    assert raised > 0
    assert calm_raised == 0
    with unit_of_work(factory) as db:
        assert db.get_one(TreatmentSession, session_id).revision == revision + 2
        stored = db.scalars(select(VitalReading).where(VitalReading.session_id == session_id))
        assert len(stored.all()) == 3

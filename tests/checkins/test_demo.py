"""The demo's check-ins: a course to look at, missed ones, reminders, and one worrying report."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, verify_chain
from ketaguard.auth.models import User
from ketaguard.auth.service import principal_for_user
from ketaguard.checkins.models import Checkin, CheckinDue, DueStatus, OutboxMessage, OutboxStatus
from ketaguard.checkins.service import plan_outcomes
from ketaguard.demo import build_demo
from ketaguard.patients.models import Patient
from ketaguard.screening.models import CompletedBy
from tests.checkins.test_outbox import CLINICAL_WORDS


def _patient(db: Session, record: str) -> Patient:
    return db.scalars(select(Patient).where(Patient.record_number == record)).one()


def test_demo_check_ins_show_a_course_missed_ones_and_reminders(db: Session) -> None:
    list(build_demo(db))
    checkins = db.scalars(select(Checkin)).all()
    assert len(checkins) >= 8
    assert {c.completed_by for c in checkins} == {CompletedBy.patient, CompletedBy.staff}
    assert not any(c.suicide_risk for c in checkins)

    statuses = set(db.scalars(select(CheckinDue.status)))
    assert {DueStatus.completed, DueStatus.missed, DueStatus.pending} <= statuses

    reminders = db.scalars(select(OutboxMessage)).all()
    assert reminders
    assert {m.status for m in reminders} == {OutboxStatus.pending}
    for message in reminders:
        text = f"{message.subject} {message.body}".lower()
        assert [word for word in CLINICAL_WORDS if word in text] == []

    robin = _patient(db, "DT-0005")
    [reported] = [c for c in checkins if c.patient_id == robin.id]
    assert reported.used_outside_sessions is True
    assert reported.craving is not None
    assert reported.craving >= 5

    # Sam's induction: from a baseline of 15 to a response.
    sam = _patient(db, "DT-0003")
    prescriber = db.scalars(
        select(User).where(User.email == "prescriber.downtown@demo.example.org")
    ).one()
    found = plan_outcomes(
        db, principal_for_user(db, prescriber, None), AuditContext(), sam.id, None
    ).outcomes
    assert found.baseline is not None
    assert found.baseline.total == 15
    assert len(found.points) >= 3
    assert "response" in {event.kind for event in found.events}
    assert found.days_to_response is not None
    assert verify_chain(db).ok

"""Check-ins due under a plan: anchored to its sessions and weeks, generated once, missed once."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.audit.service import AuditContext
from ketaguard.auth.service import principal_for_user
from ketaguard.checkins.dues import mark_missed, sync_session_dues
from ketaguard.checkins.models import CheckinDue, CheckinSchedule, DueAnchor, DueStatus
from ketaguard.checkins.worker import WORKER, generate_weekly
from ketaguard.kit.time import utcnow
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.plans.service import change_status
from ketaguard.sessions import booking, run
from ketaguard.sessions.models import SessionStatus, TreatmentSession
from ketaguard.sessions.schemas import BookingRequest
from ketaguard.sessions.schemas_run import DoseStart, PreDoseIn
from tests.factories import Personas, make_active_plan
from tests.sessions.test_session_flow import _pre_dose

CHICAGO = ZoneInfo("America/Chicago")


def local_today() -> date:
    return utcnow().astimezone(CHICAGO).date()


def book(db: Session, personas: Personas, plan: TreatmentPlan, local: datetime) -> TreatmentSession:
    prescriber = principal_for_user(db, personas.prescriber_a, None)
    return booking.book(db, prescriber, AuditContext(), plan.id, BookingRequest(local_start=local))


def dues(db: Session, plan: TreatmentPlan) -> dict[str, CheckinDue]:
    rows = db.scalars(select(CheckinDue).where(CheckinDue.plan_id == plan.id))
    return {due.slot: due for due in rows}


def dose_now(db: Session, personas: Personas, session: TreatmentSession) -> datetime:
    """Check in, clear and dose a session now, through the services the chair-side API uses."""
    nurse = principal_for_user(db, personas.nurse_a, None)
    run.check_in(db, nurse, AuditContext(), session.id)
    pre = PreDoseIn.model_validate(_pre_dose("esketamine-trd", 10))
    run.clear_pre_dose(db, nurse, AuditContext(), session.id, pre)
    started = utcnow() - timedelta(minutes=1)
    body = DoseStart(dose_mg=56, lot_number="LOT-1", started_at=started)
    run.start_dose(db, nurse, AuditContext(), session.id, body)
    return started


def test_booking_opens_a_check_in_before_the_session(eligible: Personas, db: Session) -> None:
    plan = make_active_plan(db, eligible, start=local_today())
    session = book(db, eligible, plan, datetime.combine(local_today() + timedelta(days=3), time(9)))
    due = dues(db, plan)[f"session:{session.id}:before"]
    assert due.anchor is DueAnchor.before_session
    assert due.session_id == session.id
    assert due.status is DueStatus.pending
    assert (due.opens_at, due.closes_at) == (
        session.scheduled_at - timedelta(hours=48),
        session.scheduled_at,
    )
    # The plan's first check-in asks every periodic item too.
    assert due.items == [
        "phq9",
        "craving",
        "substance_use",
        "withdrawal",
        "urinary",
        "memory",
        "sds",
    ]
    # Approving the plan stored its schedule, so later default changes never move it.
    assert db.scalar(select(CheckinSchedule).where(CheckinSchedule.plan_id == plan.id))


def test_generating_again_adds_nothing(eligible: Personas, db: Session) -> None:
    plan = make_active_plan(db, eligible, start=local_today())
    session = book(db, eligible, plan, datetime.combine(local_today() + timedelta(days=2), time(9)))
    before = db.scalar(select(func.count()).select_from(CheckinDue))
    assert sync_session_dues(db, session) == []
    assert sync_session_dues(db, session) == []
    assert db.scalar(select(func.count()).select_from(CheckinDue)) == before
    # The unique key holds even for a writer that skips the service.
    existing = dues(db, plan)[f"session:{session.id}:before"]
    duplicate = CheckinDue(
        plan_id=plan.id,
        patient_id=plan.patient_id,
        clinic_id=existing.clinic_id,
        anchor=DueAnchor.before_session,
        slot=existing.slot,
        items=["craving"],
        opens_at=existing.opens_at,
        closes_at=existing.closes_at,
        status=DueStatus.pending,
    )

    def insert_duplicate() -> None:
        with db.begin_nested():
            db.add(duplicate)
            db.flush()

    with pytest.raises(IntegrityError):
        insert_duplicate()


def test_a_dose_opens_check_ins_24_hours_72_hours_and_7_days_after_it(
    eligible: Personas, db: Session
) -> None:
    plan = make_active_plan(db, eligible, start=local_today())
    local_start = (utcnow() + timedelta(hours=2)).astimezone(CHICAGO).replace(tzinfo=None)
    session = book(db, eligible, plan, local_start.replace(second=0, microsecond=0))
    before = dues(db, plan)[f"session:{session.id}:before"]
    assert before.status is DueStatus.pending
    dosed = dose_now(db, eligible, session)
    found = dues(db, plan)
    for hours in (24, 72, 168):
        due = found[f"session:{session.id}:after:{hours}h"]
        assert due.anchor is DueAnchor.after_dose
        assert due.opens_at == dosed + timedelta(hours=hours)
        assert due.closes_at == due.opens_at + timedelta(hours=24)
    # The patient came in early and is in the chair: the pre-session check-in is withdrawn.
    db.refresh(before)
    assert before.status is DueStatus.cancelled


def test_cancelling_or_rescheduling_a_session_cancels_its_check_ins(
    eligible: Personas, db: Session
) -> None:
    plan = make_active_plan(db, eligible, start=local_today())
    day = local_today() + timedelta(days=3)
    first = book(db, eligible, plan, datetime.combine(day, time(9)))
    prescriber = principal_for_user(db, eligible.prescriber_a, None)
    moved = booking.book(
        db,
        prescriber,
        AuditContext(),
        plan.id,
        BookingRequest(local_start=datetime.combine(day, time(11)), reschedule_of=first.id),
    )
    found = dues(db, plan)
    assert found[f"session:{first.id}:before"].status is DueStatus.cancelled
    assert found[f"session:{moved.id}:before"].status is DueStatus.pending
    booking.cancel(db, prescriber, AuditContext(), moved.id, "patient unwell")
    db.expire_all()
    assert dues(db, plan)[f"session:{moved.id}:before"].status is DueStatus.cancelled


def _next_dst_change(after: date, zone: ZoneInfo) -> date:
    """The first local day after `after` whose UTC offset differs from the day before."""
    day = after + timedelta(days=1)
    while True:
        noon = datetime.combine(day, time(12), tzinfo=zone)
        if noon.utcoffset() != (noon - timedelta(days=1)).utcoffset():
            return day
        day += timedelta(days=1)


def test_the_check_in_before_a_session_just_after_a_dst_change_opens_48_real_hours_before(
    eligible: Personas, db: Session
) -> None:
    change = _next_dst_change(local_today(), CHICAGO)
    plan = make_active_plan(db, eligible, start=local_today())
    session = book(db, eligible, plan, datetime.combine(change + timedelta(days=1), time(9)))
    due = dues(db, plan)[f"session:{session.id}:before"]
    assert due.closes_at - due.opens_at == timedelta(hours=48)
    # On the clinic's clock it opens an hour off 09:00: 08:00 in spring, 10:00 in autumn.
    assert due.opens_at.astimezone(CHICAGO).hour in (8, 10)


def test_approving_a_plan_in_maintenance_opens_this_weeks_check_in(
    eligible: Personas, db: Session
) -> None:
    # Week 6 today: the esketamine-trd default asks weekly from week 5 (its second phase).
    start = local_today() - timedelta(days=35)
    plan = make_active_plan(db, eligible, start=start)
    week = dues(db, plan)["week:6"]
    assert week.anchor is DueAnchor.weekly
    first_day = start + timedelta(days=35)
    assert week.opens_at == datetime.combine(first_day, time(0), tzinfo=CHICAGO)
    assert week.closes_at == datetime.combine(
        first_day + timedelta(days=7), time(0), tzinfo=CHICAGO
    )
    # Induction, week 1: nothing weekly.
    other = make_active_plan(db, eligible, start=local_today())
    assert not [slot for slot in dues(db, other) if slot.startswith("week:")]


def test_the_worker_opens_weekly_check_ins_on_the_clinics_calendar_across_a_dst_change(
    eligible: Personas, db: Session
) -> None:
    change = _next_dst_change(local_today(), CHICAGO)
    # Week 6 of the plan contains the change.
    week_start = change - timedelta(days=change.weekday())
    make_active_plan(db, eligible, start=week_start - timedelta(days=35))
    at_change = datetime.combine(change, time(12), tzinfo=CHICAGO)
    added = generate_weekly(db, WORKER, at_change)
    assert [due.slot for due in added] == ["week:6"]
    [due] = added
    assert due.closes_at - due.opens_at in (timedelta(hours=167), timedelta(hours=169))
    assert due.opens_at.astimezone(CHICAGO).replace(tzinfo=None) == datetime.combine(
        week_start, time(0)
    )
    # Later the same week: nothing more.
    assert generate_weekly(db, WORKER, at_change + timedelta(hours=6)) == []
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == str(due.id)))
    assert list(actions) == ["checkin.due"]


def test_check_ins_whose_window_closed_are_marked_missed_once(
    eligible: Personas, db: Session
) -> None:
    plan = make_active_plan(db, eligible, start=local_today())
    session = book(db, eligible, plan, datetime.combine(local_today() + timedelta(days=2), time(9)))
    due = dues(db, plan)[f"session:{session.id}:before"]
    just_before = due.closes_at - timedelta(seconds=1)
    assert mark_missed(db, WORKER, just_before) == []
    missed = mark_missed(db, WORKER, due.closes_at)
    assert [m.id for m in missed] == [due.id]
    assert mark_missed(db, WORKER, due.closes_at + timedelta(hours=1)) == []
    db.refresh(due)
    assert due.status is DueStatus.missed
    assert due.missed_at == due.closes_at
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "checkin.missed", AuditEvent.resource_id == str(due.id)
        )
    ).one()
    assert event.patient_id == eligible.patient_a.id


def test_a_generated_check_in_never_starts_closed(eligible: Personas, db: Session) -> None:
    plan = make_active_plan(db, eligible, start=local_today() - timedelta(days=3))
    session = book(db, eligible, plan, datetime.combine(local_today() - timedelta(days=2), time(9)))
    assert session.status is SessionStatus.scheduled
    assert f"session:{session.id}:before" not in dues(db, plan)
    # As of two days ago it would have been open, and generation then would have stored it.
    as_of = session.scheduled_at - timedelta(hours=1)
    [due] = sync_session_dues(db, session, as_of)
    assert due.slot == f"session:{session.id}:before"
    assert uuid.UUID(str(due.id))
    assert due.closes_at < datetime.now(UTC)


def test_pausing_a_plan_withdraws_its_weekly_check_in_but_not_those_after_a_dose(
    eligible: Personas, db: Session
) -> None:
    plan = make_active_plan(db, eligible, start=local_today() - timedelta(days=35))
    session = book(db, eligible, plan, datetime.combine(local_today(), time(0)))
    dose_now(db, eligible, session)
    prescriber = principal_for_user(db, eligible.prescriber_a, None)
    change_status(
        db, prescriber, AuditContext(), plan.id, PlanStatus.paused, "reviewing a dependence concern"
    )
    found = dues(db, plan)
    assert found["week:6"].status is DueStatus.cancelled
    assert found[f"session:{session.id}:after:24h"].status is DueStatus.pending

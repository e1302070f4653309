"""The read-only questions the pages ask: a clinic's local day and the plans that can be booked."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.auth.permissions import Permission
from ketaguard.auth.service import principal_for_user
from ketaguard.kit.errors import NotFound
from ketaguard.sessions import queries
from ketaguard.sessions.booking import book, cancel
from ketaguard.sessions.schemas import BookingRequest
from tests.factories import Personas, make_active_plan

START = date(2026, 3, 2)  # a Monday; Chicago's clocks go forward on Sunday 8 March


def test_a_local_day_is_23_hours_when_the_clocks_go_forward() -> None:
    start, end = queries.local_day_bounds(date(2026, 3, 8), "America/Chicago")
    assert end - start == timedelta(hours=23)
    assert start == datetime(2026, 3, 8, 6, tzinfo=UTC)
    normal_start, normal_end = queries.local_day_bounds(date(2026, 3, 9), "America/Chicago")
    assert normal_end - normal_start == timedelta(hours=24)


def test_a_clinics_day_lists_its_sessions_on_its_own_clock(eligible: Personas, db: Session) -> None:
    plan = make_active_plan(db, eligible, start=START)
    nurse = principal_for_user(db, eligible.nurse_a, None)
    # 23:30 in Chicago on 2 March is already 3 March in UTC.
    late = book(
        db,
        nurse,
        AuditContext(),
        plan.id,
        BookingRequest(local_start=datetime.combine(START, time(23, 30))),
    )
    early = book(
        db,
        nurse,
        AuditContext(),
        plan.id,
        BookingRequest(local_start=datetime.combine(START, time())),
    )
    cancel(db, nurse, AuditContext(), early.id, "patient unwell")
    next_day = book(
        db,
        nurse,
        AuditContext(),
        plan.id,
        BookingRequest(local_start=datetime.combine(date(2026, 3, 5), time(9))),
    )
    listed = queries.sessions_on(db, nurse, eligible.clinic_a, START)
    assert [(s.id, p.id) for s, p in listed] == [
        (early.id, eligible.patient_a.id),
        (late.id, eligible.patient_a.id),
    ]
    assert [
        s.id for s, _ in queries.sessions_on(db, nurse, eligible.clinic_a, date(2026, 3, 5))
    ] == [next_day.id]
    elsewhere = principal_for_user(db, eligible.prescriber_b, None)
    with pytest.raises(NotFound):
        queries.sessions_on(db, elsewhere, eligible.clinic_a, START)


def test_bookable_plans_are_the_active_ones_in_the_callers_scope(
    eligible: Personas, db: Session
) -> None:
    plan = make_active_plan(db, eligible, start=START)
    front_desk = principal_for_user(db, eligible.front_desk_a, None)
    assert [(p.id, patient.id) for p, patient in queries.bookable_plans(db, front_desk)] == [
        (plan.id, eligible.patient_a.id)
    ]
    record = eligible.patient_a.record_number
    assert [p.id for p, _ in queries.bookable_plans(db, front_desk, record[-6:].upper())] == [
        plan.id
    ]
    assert queries.bookable_plans(db, front_desk, "Nobody") == []
    assert queries.bookable_plans(db, front_desk, "%") == []
    therapist = principal_for_user(db, eligible.therapist_a, None)
    assert queries.bookable_plans(db, therapist) == []
    assert [c.id for c in queries.clinics_for(db, front_desk, Permission.session_book)] == [
        eligible.clinic_a.id
    ]

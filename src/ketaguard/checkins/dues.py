"""Check-ins due under a plan: generated when sessions are booked, dosed and discharged and when a
plan starts, weekly by the worker, and marked missed when their window closes.

Generation is idempotent: a due is keyed by its plan and slot (unique), inserted with ON CONFLICT
DO NOTHING, so calling it again (or from two transactions at once) adds nothing. It never creates
a check-in whose window has already closed: nobody could have completed it.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.checkins.models import CheckinDue, CheckinSchedule, DueAnchor, DueStatus
from ketaguard.checkins.schedule import (
    Scheduled,
    ScheduleDefinition,
    Slot,
    default_schedule,
    items_for,
    plan_week,
    session_slots,
    weekly_slot,
)
from ketaguard.clinics.models import Clinic
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.protocols.service import definition_by_id
from ketaguard.sessions.models import SessionStatus, TreatmentSession

# Sessions whose check-ins are no longer wanted, unless a dose was given before it ended.
ENDED_WITHOUT_CARE = frozenset(
    {SessionStatus.cancelled, SessionStatus.no_show, SessionStatus.aborted}
)


def _insert(db: Session) -> Any:
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


def _default_for(db: Session, plan: TreatmentPlan) -> ScheduleDefinition:
    return default_schedule(definition_by_id(db, plan.protocol_version_id))


def schedule_row(db: Session, plan: TreatmentPlan) -> CheckinSchedule:
    """The plan's stored schedule, storing ketaguard's default for its protocol the first time."""
    found = db.scalar(select(CheckinSchedule).where(CheckinSchedule.plan_id == plan.id))
    if found is not None:
        return found
    definition = _default_for(db, plan).model_dump(mode="json")
    # Two transactions may store it at once (a booking and the worker): the first one wins.
    db.execute(
        _insert(db)(CheckinSchedule)
        .values(
            id=uuid.uuid4(),
            created_at=utcnow(),
            plan_id=plan.id,
            patient_id=plan.patient_id,
            definition=definition,
            revision=0,
        )
        .on_conflict_do_nothing(index_elements=["plan_id"])
    )
    return db.scalars(select(CheckinSchedule).where(CheckinSchedule.plan_id == plan.id)).one()


def schedule_of(db: Session, plan: TreatmentPlan) -> ScheduleDefinition:
    return ScheduleDefinition.model_validate(schedule_row(db, plan).definition, strict=False)


def current_schedule(db: Session, plan: TreatmentPlan) -> ScheduleDefinition:
    """The plan's schedule for reading: the stored one, or the default it will get (not stored)."""
    found = db.scalar(select(CheckinSchedule).where(CheckinSchedule.plan_id == plan.id))
    if found is not None:
        return ScheduleDefinition.model_validate(found.definition, strict=False)
    return _default_for(db, plan)


def _existing(db: Session, plan_id: uuid.UUID) -> list[Scheduled]:
    rows = db.execute(
        select(CheckinDue.opens_at, CheckinDue.items).where(
            CheckinDue.plan_id == plan_id, CheckinDue.status != DueStatus.cancelled
        )
    )
    return [Scheduled(opens_at=opens_at, items=items) for opens_at, items in rows]


def _store(
    db: Session,
    plan: TreatmentPlan,
    clinic_id: uuid.UUID,
    slots: Iterable[Slot],
    now: datetime,
    session_id: uuid.UUID | None = None,
) -> list[CheckinDue]:
    schedule = schedule_of(db, plan)
    existing = _existing(db, plan.id)
    taken = set(db.scalars(select(CheckinDue.slot).where(CheckinDue.plan_id == plan.id)))
    added = []
    for slot in sorted(slots, key=lambda s: s.opens_at):
        if slot.slot in taken or slot.closes_at <= now:
            continue
        items = items_for(schedule, slot, existing)
        # RETURNING says whether the row went in: psycopg reports no row count for it.
        inserted = db.scalar(
            _insert(db)(CheckinDue)
            .values(
                id=uuid.uuid4(),
                created_at=now,
                plan_id=plan.id,
                patient_id=plan.patient_id,
                clinic_id=clinic_id,
                session_id=session_id,
                anchor=DueAnchor(slot.anchor),
                slot=slot.slot,
                items=list(items),
                opens_at=slot.opens_at,
                closes_at=slot.closes_at,
                status=DueStatus.pending,
            )
            .on_conflict_do_nothing(index_elements=["plan_id", "slot"])
            .returning(CheckinDue.id)
        )
        if inserted is not None:
            existing.append(Scheduled(opens_at=slot.opens_at, items=items))
            added.append(db.get_one(CheckinDue, inserted))
    return added


def sync_session_dues(
    db: Session, session: TreatmentSession, now: datetime | None = None
) -> list[CheckinDue]:
    """Bring a session's check-ins in line with its state: create what its booking and dose call
    for, or cancel what is still pending once it ended without a dose. Safe to call again."""
    now = now or utcnow()
    if session.dosed_at is None and session.status in ENDED_WITHOUT_CARE:
        db.execute(
            update(CheckinDue)
            .where(CheckinDue.session_id == session.id, CheckinDue.status == DueStatus.pending)
            .values(status=DueStatus.cancelled, cancelled_at=now)
        )
        return []
    plan = db.get_one(TreatmentPlan, session.plan_id)
    slots = session_slots(
        schedule_of(db, plan), str(session.id), session.scheduled_at, session.dosed_at
    )
    if session.status is not SessionStatus.scheduled:
        # The patient is in the chair: the pre-dose checklist asks in person what a check-in
        # before the session would have asked.
        db.execute(
            update(CheckinDue)
            .where(
                CheckinDue.session_id == session.id,
                CheckinDue.anchor == DueAnchor.before_session,
                CheckinDue.status == DueStatus.pending,
                CheckinDue.closes_at > now,
            )
            .values(status=DueStatus.cancelled, cancelled_at=now)
        )
        slots = [slot for slot in slots if slot.anchor != "before_session"]
    return _store(db, plan, session.clinic_id, slots, now, session_id=session.id)


def sync_weekly_due(
    db: Session, plan: TreatmentPlan, now: datetime | None = None
) -> list[CheckinDue]:
    """The weekly check-in of the plan's current week, for an active plan in its weekly phase."""
    now = now or utcnow()
    if plan.status is not PlanStatus.active:
        return []
    patient = db.get_one(Patient, plan.patient_id)
    timezone = db.get_one(Clinic, patient.clinic_id).timezone
    local_day = now.astimezone(ZoneInfo(timezone)).date()
    if plan.planned_end_date is not None and local_day > plan.planned_end_date:
        return []
    week = plan_week(plan.start_date, now, timezone)
    slot = weekly_slot(schedule_of(db, plan), plan.start_date, week, timezone)
    if slot is None:
        return []
    return _store(db, plan, patient.clinic_id, [slot], now)


def sync_plan_dues(
    db: Session, plan: TreatmentPlan, now: datetime | None = None
) -> list[CheckinDue]:
    """On a plan's status change: store its schedule and open this week's check-in when it
    starts; withdraw its pending weekly check-ins when it pauses or ends (weekly check-ins follow
    an active plan). Those anchored to sessions stay: a session's own changes cancel them, and
    the ones after a dose still matter once the plan has ended."""
    now = now or utcnow()
    if plan.status is PlanStatus.active:
        schedule_row(db, plan)
        return sync_weekly_due(db, plan, now)
    db.execute(
        update(CheckinDue)
        .where(
            CheckinDue.plan_id == plan.id,
            CheckinDue.anchor == DueAnchor.weekly,
            CheckinDue.status == DueStatus.pending,
        )
        .values(status=DueStatus.cancelled, cancelled_at=now)
    )
    return []


def regenerate_future(
    db: Session, plan: TreatmentPlan, now: datetime
) -> tuple[int, list[CheckinDue]]:
    """After a schedule change: drop the plan's pending check-ins that have not opened yet (nobody
    has seen them) and generate again from its sessions and current week."""
    dropped: int = db.execute(
        delete(CheckinDue)
        .where(
            CheckinDue.plan_id == plan.id,
            CheckinDue.status == DueStatus.pending,
            CheckinDue.opens_at > now,
        )
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    added: list[CheckinDue] = []
    sessions = db.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.plan_id == plan.id)
        .order_by(TreatmentSession.scheduled_at)
    )
    for session in sessions:
        added += sync_session_dues(db, session, now)
    added += sync_weekly_due(db, plan, now)
    return dropped, added


def mark_missed(db: Session, context: AuditContext, now: datetime) -> list[CheckinDue]:
    """Every pending check-in whose window has closed becomes missed, once.

    One conditional UPDATE claims them: a check-in completed at the same moment, or another
    worker, cannot both win."""
    claimed = db.scalars(
        update(CheckinDue)
        .where(CheckinDue.status == DueStatus.pending, CheckinDue.closes_at <= now)
        .values(status=DueStatus.missed, missed_at=now)
        .returning(CheckinDue.id)
    ).all()
    missed = list(db.scalars(select(CheckinDue).where(CheckinDue.id.in_(claimed))))
    for due in missed:
        record(
            db,
            context,
            "checkin.missed",
            patient_id=due.patient_id,
            clinic_id=due.clinic_id,
            resource_type="checkin_due",
            resource_id=due.id,
            detail={"slot": due.slot, "closed_at": due.closes_at.isoformat()},
        )
    return missed

"""Booking sessions against a plan: the protocol's limits are enforced, not merely shown."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import Outcome
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.checkins.dues import sync_session_dues
from ketaguard.clinics.models import Clinic
from ketaguard.db.session import discard_work
from ketaguard.dependence.evaluation import reevaluate
from ketaguard.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, kept
from ketaguard.patients.models import Patient
from ketaguard.plans.models import TreatmentPlan
from ketaguard.plans.service import get_plan, lock_plan
from ketaguard.protocols.scheduling import BookedSession, Proposal, Violation, check_booking
from ketaguard.protocols.service import definition_by_id
from ketaguard.sessions.limits import plan_facts
from ketaguard.sessions.models import SessionStatus, TreatmentSession
from ketaguard.sessions.schemas import BookingRequest

# A prescriber's override is a clinical judgement against the plan: it must say why.
MIN_OVERRIDE_REASON = 10


def to_utc(local: datetime, timezone: str) -> datetime:
    """A clinic wall-clock time as a UTC instant, refusing times a DST change skips or repeats."""
    zone = ZoneInfo(timezone)
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    instant = first.astimezone(UTC)
    # In a spring-forward gap the wall time never shows on the clinic's clocks (and the two
    # folds differ too), so the gap is checked first.
    if instant.astimezone(zone).replace(tzinfo=None) != local:
        raise InvalidInput(
            f"{local:%Y-%m-%d %H:%M} does not exist in {timezone} (clocks go forward)",
            field="local_start",
        )
    if first.utcoffset() != second.utcoffset():
        raise InvalidInput(
            f"{local:%Y-%m-%d %H:%M} happens twice in {timezone} (clocks go back); "
            "choose a time outside that hour",
            field="local_start",
        )
    return instant


def _booked(db: Session, plan_id: uuid.UUID) -> list[TreatmentSession]:
    return list(
        db.scalars(
            select(TreatmentSession).where(
                TreatmentSession.plan_id == plan_id,
                TreatmentSession.status != SessionStatus.cancelled,
            )
        )
    )


def _violations_detail(violations: list[Violation]) -> list[dict[str, object]]:
    return [
        {"rule": v.rule, "message": v.message, "numbers": v.numbers, "overridable": v.overridable}
        for v in violations
    ]


@dataclass(frozen=True)
class Evaluation:
    at: datetime
    dose_mg: float
    replaced: TreatmentSession | None
    violations: list[Violation]


def evaluate(
    db: Session, plan: TreatmentPlan, patient: Patient, body: BookingRequest
) -> Evaluation:
    """Run the plan's rules on a proposed booking, changing nothing."""
    clinic = db.get_one(Clinic, patient.clinic_id)
    definition = definition_by_id(db, plan.protocol_version_id)
    at = to_utc(body.local_start, clinic.timezone)
    dose = body.dose_mg if body.dose_mg is not None else plan.dose_mg
    existing = _booked(db, plan.id)
    replaced = None
    if body.reschedule_of is not None:
        replaced = next((s for s in existing if s.id == body.reschedule_of), None)
        if replaced is None:
            raise NotFound("The session to reschedule is not a booked session of this plan")
    violations = check_booking(
        plan_facts(plan, definition, clinic.timezone),
        [
            BookedSession(id=str(s.id), at=s.scheduled_at, dose_mg=s.planned_dose_mg, given=False)
            for s in existing
        ],
        Proposal(at=at, dose_mg=dose, session_id=str(replaced.id) if replaced else None),
    )
    return Evaluation(at=at, dose_mg=dose, replaced=replaced, violations=violations)


def book(
    db: Session,
    principal: Principal,
    context: AuditContext,
    plan_id: uuid.UUID,
    body: BookingRequest,
) -> TreatmentSession:
    plan, patient = get_plan(db, principal, plan_id, Permission.session_book)
    lock_plan(db, plan.id)
    db.refresh(plan)
    evaluation = evaluate(db, plan, patient, body)
    violations, replaced = evaluation.violations, evaluation.replaced
    reason = (body.override_reason or "").strip()
    if violations:
        _refuse_or_accept_override(db, principal, context, patient, plan, violations, reason)
    elif reason:
        raise InvalidInput(
            "Nothing to override: the booking is within the plan", field="override_reason"
        )
    if replaced is not None:
        replaced.status = SessionStatus.cancelled
        replaced.cancelled_reason = "rescheduled"
    assert principal.user_id is not None
    session = TreatmentSession(
        plan_id=plan.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        scheduled_at=evaluation.at,
        planned_dose_mg=evaluation.dose_mg,
        status=SessionStatus.scheduled,
        booked_by_id=principal.user_id,
        overridden_rules=[v.rule for v in violations],
        override_reason=reason if violations else None,
        overridden_by_id=principal.user_id if violations else None,
    )
    db.add(session)
    db.flush()
    if replaced is not None:
        sync_session_dues(db, replaced)
    sync_session_dues(db, session)
    record(
        db,
        context,
        "session.book.override" if violations else "session.book",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_session",
        resource_id=session.id,
        detail={
            "at": evaluation.at.isoformat(),
            "dose_mg": evaluation.dose_mg,
            "violations": _violations_detail(violations),
            "reason": session.override_reason,
            "rescheduled": str(replaced.id) if replaced else None,
        },
    )
    if violations:
        # A booking past the plan's limits is itself a sign the dependence watch looks at.
        reevaluate(db, patient.id, context)
    return session


def record_refusal(
    db: Session,
    context: AuditContext,
    patient: Patient,
    plan: TreatmentPlan,
    violations: list[Violation],
    override_reason: str | None,
) -> None:
    """The audit record of a refused booking: which rules, with their numbers."""
    record(
        db,
        context,
        "session.book",
        outcome=Outcome.denied,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_plan",
        resource_id=plan.id,
        detail={"violations": _violations_detail(violations), "override_reason": override_reason},
    )


def _refuse_or_accept_override(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient: Patient,
    plan: TreatmentPlan,
    violations: list[Violation],
    reason: str,
) -> None:
    """Return only when a prescriber may and does override every violation; otherwise refuse,
    keeping an audit record of what was refused and why."""
    summary = " ".join(v.message for v in violations)
    if not reason:
        problem: Conflict | Forbidden | InvalidInput = Conflict(
            f"The plan does not allow this booking. {summary}",
            violations=_violations_detail(violations),
        )
    elif not principal.can(Permission.schedule_override, patient.clinic_id):
        problem = Forbidden("Only a prescriber can book past the plan's limits")
    elif not all(v.overridable for v in violations):
        problem = Conflict(
            f"This cannot be overridden. {summary}", violations=_violations_detail(violations)
        )
    elif len(reason) < MIN_OVERRIDE_REASON:
        problem = InvalidInput(
            f"An override needs a written reason (at least {MIN_OVERRIDE_REASON} characters)",
            field="override_reason",
        )
    else:
        return
    discard_work(db)
    record_refusal(db, context, patient, plan, violations, reason or None)
    raise kept(problem)


def cancel(
    db: Session, principal: Principal, context: AuditContext, session_id: uuid.UUID, reason: str
) -> TreatmentSession:
    session = db.get(TreatmentSession, session_id)
    if session is None:
        raise NotFound("No such session")
    get_plan(db, principal, session.plan_id, Permission.session_book)
    if session.status is not SessionStatus.scheduled:
        raise Conflict(
            f"The session is {session.status.value}; only a scheduled one can be cancelled"
        )
    session.status = SessionStatus.cancelled
    session.cancelled_reason = reason.strip()
    sync_session_dues(db, session)
    record(
        db,
        context,
        "session.cancel",
        patient_id=session.patient_id,
        clinic_id=session.clinic_id,
        resource_type="treatment_session",
        resource_id=session.id,
        detail={"reason": session.cancelled_reason},
    )
    return session


def sessions_of(db: Session, principal: Principal, plan_id: uuid.UUID) -> list[TreatmentSession]:
    plan, _ = get_plan(db, principal, plan_id, Permission.patient_read)
    return list(
        db.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.plan_id == plan.id)
            .order_by(TreatmentSession.scheduled_at)
        )
    )


def clinic_timezone(db: Session, clinic_id: uuid.UUID) -> str:
    return db.get_one(Clinic, clinic_id).timezone

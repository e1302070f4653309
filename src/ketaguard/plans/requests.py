"""A patient's requests for extra, earlier or higher-dose sessions: recorded whatever the answer,
because asking is itself one of the signs the dependence watch looks at (reference §7)."""

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.dependence.evaluation import reevaluate
from ketaguard.kit.errors import Conflict, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans.models import PlanStatus, RequestDecision, SessionRequest, TreatmentPlan
from ketaguard.plans.schemas import RequestCreate
from ketaguard.plans.service import get_plan


def _store(
    db: Session,
    context: AuditContext,
    plan: TreatmentPlan,
    clinic_id: uuid.UUID,
    recorded_by: uuid.UUID,
    body: RequestCreate,
) -> SessionRequest:
    request = SessionRequest(
        patient_id=plan.patient_id,
        plan_id=plan.id,
        kind=body.kind,
        details=body.details.strip(),
        requested_at=body.requested_at or utcnow(),
        recorded_by_id=recorded_by,
        decision=RequestDecision.pending,
    )
    db.add(request)
    db.flush()
    record(
        db,
        context,
        "request.create",
        patient_id=plan.patient_id,
        clinic_id=clinic_id,
        resource_type="session_request",
        resource_id=request.id,
        detail={"kind": body.kind.value, "details": request.details},
    )
    reevaluate(db, plan.patient_id, context)
    return request


def record_request(
    db: Session,
    principal: Principal,
    context: AuditContext,
    plan_id: uuid.UUID,
    body: RequestCreate,
) -> SessionRequest:
    plan, patient = get_plan(db, principal, plan_id, Permission.request_record)
    assert principal.user_id is not None
    return _store(db, context, plan, patient.clinic_id, principal.user_id, body)


def request_from_patient(
    db: Session, principal: Principal, context: AuditContext, body: RequestCreate
) -> SessionRequest:
    plan = db.scalar(
        select(TreatmentPlan)
        .where(
            TreatmentPlan.patient_id == principal.patient_id,
            TreatmentPlan.status.in_([PlanStatus.active, PlanStatus.paused]),
        )
        .order_by(TreatmentPlan.created_at.desc())
    )
    if plan is None:
        raise Conflict("You have no current treatment plan to ask about")
    clinic_id = db.get_one(Patient, plan.patient_id).clinic_id
    assert principal.user_id is not None
    return _store(db, context, plan, clinic_id, principal.user_id, body)


def decide(
    db: Session,
    principal: Principal,
    context: AuditContext,
    request_id: uuid.UUID,
    decision: RequestDecision,
    reason: str,
) -> SessionRequest:
    request = db.get(SessionRequest, request_id)
    if request is None:
        raise NotFound("No such request")
    _, patient = get_plan(db, principal, request.plan_id, Permission.request_decide)
    # Two prescribers answering at once: only the update that finds it pending counts.
    decided = db.execute(
        update(SessionRequest)
        .where(SessionRequest.id == request.id, SessionRequest.decision == RequestDecision.pending)
        .values(
            decision=decision,
            decided_by_id=principal.user_id,
            decided_at=utcnow(),
            decision_reason=reason.strip(),
        )
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This request was already answered")
    db.refresh(request)
    record(
        db,
        context,
        "request.decide",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="session_request",
        resource_id=request.id,
        detail={"kind": request.kind.value, "decision": decision.value, "reason": reason.strip()},
    )
    reevaluate(db, patient.id, context)
    return request


def requests_of(db: Session, principal: Principal, plan_id: uuid.UUID) -> list[SessionRequest]:
    plan, _ = get_plan(db, principal, plan_id, Permission.patient_read)
    return list(
        db.scalars(
            select(SessionRequest)
            .where(SessionRequest.plan_id == plan.id)
            .order_by(SessionRequest.requested_at)
        )
    )

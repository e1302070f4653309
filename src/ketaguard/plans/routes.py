import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from ketaguard.auth.deps import PatientAccount, audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession
from ketaguard.plans import requests, service
from ketaguard.plans.models import RequestDecision, TreatmentPlan
from ketaguard.plans.schemas import (
    PlanCreate,
    PlanOut,
    RequestCreate,
    RequestDecisionIn,
    RequestOut,
    StatusChange,
    StatusChangeOut,
)
from ketaguard.protocols.service import version_by_id
from ketaguard.sessions import booking
from ketaguard.sessions.models import TreatmentSession
from ketaguard.sessions.schemas import BookingRequest, Cancellation, SessionOut

router = APIRouter(prefix="/api", tags=["plans"])


def _plan_out(db: DbSession, plan: TreatmentPlan) -> PlanOut:
    version = version_by_id(db, plan.protocol_version_id)
    return PlanOut.model_validate(
        {
            **{c: getattr(plan, c) for c in PlanOut.model_fields if hasattr(plan, c)},
            "protocol": version.protocol_key,
            "protocol_version": version.version,
        }
    )


def _session_out(session: TreatmentSession, timezone: str) -> SessionOut:
    out = SessionOut.model_validate(session)
    out.local_start = session.scheduled_at.astimezone(ZoneInfo(timezone)).strftime(
        f"%Y-%m-%d %H:%M {timezone}"
    )
    return out


@router.post("/patients/{patient_id}/plans", response_model=PlanOut, status_code=201)
def create_plan(
    patient_id: uuid.UUID,
    body: PlanCreate,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.plan_write)],
) -> PlanOut:
    plan = service.create_plan(db, principal, audit_context(request, principal), patient_id, body)
    return _plan_out(db, plan)


@router.get("/patients/{patient_id}/plans", response_model=list[PlanOut])
def patient_plans(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> list[PlanOut]:
    plans = service.plans_of(db, principal, audit_context(request, principal), patient_id)
    return [_plan_out(db, plan) for plan in plans]


@router.post("/plans/{plan_id}/status", response_model=PlanOut)
def change_status(
    plan_id: uuid.UUID,
    body: StatusChange,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.plan_approve)],
) -> PlanOut:
    plan = service.change_status(
        db, principal, audit_context(request, principal), plan_id, body.to, body.reason
    )
    return _plan_out(db, plan)


@router.get("/plans/{plan_id}/history", response_model=list[StatusChangeOut])
def status_history(
    plan_id: uuid.UUID,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> list[StatusChangeOut]:
    plan, _ = service.get_plan(db, principal, plan_id, Permission.patient_read)
    return [StatusChangeOut.model_validate(c) for c in service.history(db, plan.id)]


@router.post("/plans/{plan_id}/sessions", response_model=SessionOut, status_code=201)
def book_session(
    plan_id: uuid.UUID,
    body: BookingRequest,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.session_book)],
) -> SessionOut:
    session = booking.book(db, principal, audit_context(request, principal), plan_id, body)
    return _session_out(session, booking.clinic_timezone(db, session.clinic_id))


@router.get("/plans/{plan_id}/sessions", response_model=list[SessionOut])
def plan_sessions(
    plan_id: uuid.UUID,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> list[SessionOut]:
    sessions = booking.sessions_of(db, principal, plan_id)
    return [_session_out(s, booking.clinic_timezone(db, s.clinic_id)) for s in sessions]


@router.post("/sessions/{session_id}/cancel", response_model=SessionOut)
def cancel_session(
    session_id: uuid.UUID,
    body: Cancellation,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.session_book)],
) -> SessionOut:
    session = booking.cancel(
        db, principal, audit_context(request, principal), session_id, body.reason
    )
    return _session_out(session, booking.clinic_timezone(db, session.clinic_id))


@router.post("/plans/{plan_id}/requests", response_model=RequestOut, status_code=201)
def record_request(
    plan_id: uuid.UUID,
    body: RequestCreate,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.request_record)],
) -> RequestOut:
    created = requests.record_request(
        db, principal, audit_context(request, principal), plan_id, body
    )
    return RequestOut.model_validate(created)


@router.get("/plans/{plan_id}/requests", response_model=list[RequestOut])
def plan_requests(
    plan_id: uuid.UUID,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> list[RequestOut]:
    return [RequestOut.model_validate(r) for r in requests.requests_of(db, principal, plan_id)]


@router.post("/requests/{request_id}/decision", response_model=RequestOut)
def decide_request(
    request_id: uuid.UUID,
    body: RequestDecisionIn,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.request_decide)],
) -> RequestOut:
    decided = requests.decide(
        db,
        principal,
        audit_context(request, principal),
        request_id,
        RequestDecision(body.decision),
        body.reason,
    )
    return RequestOut.model_validate(decided)


@router.post("/me/requests", response_model=RequestOut, status_code=201, tags=["patient portal"])
def ask_for_session(
    body: RequestCreate, request: Request, db: DbSession, principal: PatientAccount
) -> RequestOut:
    created = requests.request_from_patient(db, principal, audit_context(request, principal), body)
    return RequestOut.model_validate(created)

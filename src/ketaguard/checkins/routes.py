"""Check-ins: the patient portal completes them; staff read them, their outcomes and the plan's
schedule, and a prescriber adjusts the schedule."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Request

from ketaguard.auth.deps import PatientAccount, audit_context, require, settings_of
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.checkins import service
from ketaguard.checkins.models import Checkin, CheckinDue, DueStatus
from ketaguard.checkins.schemas import (
    CheckinCreate,
    CheckinHistory,
    CheckinOut,
    CheckinSubmitted,
    CrisisResources,
    DueOut,
    EventOut,
    OutcomesOut,
    PointOut,
    ScheduleAdjust,
    ScheduleAdjusted,
    ScheduleOut,
    TrendPoint,
)
from ketaguard.db.session import DbSession
from ketaguard.kit.time import utcnow

router = APIRouter(prefix="/api", tags=["check-ins"])
Reader = Annotated[Principal, require(Permission.patient_read)]

CRISIS_MESSAGE = (
    "If you are thinking about ending your life or hurting yourself, please contact one of "
    "these now. Your answers have been passed to your care team for follow-up today."
)


def _out(checkin: Checkin, totals: dict[uuid.UUID, int | None]) -> CheckinOut:
    def total(response_id: uuid.UUID | None) -> int | None:
        return totals.get(response_id) if response_id is not None else None

    out = CheckinOut.model_validate(checkin)
    out.phq9_total = total(checkin.phq9_response_id)
    out.sds_total = total(checkin.sds_response_id)
    out.icsi_total = total(checkin.icsi_response_id)
    return out


def _outs(db: DbSession, checkins: list[Checkin]) -> list[CheckinOut]:
    totals = service.questionnaire_totals(db, checkins)
    return [_out(checkin, totals) for checkin in checkins]


def _submitted(request: Request, db: DbSession, result: service.Submitted) -> CheckinSubmitted:
    [out] = _outs(db, [result.checkin])
    crisis = None
    if result.checkin.suicide_risk:
        crisis = CrisisResources(
            message=CRISIS_MESSAGE, contacts=settings_of(request).crisis_contacts
        )
    return CheckinSubmitted(**out.model_dump(), crisis=crisis)


def _dues(dues: list[CheckinDue]) -> list[DueOut]:
    now = utcnow()
    return [
        DueOut.model_validate(due).model_copy(update={"open": service.is_open(due, now)})
        for due in dues
    ]


# --- Patient portal -----------------------------------------------------------------------------


@router.get("/me/checkins/due", response_model=list[DueOut], tags=["patient portal"])
def my_due_checkins(request: Request, db: DbSession, principal: PatientAccount) -> list[DueOut]:
    return _dues(service.own_dues(db, principal, audit_context(request, principal)))


@router.post(
    "/me/checkins", response_model=CheckinSubmitted, status_code=201, tags=["patient portal"]
)
def complete_my_checkin(
    body: CheckinCreate, request: Request, db: DbSession, principal: PatientAccount
) -> CheckinSubmitted:
    assert principal.patient_id is not None
    result = service.submit_checkin(
        db, principal, audit_context(request, principal), principal.patient_id, body
    )
    return _submitted(request, db, result)


@router.get("/me/checkins", response_model=CheckinHistory, tags=["patient portal"])
def my_checkins(request: Request, db: DbSession, principal: PatientAccount) -> CheckinHistory:
    checkins = service.own_checkins(db, principal, audit_context(request, principal))
    totals = service.questionnaire_totals(db, checkins)
    return CheckinHistory(
        checkins=[_out(checkin, totals) for checkin in checkins],
        trend=[
            TrendPoint(completed_at=at, phq9_total=phq9, craving=craving, sds_total=sds)
            for at, phq9, craving, sds in service.trend_of(checkins, totals)
        ],
    )


# --- Staff --------------------------------------------------------------------------------------


@router.get("/patients/{patient_id}/checkins", response_model=list[CheckinOut])
def patient_checkins(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Reader,
    follow_up: bool = False,
) -> list[CheckinOut]:
    """A patient's check-ins; `follow_up=true` keeps those whose safety alert is still open."""
    checkins = service.checkins_of(
        db, principal, audit_context(request, principal), patient_id, follow_up_only=follow_up
    )
    return _outs(db, checkins)


@router.post("/patients/{patient_id}/checkins", response_model=CheckinSubmitted, status_code=201)
def record_checkin(
    patient_id: uuid.UUID,
    body: CheckinCreate,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.screening_administer)],
) -> CheckinSubmitted:
    """A check-in the patient gave to staff (by phone, say), recorded for them."""
    result = service.submit_checkin(
        db, principal, audit_context(request, principal), patient_id, body
    )
    return _submitted(request, db, result)


@router.get("/patients/{patient_id}/checkins/due", response_model=list[DueOut])
def patient_dues(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Reader,
    status: DueStatus | None = None,
) -> list[DueOut]:
    """Check-ins due under the patient's plans; `status=missed` lists the missed ones."""
    dues = service.dues_of(db, principal, audit_context(request, principal), patient_id, status)
    return _dues(dues)


@router.get("/patients/{patient_id}/checkins/outcomes", response_model=OutcomesOut)
def patient_outcomes(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Reader,
    plan_id: uuid.UUID | None = None,
) -> OutcomesOut:
    """PHQ-9 trajectory, response, remission, time to response and loss of response of a plan
    (the latest approved one unless `plan_id` names another)."""
    found = service.plan_outcomes(
        db, principal, audit_context(request, principal), patient_id, plan_id
    )
    result = found.outcomes
    return OutcomesOut(
        plan_id=found.plan.id if found.plan is not None else None,
        baseline_total=result.baseline.total if result.baseline else None,
        baseline_completed_at=result.baseline.completed_at if result.baseline else None,
        baseline_in_measure=result.baseline_in_measure,
        first_dose_at=found.first_dose_at,
        points=[PointOut.model_validate(p, from_attributes=True) for p in result.points],
        events=[EventOut.model_validate(e, from_attributes=True) for e in result.events],
        days_to_response=result.days_to_response,
        status=result.status,
        definitions=service.outcome_definitions(found.loss_after),
    )


def _schedule_out(schedule: service.PlanSchedule) -> ScheduleOut:
    return ScheduleOut(
        plan_id=schedule.plan.id,
        definition=schedule.definition.model_dump(mode="json"),
        revision=schedule.revision,
        adjusted_at=schedule.adjusted_at,
        adjusted_by_id=schedule.adjusted_by_id,
        adjust_reason=schedule.adjust_reason,
    )


@router.get("/plans/{plan_id}/checkin-schedule", response_model=ScheduleOut)
def plan_schedule(
    plan_id: uuid.UUID, request: Request, db: DbSession, principal: Reader
) -> ScheduleOut:
    return _schedule_out(
        service.read_schedule(db, principal, audit_context(request, principal), plan_id)
    )


@router.put("/plans/{plan_id}/checkin-schedule", response_model=ScheduleAdjusted)
def adjust_plan_schedule(
    plan_id: uuid.UUID,
    body: ScheduleAdjust,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.plan_write)],
) -> ScheduleAdjusted:
    """Replace the plan's check-in schedule for this patient, saying why. Check-ins that have
    not opened yet are generated again from it."""
    adjusted = service.adjust_schedule(
        db, principal, audit_context(request, principal), plan_id, body.definition, body.reason
    )
    return ScheduleAdjusted(
        **_schedule_out(adjusted.schedule).model_dump(),
        removed_dues=adjusted.removed,
        added_dues=adjusted.added,
    )

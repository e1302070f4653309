"""Completing check-ins, reading them, their outcomes, and adjusting a plan's schedule."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.checkins import outcomes as outcome_rules
from ketaguard.checkins.dues import current_schedule, regenerate_future, schedule_row
from ketaguard.checkins.models import Checkin, CheckinDue, CheckinSchedule, DueStatus
from ketaguard.checkins.schedule import Item, ScheduleDefinition
from ketaguard.checkins.schemas import CheckinCreate
from ketaguard.clinics.models import Clinic
from ketaguard.dependence.evaluation import reevaluate
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.patients.records import audited_records
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.plans.queries import latest_approved_plan
from ketaguard.plans.service import get_plan, lock_plan
from ketaguard.screening.models import CompletedBy, EligibilityDecision, ScreeningResponse
from ketaguard.screening.schemas import ResponseCreate
from ketaguard.screening.service import CLOCK_SKEW, administer
from ketaguard.sessions.models import TreatmentSession

# The questionnaires a check-in may hold, stored as screening responses (scored by the server).
QUESTIONNAIRES: tuple[Item, ...] = ("phq9", "sds", "icsi")
# Alert rules that mean an answer signalled suicide risk (screening/alert_rules.py).
SUICIDE_RISK_RULES = "suicide_risk."
# A finished plan's schedule is part of its history.
FINISHED = frozenset({PlanStatus.completed, PlanStatus.discontinued})


@dataclass(frozen=True)
class Submitted:
    checkin: Checkin
    alerts: list[Alert]


def _patient_for_write(db: Session, principal: Principal, patient_id: uuid.UUID) -> Patient:
    if principal.patient_id is not None:
        if principal.patient_id != patient_id:
            raise NotFound("No such patient")
        return db.get_one(Patient, patient_id)
    return get_patient(db, principal, patient_id, Permission.screening_administer)


def _claim_due(
    db: Session,
    patient: Patient,
    due_id: uuid.UUID,
    completed_at: datetime,
    answered: list[Item],
) -> CheckinDue:
    due = db.get(CheckinDue, due_id)
    if due is None or due.patient_id != patient.id:
        raise NotFound("No such check-in is due", field="due_id")
    if due.status is not DueStatus.pending:
        raise Conflict(f"This check-in is {due.status.value}", status=due.status.value)
    if completed_at < due.opens_at:
        raise Conflict(f"This check-in opens at {due.opens_at.isoformat()}")
    if completed_at > due.closes_at:
        raise Conflict(f"This check-in closed at {due.closes_at.isoformat()}")
    missing = [item for item in due.items if item not in answered]
    if missing:
        raise InvalidInput(
            f"This check-in also asks for: {', '.join(missing)}", field=missing[0], missing=missing
        )
    # A second submission, or the worker marking it missed, may race this one: the conditional
    # update that still finds it pending wins.
    claimed = db.execute(
        update(CheckinDue)
        .where(CheckinDue.id == due.id, CheckinDue.status == DueStatus.pending)
        .values(status=DueStatus.completed, completed_at=completed_at)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This check-in was completed or closed meanwhile")
    db.refresh(due)
    return due


def submit_checkin(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    body: CheckinCreate,
) -> Submitted:
    """Store one check-in from the patient (or staff recording it for them), against a due one
    when given: questionnaires scored and stored, any safety alert raised, all audited, in the
    caller's transaction. Everything is checked before the first row is written."""
    patient = _patient_for_write(db, principal, patient_id)
    now = utcnow()
    completed_at = body.completed_at or now
    if completed_at > now + CLOCK_SKEW:
        raise InvalidInput("completed_at cannot be in the future", field="completed_at")
    answered = body.answered()
    due = None
    if body.due_id is not None:
        due = _claim_due(db, patient, body.due_id, completed_at, answered)
    plan = (
        db.get_one(TreatmentPlan, due.plan_id)
        if due is not None
        else latest_approved_plan(db, patient.id)
    )

    responses: dict[str, ScreeningResponse] = {}
    alerts: list[Alert] = []
    for instrument in QUESTIONNAIRES:
        answers = getattr(body, instrument)
        if answers is None:
            continue
        response, raised = administer(
            db,
            principal,
            context,
            patient.id,
            ResponseCreate(instrument=instrument, answers=answers, completed_at=completed_at),
            judge_dependence=False,
        )
        responses[instrument] = response
        alerts += raised

    assert principal.user_id is not None
    use = body.substance_use
    checkin = Checkin(
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        plan_id=plan.id if plan is not None else None,
        due_id=due.id if due is not None else None,
        completed_at=completed_at,
        completed_by=CompletedBy.patient if principal.patient_id else CompletedBy.staff,
        recorded_by_id=principal.user_id,
        items=list(answered),
        phq9_response_id=responses["phq9"].id if "phq9" in responses else None,
        sds_response_id=responses["sds"].id if "sds" in responses else None,
        icsi_response_id=responses["icsi"].id if "icsi" in responses else None,
        craving=body.craving,
        used_outside_sessions=use.used if use is not None else None,
        substance_use=[e.model_dump(mode="json") for e in use.entries] if use else [],
        withdrawal=body.withdrawal.model_dump(mode="json") if body.withdrawal else None,
        urinary=body.urinary.model_dump(mode="json") if body.urinary else None,
        memory=body.memory,
        note=body.note.strip() if body.note and body.note.strip() else None,
    )
    db.add(checkin)
    db.flush()
    _link_follow_up(checkin, alerts)
    record(
        db,
        context,
        "checkin.create",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="checkin",
        resource_id=checkin.id,
        detail={
            "due_id": str(due.id) if due is not None else None,
            "items": checkin.items,
            "suicide_risk": checkin.suicide_risk,
            "alerts": [alert.rule for alert in alerts],
        },
    )
    # The check-in and everything above are stored: the dependence watch judges them in the
    # same transaction, once for the whole check-in.
    reevaluate(db, patient.id, context)
    return Submitted(checkin=checkin, alerts=alerts)


def _link_follow_up(checkin: Checkin, alerts: list[Alert]) -> None:
    """Name on the check-in the same-day alert an answer raised (PHQ-9 item 9 above 0, reference
    §3.2 [S109]): the clinic's worklist (GET /api/alerts) shows it until acknowledged, and the
    worker escalates it when nobody does."""
    risk = [alert for alert in alerts if alert.rule.startswith(SUICIDE_RISK_RULES)]
    if not risk:
        return
    checkin.suicide_risk = True
    checkin.follow_up_alert_id = risk[0].id
    for alert in risk:
        alert.evidence = {**alert.evidence, "checkin_id": str(checkin.id)}


# --- Reading ------------------------------------------------------------------------------------


def questionnaire_totals(db: Session, checkins: Iterable[Checkin]) -> dict[uuid.UUID, int | None]:
    """Total of every questionnaire response the check-ins refer to, by response id."""
    ids = {
        response_id
        for checkin in checkins
        for response_id in (
            checkin.phq9_response_id,
            checkin.sds_response_id,
            checkin.icsi_response_id,
        )
        if response_id is not None
    }
    if not ids:
        return {}
    rows = db.execute(
        select(ScreeningResponse.id, ScreeningResponse.total).where(ScreeningResponse.id.in_(ids))
    )
    return {response_id: total for response_id, total in rows}


def _checkins_query(patient_id: uuid.UUID, follow_up_only: bool) -> Select[Checkin]:
    query = select(Checkin).where(Checkin.patient_id == patient_id)
    if follow_up_only:
        query = query.join(Alert, Alert.id == Checkin.follow_up_alert_id).where(
            Alert.acknowledged_at.is_(None)
        )
    return query.order_by(Checkin.completed_at, Checkin.created_at)


def checkins_of(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    *,
    follow_up_only: bool = False,
) -> list[Checkin]:
    return audited_records(
        db,
        principal,
        context,
        patient_id,
        lambda patient: _checkins_query(patient.id, follow_up_only),
        action="checkin.read",
        resource_type="checkin",
    )


def own_checkins(db: Session, principal: Principal, context: AuditContext) -> list[Checkin]:
    patient = _own_patient(db, principal)
    checkins = list(db.scalars(_checkins_query(patient.id, follow_up_only=False)))
    record(
        db,
        context,
        "checkin.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="checkin",
        detail={"count": len(checkins), "own_record": True},
    )
    return checkins


def _own_patient(db: Session, principal: Principal) -> Patient:
    assert principal.patient_id is not None
    return db.get_one(Patient, principal.patient_id)


def _dues_query(patient_id: uuid.UUID, status: DueStatus | None) -> Select[CheckinDue]:
    query = select(CheckinDue).where(CheckinDue.patient_id == patient_id)
    if status is not None:
        query = query.where(CheckinDue.status == status)
    return query.order_by(CheckinDue.opens_at, CheckinDue.slot)


def dues_of(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    status: DueStatus | None,
) -> list[CheckinDue]:
    return audited_records(
        db,
        principal,
        context,
        patient_id,
        lambda patient: _dues_query(patient.id, status),
        action="checkin.due.read",
        resource_type="checkin_due",
    )


def own_dues(db: Session, principal: Principal, context: AuditContext) -> list[CheckinDue]:
    """The patient's check-ins still to do: open now, or opening later."""
    patient = _own_patient(db, principal)
    dues = list(db.scalars(_dues_query(patient.id, DueStatus.pending)))
    record(
        db,
        context,
        "checkin.due.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="checkin_due",
        detail={"count": len(dues), "own_record": True},
    )
    return dues


# --- Outcomes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOutcomes:
    plan: TreatmentPlan | None
    outcomes: outcome_rules.Outcomes
    first_dose_at: datetime | None
    loss_after: int | None


def baseline_phq9(db: Session, plan: TreatmentPlan) -> ScreeningResponse | None:
    """The PHQ-9 the plan's signed eligibility decision was made on: the screening baseline."""
    if plan.eligibility_decision_id is None:
        return None
    decision = db.get_one(EligibilityDecision, plan.eligibility_decision_id)
    ids = [uuid.UUID(str(value)) for value in decision.screening_response_ids]
    return db.scalar(
        select(ScreeningResponse).where(
            ScreeningResponse.id.in_(ids),
            ScreeningResponse.patient_id == plan.patient_id,
            ScreeningResponse.instrument == "phq9",
            ScreeningResponse.total.is_not(None),
        )
    )


def _baseline(db: Session, plan: TreatmentPlan) -> outcome_rules.Score | None:
    response = baseline_phq9(db, plan)
    if response is None or response.total is None:
        return None
    return outcome_rules.Score(response.completed_at, response.total)


def plan_outcomes(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    plan_id: uuid.UUID | None,
) -> PlanOutcomes:
    """Outcomes of one plan (the latest approved one unless named): its baseline, and the PHQ-9
    of every check-in under it."""
    patient = get_patient(db, principal, patient_id, Permission.patient_read)
    if plan_id is not None:
        plan = db.get(TreatmentPlan, plan_id)
        if plan is None or plan.patient_id != patient.id:
            raise NotFound("No such plan for this patient")
    else:
        plan = latest_approved_plan(db, patient.id)
    record(
        db,
        context,
        "checkin.outcomes.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_plan",
        resource_id=plan.id if plan is not None else None,
    )
    timezone = db.get_one(Clinic, patient.clinic_id).timezone
    if plan is None:
        empty = outcome_rules.outcomes(
            None, [], loss_after=1, first_dose_at=None, timezone=timezone
        )
        return PlanOutcomes(plan=None, outcomes=empty, first_dose_at=None, loss_after=None)
    scores = [
        outcome_rules.Score(completed_at, total)
        for completed_at, total in db.execute(
            select(Checkin.completed_at, ScreeningResponse.total)
            .join(ScreeningResponse, ScreeningResponse.id == Checkin.phq9_response_id)
            .where(Checkin.plan_id == plan.id)
        )
        if total is not None
    ]
    first_dose_at = db.scalar(
        select(func.min(TreatmentSession.dosed_at)).where(TreatmentSession.plan_id == plan.id)
    )
    loss_after = current_schedule(db, plan).loss_of_response_scores.value
    found = outcome_rules.outcomes(
        _baseline(db, plan),
        scores,
        loss_after=loss_after,
        first_dose_at=first_dose_at,
        timezone=timezone,
    )
    return PlanOutcomes(
        plan=plan, outcomes=found, first_dose_at=first_dose_at, loss_after=loss_after
    )


def outcome_definitions(loss_after: int | None) -> dict[str, str]:
    """What each outcome means, with its source, for the screen to show beside the numbers."""
    fall = int(outcome_rules.RESPONSE_FALL * 100)
    definitions = {
        "response": (
            f"PHQ-9 at least {fall}% below the baseline (clinical-reference §3.2 "
            "[S105][S106][S107][S108])"
        ),
        "remission": (
            f"PHQ-9 below {outcome_rules.REMISSION_BELOW} (clinical-reference §3.2 "
            "[S105][S106][S107][S108])"
        ),
        "baseline": (
            "The PHQ-9 the plan's signed eligibility decision was made on; those measures "
            f"start from a baseline above {outcome_rules.MEASURE_BASELINE_ABOVE} (§3.2 [S105])"
        ),
        "days_to_response": (
            "Calendar days in the clinic's timezone from the plan's first dose to the first "
            "score meeting the response criterion at or after it"
        ),
    }
    if loss_after is not None:
        definitions["loss_of_response"] = (
            f"After a response, {loss_after} score(s) in a row no longer meeting the response "
            "criterion. ketaguard's definition (the reference has none); the count is set in "
            "the plan's check-in schedule (loss_of_response_scores)"
        )
    return definitions


# --- The plan's schedule ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSchedule:
    plan: TreatmentPlan
    definition: ScheduleDefinition
    revision: int
    adjusted_at: datetime | None
    adjusted_by_id: uuid.UUID | None
    adjust_reason: str | None


def read_schedule(
    db: Session, principal: Principal, context: AuditContext, plan_id: uuid.UUID
) -> PlanSchedule:
    plan, patient = get_plan(db, principal, plan_id, Permission.patient_read)
    record(
        db,
        context,
        "checkin.schedule.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_plan",
        resource_id=plan.id,
    )
    return _plan_schedule(db, plan)


def _plan_schedule(db: Session, plan: TreatmentPlan) -> PlanSchedule:
    row = db.scalar(select(CheckinSchedule).where(CheckinSchedule.plan_id == plan.id))
    return PlanSchedule(
        plan=plan,
        definition=current_schedule(db, plan),
        revision=row.revision if row else 0,
        adjusted_at=row.adjusted_at if row else None,
        adjusted_by_id=row.adjusted_by_id if row else None,
        adjust_reason=row.adjust_reason if row else None,
    )


@dataclass(frozen=True)
class Adjusted:
    schedule: PlanSchedule
    removed: int
    added: int


def adjust_schedule(
    db: Session,
    principal: Principal,
    context: AuditContext,
    plan_id: uuid.UUID,
    definition: ScheduleDefinition,
    reason: str,
) -> Adjusted:
    """A prescriber's schedule for this patient's plan. Check-ins that have not opened yet are
    generated again from it; those already open, done or missed stay as they were."""
    plan, patient = get_plan(db, principal, plan_id, Permission.plan_write)
    # A booking generating check-ins from the old schedule must not interleave with this.
    lock_plan(db, plan.id)
    db.refresh(plan)
    if plan.status in FINISHED:
        raise Conflict(f"The plan is {plan.status.value}; its schedule can no longer change")
    row = schedule_row(db, plan)
    before = row.definition
    now = utcnow()
    row.definition = definition.model_dump(mode="json")
    row.adjusted_at, row.adjusted_by_id = now, principal.user_id
    row.adjust_reason = reason.strip()
    row.revision += 1
    db.flush()
    removed, added = regenerate_future(db, plan, now)
    record(
        db,
        context,
        "checkin.schedule.adjust",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_plan",
        resource_id=plan.id,
        detail={
            "reason": row.adjust_reason,
            "before": before,
            "after": row.definition,
            "removed_dues": removed,
            "added_dues": len(added),
        },
    )
    return Adjusted(schedule=_plan_schedule(db, plan), removed=removed, added=len(added))


def trend_of(
    checkins: list[Checkin], totals: dict[uuid.UUID, int | None]
) -> list[tuple[datetime, int | None, int | None, int | None]]:
    """PHQ-9, craving and SDS over time, one row per check-in that has any of them."""
    rows = []
    for checkin in checkins:
        phq9 = totals.get(checkin.phq9_response_id) if checkin.phq9_response_id else None
        sds = totals.get(checkin.sds_response_id) if checkin.sds_response_id else None
        if phq9 is None and sds is None and checkin.craving is None:
            continue
        rows.append((checkin.completed_at, phq9, checkin.craving, sds))
    return rows


def is_open(due: CheckinDue, now: datetime) -> bool:
    return due.status is DueStatus.pending and due.opens_at <= now < due.closes_at

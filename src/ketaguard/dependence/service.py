"""The dependence watch for staff: a patient's status with its evidence, the clinic's worklist,
reviews and the prescriber's decision on them, and the clinic's numbers.

Signals are raised by ``evaluation.reevaluate`` as records are stored; here they are read, and
closed by a decision. A decision acts at once: pause and discontinue change the plan (so booking
refuses new sessions), closer monitoring makes check-ins more frequent, a referral to addiction
care is made.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.models import User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient, patient_scope
from ketaguard.checkins.dues import current_schedule
from ketaguard.checkins.schedule import ITEMS, ScheduleDefinition, plan_week
from ketaguard.checkins.service import adjust_schedule
from ketaguard.clinics.models import Clinic, Membership, Role
from ketaguard.clinics.service import (
    update_screening_settings as clinics_update_screening_settings,
)
from ketaguard.dependence.evaluation import (
    assess,
    lock_patient,
    open_review,
    open_signals,
    reevaluate,
    signal_of,
)
from ketaguard.dependence.models import (
    Closure,
    DecisionKind,
    DependenceDecision,
    DependenceReview,
    DependenceSettings,
    DependenceSignal,
    ReferralTo,
    ReviewStatus,
    SignalState,
)
from ketaguard.dependence.referrals import create_referral, local_today
from ketaguard.dependence.schemas import MIN_REASON, DecisionCreate, ReferralCreate, SettingsIn
from ketaguard.dependence.settings import STORED_THRESHOLDS, settings_of
from ketaguard.dependence.signals import Severity
from ketaguard.dependence.status import STATUS_BY_SEVERITY, DependenceStatus, StatusAssessment
from ketaguard.dependence.thresholds import SignalThresholds
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans import lifecycle
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.plans.service import change_status, lock_plan

# The plan status each acting decision moves the plan to.
PLAN_TARGET = {
    DecisionKind.pause: PlanStatus.paused,
    DecisionKind.discontinue: PlanStatus.discontinued,
}

# --- A patient's status -------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientDependence:
    patient: Patient
    assessment: StatusAssessment
    open_signals: list[DependenceSignal]
    deciding: list[uuid.UUID]
    closed_signals: list[DependenceSignal]
    review: DependenceReview | None
    latest_decision: DependenceDecision | None


def _deciding(rows: list[DependenceSignal], assessment: StatusAssessment) -> list[uuid.UUID]:
    keys = {(s.rule_id, s.evidence) for s in assessment.deciding}
    return [row.id for row in rows if (row.rule_id, signal_of(row).evidence) in keys]


def patient_dependence(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    *,
    include_closed: bool = False,
) -> PatientDependence:
    """The status derived from the open signals now, with every open signal's evidence and the
    rules the clinic's unset numbers switch off."""
    patient = get_patient(db, principal, patient_id, Permission.patient_read)
    rows = open_signals(db, patient.id)
    assessment = assess(db, patient)
    closed: list[DependenceSignal] = []
    if include_closed:
        closed = list(
            db.scalars(
                select(DependenceSignal)
                .where(
                    DependenceSignal.patient_id == patient.id,
                    DependenceSignal.state == SignalState.closed,
                )
                .order_by(DependenceSignal.closed_at.desc())
            )
        )
    latest = db.scalar(
        select(DependenceDecision)
        .where(DependenceDecision.patient_id == patient.id)
        .order_by(DependenceDecision.decided_at.desc())
        .limit(1)
    )
    record(
        db,
        context,
        "dependence.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="patient",
        resource_id=patient.id,
        detail={"status": assessment.status.value, "open": len(rows), "closed": len(closed)},
    )
    return PatientDependence(
        patient=patient,
        assessment=assessment,
        open_signals=rows,
        deciding=_deciding(rows, assessment),
        closed_signals=closed,
        review=open_review(db, patient.id),
        latest_decision=latest,
    )


# --- The clinic's worklist ----------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    status: DependenceStatus
    open_signals: int
    review: DependenceReview | None


def worklist(
    db: Session, principal: Principal, context: AuditContext, clinic_id: uuid.UUID | None
) -> list[WorklistRow]:
    """Patients with an open signal at watch or above, or an open review, in the principal's
    clinics (or the one named): the most severe status first, then the earliest review due."""
    clinics = principal.clinics_with(Permission.patient_read)
    if clinic_id is not None:
        if clinic_id not in clinics:
            raise NotFound("No such clinic")
        clinics = frozenset({clinic_id})
    highest: dict[uuid.UUID, Severity] = {}
    counts: dict[uuid.UUID, int] = {}
    for patient_id, severity, count in db.execute(
        select(DependenceSignal.patient_id, DependenceSignal.severity, func.count())
        .where(
            DependenceSignal.clinic_id.in_(clinics),
            DependenceSignal.state == SignalState.open,
            DependenceSignal.severity != Severity.info,
        )
        .group_by(DependenceSignal.patient_id, DependenceSignal.severity)
    ):
        counts[patient_id] = counts.get(patient_id, 0) + count
        if patient_id not in highest or severity.rank > highest[patient_id].rank:
            highest[patient_id] = severity
    reviews = {
        review.patient_id: review
        for review in db.scalars(
            select(DependenceReview).where(
                DependenceReview.clinic_id.in_(clinics),
                DependenceReview.status == ReviewStatus.open,
            )
        )
    }
    patients = db.scalars(
        select(Patient).where(
            Patient.id.in_(set(highest) | set(reviews)),
            patient_scope(principal, Permission.patient_read),
        )
    )
    rows = [
        WorklistRow(
            patient=patient,
            status=STATUS_BY_SEVERITY[highest[patient.id]]
            if patient.id in highest
            else DependenceStatus.none,
            open_signals=counts.get(patient.id, 0),
            review=reviews.get(patient.id),
        )
        for patient in patients
    ]
    ranks = {status: rank for rank, status in enumerate(DependenceStatus)}
    never = datetime.max.replace(tzinfo=utcnow().tzinfo)
    rows.sort(
        key=lambda row: (
            -ranks[row.status],
            row.review.due_at if row.review else never,
            row.patient.record_number,
        )
    )
    record(
        db,
        context,
        "dependence.worklist.read",
        resource_type="clinic",
        detail={"clinics": sorted(str(c) for c in clinics), "count": len(rows)},
    )
    return rows


# --- Reviews and decisions ----------------------------------------------------------------------


def _decision_of(db: Session, review: DependenceReview) -> DependenceDecision | None:
    return db.scalar(select(DependenceDecision).where(DependenceDecision.review_id == review.id))


def _review(
    db: Session, principal: Principal, review_id: uuid.UUID, permission: Permission
) -> tuple[DependenceReview, Patient]:
    review = db.get(DependenceReview, review_id)
    if review is None:
        raise NotFound("No such review")
    try:
        patient = get_patient(db, principal, review.patient_id, permission)
    except NotFound:
        raise NotFound("No such review") from None
    return review, patient


def read_review(
    db: Session, principal: Principal, context: AuditContext, review_id: uuid.UUID
) -> tuple[DependenceReview, DependenceDecision | None]:
    review, patient = _review(db, principal, review_id, Permission.patient_read)
    record(
        db,
        context,
        "dependence.review.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="dependence_review",
        resource_id=review.id,
    )
    return review, _decision_of(db, review)


def reviews_of(
    db: Session, principal: Principal, context: AuditContext, patient_id: uuid.UUID
) -> list[tuple[DependenceReview, DependenceDecision | None]]:
    patient = get_patient(db, principal, patient_id, Permission.patient_read)
    reviews = list(
        db.scalars(
            select(DependenceReview)
            .where(DependenceReview.patient_id == patient.id)
            .order_by(DependenceReview.opened_at.desc())
        )
    )
    decisions = {
        d.review_id: d
        for d in db.scalars(
            select(DependenceDecision).where(DependenceDecision.patient_id == patient.id)
        )
    }
    record(
        db,
        context,
        "dependence.review.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="dependence_review",
        detail={"count": len(reviews)},
    )
    return [(review, decisions.get(review.id)) for review in reviews]


def closer_schedule(current: ScheduleDefinition, week: int, reason_day: str) -> ScheduleDefinition:
    """The plan's schedule made closer without a new number: every check-in asks every item the
    schedule asks at all, and weekly check-ins run from this plan week."""
    asked: set[str] = set()
    for anchor in (current.before_session, current.weekly, *current.after_dose):
        if anchor is not None:
            asked.update(anchor.items)
    asked.update(entry.item for entry in current.periodic)
    every = [item for item in ITEMS if item in asked]
    data: dict[str, Any] = current.model_dump(mode="json")
    if data["before_session"] is not None:
        data["before_session"]["items"] = every
    for entry in data["after_dose"]:
        entry["items"] = every
    start = week if current.weekly is None else min(week, current.weekly.from_week.value)
    data["weekly"] = {
        "from_week": {
            "value": start,
            "source": f"prescriber's closer-monitoring decision of {reason_day} (week {start})",
            "review_locally": False,
        },
        "items": every,
    }
    data["periodic"] = []
    return ScheduleDefinition.model_validate(data, strict=False)


def _refuse_unseen_signals(db: Session, patient_id: uuid.UUID, seen: set[uuid.UUID]) -> None:
    unseen = [
        signal
        for signal in db.scalars(
            select(DependenceSignal)
            .where(
                DependenceSignal.patient_id == patient_id,
                DependenceSignal.state == SignalState.open,
            )
            .order_by(DependenceSignal.first_raised_at)
        )
        if signal.id not in seen
    ]
    if unseen:
        raise Conflict(
            "New signals were raised since you opened this review; read them, then decide: "
            + "; ".join(signal.summary for signal in unseen),
            unseen_signals=[str(signal.id) for signal in unseen],
        )


@dataclass(frozen=True)
class Decided:
    decision: DependenceDecision
    closed_signals: list[uuid.UUID]


def _check(
    db: Session, body: DecisionCreate, patient: Patient, plan: TreatmentPlan
) -> tuple[str, PlanStatus | None]:
    """Everything a decision needs, checked before anything is written."""
    reason = body.reason.strip()
    if len(reason) < MIN_REASON:
        raise InvalidInput(
            f"Write the reason for the decision (at least {MIN_REASON} characters)", field="reason"
        )
    if body.follow_up_on < local_today(db, patient.clinic_id):
        raise InvalidInput("The follow-up date is in the past", field="follow_up_on")
    if body.schedule is not None and body.kind is not DecisionKind.closer_monitoring:
        raise InvalidInput("A schedule goes with closer_monitoring only", field="schedule")
    if body.referral_name is not None and body.kind is not DecisionKind.refer_addiction_care:
        raise InvalidInput(
            "A referral name goes with refer_addiction_care only", field="referral_name"
        )
    target = PLAN_TARGET.get(body.kind)
    if (
        target is not None
        and plan.status is not target
        and not lifecycle.allowed(plan.status, target)
    ):
        raise Conflict(lifecycle.explain_refusal(plan.status, target))
    return reason, target


def decide(
    db: Session,
    principal: Principal,
    context: AuditContext,
    review_id: uuid.UUID,
    body: DecisionCreate,
) -> Decided:
    """A prescriber's decision on an open review, with its reason and follow-up date; it acts on
    the plan at once and closes the patient's open signals it reviewed."""
    review, patient = _review(db, principal, review_id, Permission.dependence_review)
    plan = db.get_one(TreatmentPlan, review.plan_id)
    # The plan before the patient, in the order booking takes them: a pause must not interleave
    # with a booking on the same plan, nor a new signal with the closing of the open ones.
    lock_plan(db, plan.id)
    lock_patient(db, patient.id)
    db.refresh(plan)
    reason, target = _check(db, body, patient, plan)
    if body.seen_signals is not None:
        _refuse_unseen_signals(db, patient.id, set(body.seen_signals))
    # Two prescribers deciding at once: only the update that finds the review open counts.
    claimed = db.execute(
        update(DependenceReview)
        .where(DependenceReview.id == review.id, DependenceReview.status == ReviewStatus.open)
        .values(status=ReviewStatus.decided)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This review was already decided")
    db.refresh(review)
    now = utcnow()
    assert principal.user_id is not None
    decision = DependenceDecision(
        review_id=review.id,
        patient_id=patient.id,
        kind=body.kind,
        reason=reason,
        follow_up_on=body.follow_up_on,
        decided_by_id=principal.user_id,
        decided_at=now,
        actions={},
    )
    db.add(decision)
    db.flush()
    actions: dict[str, object] = {}
    if target is not None and plan.status is not target:
        before = plan.status
        change_status(db, principal, context, plan.id, target, reason)
        actions["plan_status"] = {"from": before.value, "to": target.value}
    elif target is not None:
        actions["plan_status"] = {"from": plan.status.value, "to": plan.status.value}
    if body.kind is DecisionKind.closer_monitoring:
        clinic = db.get_one(Clinic, patient.clinic_id)
        week = max(1, plan_week(plan.start_date, now, clinic.timezone))
        schedule = body.schedule or closer_schedule(
            current_schedule(db, plan), week, local_today(db, patient.clinic_id).isoformat()
        )
        adjusted = adjust_schedule(db, principal, context, plan.id, schedule, reason)
        actions["schedule_revision"] = adjusted.schedule.revision
        actions["checkins_added"] = adjusted.added
    if body.kind is DecisionKind.refer_addiction_care:
        referral = create_referral(
            db,
            principal,
            context,
            patient.id,
            ReferralCreate(
                referred_to=ReferralTo.addiction_service,
                name=body.referral_name,
                note=reason,
                next_follow_up_on=body.follow_up_on,
            ),
            decision_id=decision.id,
        )
        actions["referral_id"] = str(referral.id)
    decision.actions = actions
    closed = list(
        db.scalars(
            update(DependenceSignal)
            .where(
                DependenceSignal.patient_id == patient.id,
                DependenceSignal.state == SignalState.open,
            )
            .values(
                state=SignalState.closed,
                closure=Closure.review_decision,
                closed_at=now,
                closed_by_id=principal.user_id,
                closed_reason=f"Reviewed: {body.kind.value}. {reason}",
                decision_id=decision.id,
            )
            .returning(DependenceSignal.id)
        )
    )
    record(
        db,
        context,
        "dependence.review.decide",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="dependence_review",
        resource_id=review.id,
        detail={
            "decision_id": str(decision.id),
            "kind": body.kind.value,
            "reason": reason,
            "follow_up_on": body.follow_up_on.isoformat(),
            "actions": actions,
            "closed_signals": [str(i) for i in closed],
        },
    )
    return Decided(decision=decision, closed_signals=closed)


def decision_of(
    db: Session, principal: Principal, context: AuditContext, review_id: uuid.UUID
) -> DependenceDecision:
    review, decision = read_review(db, principal, context, review_id)
    if decision is None:
        raise NotFound(f"The review is {review.status.value}: no decision yet")
    return decision


# --- The clinic's numbers -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicSettings:
    clinic: Clinic
    row: DependenceSettings | None


def read_settings(db: Session, principal: Principal, clinic_id: uuid.UUID) -> ClinicSettings:
    """Any member of the clinic's staff may see its numbers (they are not patient data)."""
    if not principal.can(Permission.patient_read, clinic_id):
        raise NotFound("No such clinic")
    return ClinicSettings(clinic=db.get_one(Clinic, clinic_id), row=settings_of(db, clinic_id))


def _insert(db: Session) -> Any:
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


def _row_for_update(db: Session, clinic_id: uuid.UUID) -> DependenceSettings:
    # Two first saves at once: the unique clinic_id lets one row in; both then lock and edit it.
    db.execute(
        _insert(db)(DependenceSettings)
        .values(id=uuid.uuid4(), created_at=utcnow(), clinic_id=clinic_id)
        .on_conflict_do_nothing(index_elements=["clinic_id"])
    )
    return db.scalars(
        select(DependenceSettings)
        .where(DependenceSettings.clinic_id == clinic_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _check_lead(db: Session, clinic_id: uuid.UUID, user_id: uuid.UUID | None) -> None:
    if user_id is None:
        return
    lead = db.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id == user_id,
            User.is_active.is_(True),
            Membership.clinic_id == clinic_id,
            Membership.role == Role.prescriber,
        )
    )
    if lead is None:
        raise InvalidInput(
            "The medical lead must be an active prescriber of this clinic", field="medical_lead_id"
        )


def update_settings(
    db: Session,
    principal: Principal,
    context: AuditContext,
    clinic_id: uuid.UUID,
    body: SettingsIn,
) -> ClinicSettings:
    """Replace the clinic's numbers (every one stated; null: not set), audited. The clinic's
    patients under a current plan are judged again at once, so no status rests on old numbers.
    That is one evaluation per such patient: a rare, deliberate change."""
    if not principal.can(Permission.dependence_settings, clinic_id):
        raise NotFound("No such clinic")
    clinic = db.get_one(Clinic, clinic_id)
    values = body.model_dump()
    try:
        SignalThresholds(
            **{name: values[name] for name in STORED_THRESHOLDS}, sds_cutoff=clinic.sds_cutoff
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), field=str(exc).split()[0]) from None
    _check_lead(db, clinic.id, body.medical_lead_id)
    row = _row_for_update(db, clinic.id)
    before = {name: _plain(getattr(row, name)) for name in values}
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by_id = utcnow(), principal.user_id
    record(
        db,
        context,
        "dependence.settings.update",
        clinic_id=clinic.id,
        resource_type="dependence_settings",
        resource_id=row.id,
        detail={"before": before, "after": {name: _plain(v) for name, v in values.items()}},
    )
    rejudge_clinic(db, clinic.id, context)
    return ClinicSettings(clinic=clinic, row=row)


def rejudge_clinic(db: Session, clinic_id: uuid.UUID, context: AuditContext) -> None:
    """Judge again every patient of the clinic under a current plan, after a number the rules
    read changed."""
    current = db.scalars(
        select(TreatmentPlan.patient_id)
        .join(Patient, Patient.id == TreatmentPlan.patient_id)
        .where(
            Patient.clinic_id == clinic_id,
            TreatmentPlan.status.in_([PlanStatus.active, PlanStatus.paused]),
            TreatmentPlan.approved_at.is_not(None),
        )
        .distinct()
    ).all()
    for patient_id in current:
        reevaluate(db, patient_id, context)


def update_screening_settings(
    db: Session, context: AuditContext, clinic: Clinic, changes: dict[str, int | None]
) -> Clinic:
    """The clinic's screening numbers; a new SDS cut-off judges the clinic's patients again, as
    the dependence settings do, so no status rests on the old cut-off."""
    updated = clinics_update_screening_settings(db, context, clinic, changes)
    if "sds_cutoff" in changes:
        rejudge_clinic(db, clinic.id, context)
    return updated


def _plain(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value

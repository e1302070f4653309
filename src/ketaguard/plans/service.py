"""Treatment plans: drafted from a protocol version, approved by a prescriber, changed with a
reason."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.checkins.dues import sync_plan_dues
from ketaguard.intake.service import current_intake_data
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.patients.records import audited_records
from ketaguard.plans import lifecycle
from ketaguard.plans.models import PlanStatus, PlanStatusChange, TreatmentPlan
from ketaguard.plans.schemas import PlanCreate
from ketaguard.protocols.definition import FixedDose, ProtocolDefinition
from ketaguard.protocols.service import definition_of, find_version
from ketaguard.screening.decisions import signed_decision

# The signed eligibility outcomes a plan may start from.
TREATABLE = frozenset({"eligible", "eligible_with_precautions"})


def dose_for(
    definition: ProtocolDefinition, patient: Patient, requested_mg: float | None, db: Session
) -> tuple[float, dict[str, object]]:
    """The individual dose and how it was reached, for staff to check."""
    dose = definition.dose
    if isinstance(dose, FixedDose):
        chosen = requested_mg if requested_mg is not None else float(dose.first_dose_mg.value)
        allowed = [float(mg) for mg in dose.allowed_mg.value]
        if chosen not in allowed:
            doses = ", ".join(f"{mg:g}" for mg in allowed)
            raise InvalidInput(
                f"{chosen:g} mg is not a dose this protocol allows ({doses} mg)", field="dose_mg"
            )
        return chosen, {
            "kind": "fixed",
            "dose_mg": chosen,
            "text": f"{chosen:g} mg, a fixed dose of {definition.id} ({dose.allowed_mg.source})",
        }
    if requested_mg is not None:
        raise InvalidInput(
            "This protocol doses by weight; leave dose_mg out and ketaguard computes it",
            field="dose_mg",
        )
    intake = current_intake_data(db, patient.id)
    if intake is None or intake.weight is None:
        raise Conflict(
            "Record the patient's weight in the intake first: this protocol doses by weight"
        )
    weight, per_kg = intake.weight.kg, float(dose.mg_per_kg.value)
    mg = round(weight * per_kg, 1)
    return mg, {
        "kind": "per_kg",
        "weight_kg": weight,
        "weight_measured_on": intake.weight.measured_on.isoformat(),
        "mg_per_kg": per_kg,
        "dose_mg": mg,
        "text": (
            f"{weight:g} kg (weighed {intake.weight.measured_on.isoformat()}) x {per_kg:g} mg/kg "
            f"= {mg:g} mg ({dose.mg_per_kg.source})"
        ),
    }


def create_plan(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    body: PlanCreate,
) -> TreatmentPlan:
    patient = get_patient(db, principal, patient_id, Permission.plan_write)
    version = find_version(db, principal, body.protocol, body.protocol_version)
    definition = definition_of(version)
    if body.planned_end_date is not None and body.planned_end_date < body.start_date:
        raise InvalidInput("planned_end_date is before start_date", field="planned_end_date")
    mg, calculation = dose_for(definition, patient, body.dose_mg, db)
    assert principal.user_id is not None
    plan = TreatmentPlan(
        patient_id=patient.id,
        protocol_version_id=version.id,
        status=PlanStatus.draft,
        start_date=body.start_date,
        planned_end_date=body.planned_end_date,
        dose_mg=mg,
        dose_calculation=calculation,
        goals=[goal.model_dump(mode="json") for goal in body.goals],
        integration_therapy=[s.model_dump(mode="json") for s in body.integration_therapy],
        review_dates=[day.isoformat() for day in body.review_dates],
        created_by_id=principal.user_id,
    )
    db.add(plan)
    db.flush()
    record(
        db,
        context,
        "plan.create",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_plan",
        resource_id=plan.id,
        detail={"protocol": version.protocol_key, "version": version.version, "dose_mg": mg},
    )
    return plan


def get_plan(
    db: Session, principal: Principal, plan_id: uuid.UUID, permission: Permission
) -> tuple[TreatmentPlan, Patient]:
    plan = db.get(TreatmentPlan, plan_id)
    if plan is None:
        raise NotFound("No such plan")
    # Scoping goes through the patient: a plan outside your scope does not exist either.
    try:
        patient = get_patient(db, principal, plan.patient_id, permission)
    except NotFound:
        raise NotFound("No such plan") from None
    return plan, patient


def lock_plan(db: Session, plan_id: uuid.UUID) -> None:
    """Hold the plan row for the rest of the transaction.

    Two bookings (or a booking and a pause) racing on one plan would each see the other's
    absence and both pass the limits; the lock makes the second wait and see the first.
    """
    db.execute(select(TreatmentPlan.id).where(TreatmentPlan.id == plan_id).with_for_update())


def change_status(
    db: Session,
    principal: Principal,
    context: AuditContext,
    plan_id: uuid.UUID,
    target: PlanStatus,
    reason: str,
) -> TreatmentPlan:
    permission = Permission.plan_approve
    plan, patient = get_plan(db, principal, plan_id, permission)
    lock_plan(db, plan.id)
    db.refresh(plan)
    current = plan.status
    if not lifecycle.allowed(current, target):
        raise Conflict(lifecycle.explain_refusal(current, target), current=current.value)
    if current is PlanStatus.draft and target is PlanStatus.active:
        decision = signed_decision(db, patient.id)
        if decision is None:
            raise Conflict(
                "A prescriber must sign off an eligibility decision before the plan starts"
            )
        if decision.final_eligibility not in TREATABLE:
            raise Conflict(
                f"The signed eligibility decision is {decision.final_eligibility}; "
                "a plan can start only from eligible or eligible with precautions"
            )
        plan.eligibility_decision_id = decision.id
        plan.approved_by_id = principal.user_id
        plan.approved_at = utcnow()
    assert principal.user_id is not None
    plan.status = target
    db.add(
        PlanStatusChange(
            plan_id=plan.id,
            from_status=current.value,
            to_status=target.value,
            reason=reason.strip(),
            changed_by_id=principal.user_id,
            changed_at=utcnow(),
        )
    )
    sync_plan_dues(db, plan)
    record(
        db,
        context,
        "plan.approve"
        if target is PlanStatus.active and current is PlanStatus.draft
        else "plan.status",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="treatment_plan",
        resource_id=plan.id,
        detail={"from": current.value, "to": target.value, "reason": reason.strip()},
    )
    return plan


def plans_of(
    db: Session, principal: Principal, context: AuditContext, patient_id: uuid.UUID
) -> list[TreatmentPlan]:
    return audited_records(
        db,
        principal,
        context,
        patient_id,
        lambda patient: (
            select(TreatmentPlan)
            .where(TreatmentPlan.patient_id == patient.id)
            .order_by(TreatmentPlan.created_at.desc())
        ),
        action="plan.read",
        resource_type="treatment_plan",
    )


def history(db: Session, plan_id: uuid.UUID) -> list[PlanStatusChange]:
    return list(
        db.scalars(
            select(PlanStatusChange)
            .where(PlanStatusChange.plan_id == plan_id)
            .order_by(PlanStatusChange.changed_at)
        )
    )

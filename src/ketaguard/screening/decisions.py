"""Eligibility decisions: computed from current intake and screenings, signed by a prescriber."""

import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.clinics.models import Clinic
from ketaguard.intake.schemas import IntakeData
from ketaguard.intake.service import current_intake
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.patients.records import audited_records
from ketaguard.screening.eligibility import (
    INSTRUMENT_IDS,
    EligibilityPolicy,
    Finding,
    InstrumentId,
    IntakeFacts,
    Medication,
    ScreeningResult,
    SubstanceUse,
    decide,
)
from ketaguard.screening.models import EligibilityDecision
from ketaguard.screening.schemas import SignOff
from ketaguard.screening.service import latest_by_instrument

# An override is a clinical judgement against the software's reading: it must say why.
MIN_OVERRIDE_REASON = 10


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def intake_facts(patient: Patient, intake: IntakeData, as_of: datetime) -> IntakeFacts:
    contraindications = intake.contraindications
    conditions = intake.relative_conditions
    return IntakeFacts(
        age_years=age_on(patient.date_of_birth, as_of.date()),
        sex=intake.sex.value,
        pregnant=intake.pregnant,
        breastfeeding=intake.breastfeeding,
        aneurysmal_vascular_disease=contraindications.aneurysmal_vascular_disease,
        arteriovenous_malformation=contraindications.arteriovenous_malformation,
        intracerebral_hemorrhage_history=contraindications.intracerebral_hemorrhage_history,
        hypersensitivity_ketamine_or_esketamine=(
            contraindications.hypersensitivity_ketamine_or_esketamine
        ),
        uncontrolled_hypertension=conditions.uncontrolled_hypertension,
        psychosis_history=conditions.psychosis_history,
        hypertensive_encephalopathy_history=conditions.hypertensive_encephalopathy_history,
        hepatic_impairment=conditions.hepatic_impairment,
        cognitive_impairment=conditions.cognitive_impairment,
        medications=tuple(
            Medication(name=m.name, classes=frozenset(c.value for c in m.classes))
            for m in intake.medications
        ),
        substance_use=tuple(
            SubstanceUse(
                substance=entry.substance.value,
                ever=entry.ever,
                last_12_months=entry.last_12_months,
                current=entry.current,
                prior_treatment=entry.prior_treatment,
            )
            for entry in intake.substance_use
        ),
        family_history_sud=intake.family_history_sud,
    )


def _finding_json(finding: Finding) -> dict[str, object]:
    return asdict(finding)


def compute(
    db: Session, principal: Principal, context: AuditContext, patient_id: uuid.UUID
) -> EligibilityDecision:
    patient = get_patient(db, principal, patient_id, Permission.intake_write)
    clinic = db.get_one(Clinic, patient.clinic_id)
    if clinic.screening_valid_days is None:
        raise Conflict(
            f"{clinic.name} has not set how many days a screening stays current; an admin sets "
            f"it with PATCH /api/admin/clinics/{clinic.id}/screening"
        )
    version = current_intake(db, patient.id)
    if version is None:
        raise Conflict("Record the patient's intake before computing eligibility")
    now = utcnow()
    intake = IntakeData.model_validate(version.data)
    latest = [
        r for r in latest_by_instrument(db, patient.id).values() if r.instrument in INSTRUMENT_IDS
    ]
    screenings = [
        ScreeningResult(
            instrument=cast(InstrumentId, response.instrument),  # filtered above
            total=response.total,
            band=response.band,
            flags=frozenset(response.flags),
            completed_at=response.completed_at,
            response_id=str(response.id),
        )
        for response in latest
    ]
    policy = EligibilityPolicy(max_screening_age=timedelta(days=clinic.screening_valid_days))
    result = decide(intake_facts(patient, intake, now), screenings, policy, as_of=now)
    assert principal.user_id is not None
    decision = EligibilityDecision(
        patient_id=patient.id,
        computed_eligibility=result.eligibility,
        computed_risk_tier=result.risk_tier,
        eligibility_reasons=[_finding_json(f) for f in result.eligibility_reasons],
        risk_reasons=[_finding_json(f) for f in result.risk_reasons],
        intake_version_id=version.id,
        screening_response_ids=[str(r.id) for r in latest],
        computed_by_id=principal.user_id,
    )
    db.add(decision)
    db.flush()
    record(
        db,
        context,
        "eligibility.compute",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="eligibility_decision",
        resource_id=decision.id,
        detail={"eligibility": result.eligibility, "risk_tier": result.risk_tier},
    )
    return decision


def decisions(
    db: Session, principal: Principal, context: AuditContext, patient_id: uuid.UUID
) -> list[EligibilityDecision]:
    return audited_records(
        db,
        principal,
        context,
        patient_id,
        lambda patient: (
            select(EligibilityDecision)
            .where(EligibilityDecision.patient_id == patient.id)
            .order_by(EligibilityDecision.created_at.desc())
        ),
        action="eligibility.read",
        resource_type="eligibility_decision",
    )


def sign_off(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    decision_id: uuid.UUID,
    body: SignOff,
) -> EligibilityDecision:
    patient = get_patient(db, principal, patient_id, Permission.eligibility_sign)
    decision = db.scalar(
        select(EligibilityDecision)
        .where(EligibilityDecision.id == decision_id, EligibilityDecision.patient_id == patient.id)
        .with_for_update()
    )
    if decision is None:
        raise NotFound("No such eligibility decision for this patient")
    if decision.signed_off_at is not None:
        raise Conflict("This decision was already signed off; compute a new one to revisit it")
    newer = db.scalar(
        select(EligibilityDecision.id).where(
            EligibilityDecision.patient_id == patient.id,
            EligibilityDecision.created_at > decision.created_at,
        )
    )
    if newer is not None:
        raise Conflict("A newer decision exists for this patient; sign that one off instead")
    eligibility = body.eligibility or decision.computed_eligibility
    risk_tier = body.risk_tier or decision.computed_risk_tier
    overridden = (eligibility, risk_tier) != (
        decision.computed_eligibility,
        decision.computed_risk_tier,
    )
    reason = (body.reason or "").strip()
    if overridden and len(reason) < MIN_OVERRIDE_REASON:
        raise InvalidInput(
            f"An override needs a written reason (at least {MIN_OVERRIDE_REASON} characters)",
            field="reason",
        )
    decision.signed_off_at = utcnow()
    decision.signed_off_by_id = principal.user_id
    decision.final_eligibility = eligibility
    decision.final_risk_tier = risk_tier
    decision.override_reason = reason if overridden else None
    record(
        db,
        context,
        "eligibility.override" if overridden else "eligibility.sign_off",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="eligibility_decision",
        resource_id=decision.id,
        detail={
            "computed": [decision.computed_eligibility, decision.computed_risk_tier],
            "final": [eligibility, risk_tier],
            "reason": decision.override_reason,
        },
    )
    return decision


def signed_decision(db: Session, patient_id: uuid.UUID) -> EligibilityDecision | None:
    """The latest signed-off decision: what a treatment plan may rely on."""
    return db.scalar(
        select(EligibilityDecision)
        .where(
            EligibilityDecision.patient_id == patient_id,
            EligibilityDecision.signed_off_at.is_not(None),
        )
        .order_by(EligibilityDecision.signed_off_at.desc())
        .limit(1)
    )

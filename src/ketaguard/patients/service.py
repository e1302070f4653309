import uuid
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.models import BreakGlassGrant
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient, patient_scope, via_break_glass
from ketaguard.clinics.models import Clinic
from ketaguard.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import CareStatus, Patient
from ketaguard.patients.schemas import PatientUpdate


def create_patient(
    db: Session,
    *,
    clinic_id: uuid.UUID,
    record_number: str,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    care_status: CareStatus = CareStatus.referred,
) -> Patient:
    if not record_number.strip():
        raise InvalidInput("Record number must not be empty")
    if not given_name.strip() or not family_name.strip():
        raise InvalidInput("Given and family name must not be empty")
    if date_of_birth > utcnow().date():
        raise InvalidInput("Date of birth cannot be in the future")
    duplicate = db.scalar(
        select(Patient.id).where(
            Patient.clinic_id == clinic_id, Patient.record_number == record_number.strip()
        )
    )
    if duplicate is not None:
        raise Conflict(f"Record number {record_number.strip()} is already in use in this clinic")
    patient = Patient(
        clinic_id=clinic_id,
        record_number=record_number.strip(),
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        date_of_birth=date_of_birth,
        care_status=care_status,
    )
    db.add(patient)
    db.flush()
    return patient


def register_patient(
    db: Session,
    principal: Principal,
    context: AuditContext,
    *,
    clinic_id: uuid.UUID,
    record_number: str,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    care_status: CareStatus,
) -> Patient:
    if not principal.can(Permission.patient_create, clinic_id):
        # A clinic you do not work in does not exist for you either.
        raise NotFound("No such clinic")
    patient = create_patient(
        db,
        clinic_id=clinic_id,
        record_number=record_number,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        care_status=care_status,
    )
    record(
        db,
        context,
        "patient.create",
        patient_id=patient.id,
        clinic_id=clinic_id,
        resource_type="patient",
        resource_id=patient.id,
    )
    return patient


def list_patients(
    db: Session, principal: Principal, context: AuditContext, *, name: str = ""
) -> list[Patient]:
    """The patients in scope; with `name`, those whose name or record number holds every word
    of it (the staff list's filter). The event names exactly the patients returned."""
    query = select(Patient).where(patient_scope(principal, Permission.patient_read))
    for word in name.split():
        query = query.where(
            or_(
                Patient.given_name.icontains(word, autoescape=True),
                Patient.family_name.icontains(word, autoescape=True),
                Patient.record_number.icontains(word, autoescape=True),
            )
        )
    patients = list(db.scalars(query.order_by(Patient.family_name, Patient.given_name, Patient.id)))
    detail: dict[str, object] = {
        "count": len(patients),
        "patient_ids": [str(p.id) for p in patients],
    }
    if name.strip():
        detail["name"] = name.strip()
    record(db, context, "patient.list", resource_type="patient", detail=detail)
    return patients


def read_patient(
    db: Session, principal: Principal, context: AuditContext, patient_id: uuid.UUID
) -> Patient:
    patient = get_patient(db, principal, patient_id, Permission.patient_read)
    _record_read(db, context, patient, break_glass=via_break_glass(principal, patient))
    return patient


def _record_read(db: Session, context: AuditContext, patient: Patient, **detail: bool) -> None:
    record(
        db,
        context,
        "patient.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="patient",
        resource_id=patient.id,
        detail={name: True for name, flag in detail.items() if flag},
    )


def update_patient(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    changes: PatientUpdate,
) -> Patient:
    patient = get_patient(db, principal, patient_id, Permission.patient_update)
    fields = changes.model_dump(exclude_unset=True)
    if any(value is None for value in fields.values()):
        raise InvalidInput("Fields may be changed but not cleared")
    if "date_of_birth" in fields and fields["date_of_birth"] > utcnow().date():
        raise InvalidInput("Date of birth cannot be in the future")
    before = {name: str(getattr(patient, name)) for name in fields}
    for name, value in fields.items():
        setattr(patient, name, value.strip() if isinstance(value, str) else value)
    db.flush()
    record(
        db,
        context,
        "patient.update",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="patient",
        resource_id=patient.id,
        detail={"before": before, "after": {name: str(getattr(patient, name)) for name in fields}},
    )
    return patient


def open_break_glass(
    db: Session,
    principal: Principal,
    context: AuditContext,
    *,
    patient_id: uuid.UUID,
    reason: str,
    minutes: int,
) -> BreakGlassGrant:
    """Emergency access for a prescriber to a patient of another clinic in the organisation."""
    assert principal.user_id is not None
    patient = db.scalar(
        select(Patient)
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(Patient.id == patient_id, Clinic.organisation_id == principal.organisation_id)
    )
    if patient is None:
        raise NotFound("No such patient")
    if principal.can(Permission.patient_read, patient.clinic_id):
        raise Conflict("This patient is in one of your clinics; no emergency access is needed")
    if not reason.strip() or len(reason.strip()) < 10:
        raise InvalidInput("State the reason for emergency access (at least 10 characters)")
    if not principal.can(Permission.break_glass):
        raise Forbidden("Your role does not allow emergency access")
    grant = BreakGlassGrant(
        user_id=principal.user_id,
        patient_id=patient.id,
        reason=reason.strip(),
        expires_at=utcnow() + timedelta(minutes=minutes),
    )
    db.add(grant)
    db.flush()
    record(
        db,
        context,
        "break_glass.open",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="break_glass_grant",
        resource_id=grant.id,
        detail={"reason": grant.reason, "expires_at": grant.expires_at.isoformat()},
    )
    return grant


def read_own_record(db: Session, context: AuditContext, patient_id: uuid.UUID) -> Patient:
    patient = db.get_one(Patient, patient_id)
    _record_read(db, context, patient, own_record=True)
    return patient

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.kit.errors import Conflict, InvalidInput
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import CareStatus, Patient


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

"""Factory functions for tests: each builds a valid record through the domain services."""

import itertools
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ketaguard.auth.models import User
from ketaguard.auth.service import create_user
from ketaguard.clinics.models import Clinic, Organisation, Role
from ketaguard.clinics.service import add_membership, create_clinic, create_organisation
from ketaguard.patients.models import CareStatus, Patient
from ketaguard.patients.service import create_patient

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_sequence)}-{uuid.uuid4().hex[:6]}"


def make_organisation(db: Session, name: str | None = None) -> Organisation:
    return create_organisation(db, name or _unique("Organisation"))


def make_clinic(
    db: Session,
    organisation: Organisation | None = None,
    *,
    name: str | None = None,
    timezone: str = "America/Chicago",
) -> Clinic:
    organisation = organisation or make_organisation(db)
    return create_clinic(db, organisation, name=name or _unique("Clinic"), timezone=timezone)


def make_staff(db: Session, clinic: Clinic, role: Role, *, email: str | None = None) -> User:
    user = create_user(
        db,
        organisation_id=clinic.organisation_id,
        email=email or f"{_unique(role.value)}@clinic.example.org",
        full_name=f"Test {role.value.replace('_', ' ').title()}",
        password=PASSWORD,
    )
    add_membership(db, user_id=user.id, clinic=clinic, role=role)
    return user


def make_patient(
    db: Session,
    clinic: Clinic,
    *,
    care_status: CareStatus = CareStatus.screening,
    date_of_birth: date = date(1985, 6, 15),
) -> Patient:
    return create_patient(
        db,
        clinic_id=clinic.id,
        record_number=_unique("MRN"),
        given_name="Pat",
        family_name="Synthetic",
        date_of_birth=date_of_birth,
        care_status=care_status,
    )


@dataclass(frozen=True)
class Personas:
    """The people access tests talk about, in two clinics of one organisation."""

    clinic_a: Clinic
    clinic_b: Clinic
    admin_a: User
    prescriber_a: User
    nurse_a: User
    therapist_a: User
    front_desk_a: User
    prescriber_b: User
    patient_a: Patient
    patient_b: Patient


def make_personas(db: Session) -> Personas:
    organisation = make_organisation(db)
    clinic_a = make_clinic(db, organisation, name="Clinic A")
    clinic_b = make_clinic(db, organisation, name="Clinic B", timezone="Europe/London")
    return Personas(
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        admin_a=make_staff(db, clinic_a, Role.admin),
        prescriber_a=make_staff(db, clinic_a, Role.prescriber),
        nurse_a=make_staff(db, clinic_a, Role.nurse),
        therapist_a=make_staff(db, clinic_a, Role.therapist),
        front_desk_a=make_staff(db, clinic_a, Role.front_desk),
        prescriber_b=make_staff(db, clinic_b, Role.prescriber),
        patient_a=make_patient(db, clinic_a),
        patient_b=make_patient(db, clinic_b),
    )

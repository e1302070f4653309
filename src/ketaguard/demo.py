"""A realistic synthetic organisation for trying ketaguard. Every name and date here is invented.

Each domain adds its demo data as a step; `build_demo` runs the steps in order, in one transaction,
so a failed build leaves nothing behind.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ketaguard.auth.models import AccountKind
from ketaguard.auth.service import create_user
from ketaguard.checkins.demo import checkins_demo
from ketaguard.clinics.models import Role
from ketaguard.clinics.service import (
    add_membership,
    create_clinic,
    create_organisation,
    find_organisation,
)
from ketaguard.dependence.demo import dependence_demo
from ketaguard.kit.demo import DemoContext, DemoStep
from ketaguard.patients.models import CareStatus
from ketaguard.patients.service import create_patient
from ketaguard.plans.demo import plans_demo
from ketaguard.screening.demo import screening_demo
from ketaguard.sessions.demo import sessions_demo

DEMO_ORGANISATION = "Northwind Mood Clinics (demo)"
# Shared by every demo login and printed in the README: the demo is for trying, never for real data.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105
EMAIL_DOMAIN = "demo.example.org"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    clinics: str


CLINICS = {
    "downtown": ("Northwind Downtown", "America/Chicago"),
    "harbor": ("Northwind Harbor", "America/New_York"),
}

STAFF: list[tuple[str, str, Role, tuple[str, ...]]] = [
    ("admin", "Avery Admin", Role.admin, ("downtown", "harbor")),
    ("prescriber.downtown", "Dr Priya Prescott", Role.prescriber, ("downtown",)),
    ("nurse.downtown", "Noah Nash", Role.nurse, ("downtown",)),
    ("nurse2.downtown", "Nia Norwood", Role.nurse, ("downtown",)),
    ("therapist.downtown", "Theo Thorne", Role.therapist, ("downtown",)),
    ("frontdesk.downtown", "Farah Desmond", Role.front_desk, ("downtown",)),
    ("prescriber.harbor", "Dr Hugo Hale", Role.prescriber, ("harbor",)),
    ("nurse.harbor", "Hana Hill", Role.nurse, ("harbor",)),
    ("therapist.harbor", "Tara Holt", Role.therapist, ("harbor",)),
    ("frontdesk.harbor", "Felix Harper", Role.front_desk, ("harbor",)),
]

PATIENTS: list[tuple[str, str, str, str, date, CareStatus]] = [
    ("downtown", "DT-0001", "Alex", "Rivera", date(1984, 3, 14), CareStatus.referred),
    ("downtown", "DT-0002", "Jordan", "Lee", date(1990, 7, 2), CareStatus.screening),
    ("downtown", "DT-0003", "Sam", "Okafor", date(1976, 11, 23), CareStatus.in_treatment),
    ("downtown", "DT-0004", "Casey", "Nguyen", date(1969, 1, 9), CareStatus.maintenance),
    ("downtown", "DT-0005", "Robin", "Kowalski", date(1995, 5, 30), CareStatus.paused),
    ("downtown", "DT-0006", "Morgan", "Haddad", date(1981, 9, 17), CareStatus.discharged),
    ("harbor", "HB-0001", "Taylor", "Brooks", date(1988, 2, 4), CareStatus.screening),
    ("harbor", "HB-0002", "Jamie", "Santos", date(1972, 12, 12), CareStatus.in_treatment),
    ("harbor", "HB-0003", "Quinn", "Abara", date(1993, 6, 21), CareStatus.maintenance),
    ("harbor", "HB-0004", "Riley", "Fischer", date(1965, 8, 8), CareStatus.referred),
]


# Patient portal logins: (record number, e-mail local part).
PATIENT_LOGINS = [("DT-0003", "sam.okafor")]


def _tenancy(db: Session, ctx: DemoContext) -> None:
    ctx.organisation = create_organisation(db, DEMO_ORGANISATION)
    for key, (name, timezone) in CLINICS.items():
        ctx.clinics[key] = create_clinic(db, ctx.organisation, name=name, timezone=timezone)


def _staff(db: Session, ctx: DemoContext) -> None:
    assert ctx.organisation is not None
    for local_part, full_name, role, clinic_keys in STAFF:
        email = f"{local_part}@{EMAIL_DOMAIN}"
        user = create_user(
            db,
            organisation_id=ctx.organisation.id,
            email=email,
            full_name=full_name,
            password=DEMO_PASSWORD,
        )
        ctx.staff[local_part] = user
        for key in clinic_keys:
            add_membership(db, user_id=user.id, clinic=ctx.clinics[key], role=role)


def _patients(db: Session, ctx: DemoContext) -> None:
    for clinic_key, record, given, family, born, status in PATIENTS:
        ctx.patients[record] = create_patient(
            db,
            clinic_id=ctx.clinics[clinic_key].id,
            record_number=record,
            given_name=given,
            family_name=family,
            date_of_birth=born,
            care_status=status,
        )


def _patient_accounts(db: Session, ctx: DemoContext) -> None:
    assert ctx.organisation is not None
    for record_number, local_part in PATIENT_LOGINS:
        patient = ctx.patients[record_number]
        create_user(
            db,
            organisation_id=ctx.organisation.id,
            email=f"{local_part}@{EMAIL_DOMAIN}",
            full_name=f"{patient.given_name} {patient.family_name}",
            password=DEMO_PASSWORD,
            kind=AccountKind.patient,
            patient_id=patient.id,
        )


DEMO_STEPS: list[tuple[str, DemoStep]] = [
    ("Organisation and clinics", _tenancy),
    ("Staff accounts", _staff),
    ("Patients", _patients),
    ("Patient portal accounts", _patient_accounts),
    ("Intake, screening and eligibility", screening_demo),
    ("Treatment plans and bookings", plans_demo),
    ("Supervised sessions", sessions_demo),
    ("Check-ins between sessions", checkins_demo),
    ("Watching for dependence", dependence_demo),
]


def demo_exists(db: Session) -> bool:
    return find_organisation(db, DEMO_ORGANISATION) is not None


def demo_logins() -> list[DemoLogin]:
    """The logins as the staff table defines them, so they can be shown without a database."""
    staff = [
        DemoLogin(
            email=f"{local_part}@{EMAIL_DOMAIN}",
            role=role.value,
            clinics=", ".join(CLINICS[key][0] for key in clinic_keys),
        )
        for local_part, _, role, clinic_keys in STAFF
    ]
    clinic_of_record = {record: CLINICS[key][0] for key, record, *_ in PATIENTS}
    patients = [
        DemoLogin(
            email=f"{local_part}@{EMAIL_DOMAIN}",
            role="patient",
            clinics=clinic_of_record[record_number],
        )
        for record_number, local_part in PATIENT_LOGINS
    ]
    return staff + patients


def build_demo(db: Session) -> Iterator[str]:
    """Run every step, yielding each step's label as it finishes (for a progress bar)."""
    ctx = DemoContext()
    for label, step in DEMO_STEPS:
        step(db, ctx)
        yield label

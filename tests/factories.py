"""Factory functions for tests: each builds a valid record through the domain services."""

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.auth.mfa import decrypt_secret
from ketaguard.auth.models import AccountKind, User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.service import IssuedToken, create_api_token, create_user
from ketaguard.clinics.models import Clinic, Organisation, Role
from ketaguard.clinics.service import add_membership, create_clinic, create_organisation
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import CareStatus, Patient
from ketaguard.patients.service import create_patient
from ketaguard.plans.models import PlanStatus, TreatmentPlan

PASSWORD = "correct-horse-battery"

INTAKE: dict[str, Any] = {
    "sex": "female",
    "weight": {"kg": 68.5, "measured_on": "2026-11-01"},
    "indications": ["trd"],
    "contraindications": {
        "aneurysmal_vascular_disease": False,
        "arteriovenous_malformation": False,
        "intracerebral_hemorrhage_history": False,
        "hypersensitivity_ketamine_or_esketamine": False,
    },
    "medications": [{"name": "sertraline", "classes": []}],
    "substance_use": [
        {"substance": "alcohol", "ever": True, "last_12_months": True, "current": True}
    ],
    "family_history_sud": False,
    "pregnant": False,
    "breastfeeding": False,
}

BASELINE = {
    "phq9": {f"phq9-{n}": v for n, v in enumerate([2, 2, 2, 2, 2, 2, 1, 1, 0], start=1)},
    "cssrs-screen": {"cssrs-1": 1, "cssrs-2": 0, "cssrs-6": 0},
    "dast10": {f"dast10-{n}": (1 if n == 3 else 0) for n in range(1, 11)},
    "audit-c": {"auditc-1": 1, "auditc-2": 0, "auditc-3": 0},
}
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
    # The patient account of patient_a.
    patient_user_a: User


def make_personas(db: Session) -> Personas:
    organisation = make_organisation(db)
    clinic_a = make_clinic(db, organisation, name="Clinic A")
    clinic_b = make_clinic(db, organisation, name="Clinic B", timezone="Europe/London")
    patient_a = make_patient(db, clinic_a)
    return Personas(
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        admin_a=make_staff(db, clinic_a, Role.admin),
        prescriber_a=make_staff(db, clinic_a, Role.prescriber),
        nurse_a=make_staff(db, clinic_a, Role.nurse),
        therapist_a=make_staff(db, clinic_a, Role.therapist),
        front_desk_a=make_staff(db, clinic_a, Role.front_desk),
        prescriber_b=make_staff(db, clinic_b, Role.prescriber),
        patient_a=patient_a,
        patient_b=make_patient(db, clinic_b),
        patient_user_a=create_user(
            db,
            organisation_id=organisation.id,
            email=f"{_unique('patient')}@patients.example.org",
            full_name="Pat Synthetic",
            password=PASSWORD,
            kind=AccountKind.patient,
            patient_id=patient_a.id,
        ),
    )


def current_totp(user: User, secret_key: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show, for a step after any already used."""
    secret = decrypt_secret(user.mfa_secret_encrypted or "", secret_key)
    step = max(int(utcnow().timestamp()) // 30, (user.mfa_last_step or 0) + 1) + steps_ahead
    return pyotp.TOTP(secret).at(step * 30)


def login_over_http(client: TestClient, db: Session, user: User) -> TestClient:
    """Log in as a person would: password, then enrol in or verify MFA when required.

    The client keeps the session cookie and sends the CSRF token on every request.
    """
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    secret_key = client.app.state.settings.secret_key  # type: ignore[attr-defined]
    if body["mfa"] == "enrol":
        assert client.post("/api/auth/mfa/enrol").status_code == 200
        db.refresh(user)
        confirm = client.post(
            "/api/auth/mfa/enrol/confirm", json={"code": current_totp(user, secret_key)}
        )
        assert confirm.status_code == 200, confirm.text
    elif body["mfa"] == "verify":
        db.refresh(user)
        verify = client.post("/api/auth/mfa/verify", json={"code": current_totp(user, secret_key)})
        assert verify.status_code == 204, verify.text
    return client


def make_eligible(db: Session, personas: Personas) -> Personas:
    """Patient A with intake, baseline screenings and a signed 'eligible' decision."""
    from ketaguard.audit.service import AuditContext
    from ketaguard.auth.service import principal_for_user
    from ketaguard.intake.schemas import IntakeData
    from ketaguard.intake.service import record_intake
    from ketaguard.screening import decisions
    from ketaguard.screening.schemas import ResponseCreate, SignOff
    from ketaguard.screening.service import administer

    personas.clinic_a.screening_valid_days = 30
    nurse = principal_for_user(db, personas.nurse_a, None)
    prescriber = principal_for_user(db, personas.prescriber_a, None)
    patient_id = personas.patient_a.id
    intake = IntakeData.model_validate({**INTAKE, "substance_use": []})
    record_intake(db, nurse, AuditContext(), patient_id, intake, None)
    for instrument, answers in BASELINE.items():
        body = ResponseCreate(
            instrument=instrument, answers=answers, completed_at=utcnow() - timedelta(days=1)
        )
        administer(db, nurse, AuditContext(), patient_id, body)
    decision = decisions.compute(db, nurse, AuditContext(), patient_id)
    assert decision.computed_eligibility == "eligible"
    decisions.sign_off(db, prescriber, AuditContext(), patient_id, decision.id, SignOff())
    return personas


def make_active_plan(
    db: Session, personas: Personas, *, protocol: str = "esketamine-trd", start: date
) -> TreatmentPlan:
    """An approved treatment plan for patient A, who must be eligible (make_eligible)."""
    from ketaguard.audit.service import AuditContext
    from ketaguard.auth.service import principal_for_user
    from ketaguard.plans.schemas import Goal, PlanCreate
    from ketaguard.plans.service import change_status, create_plan

    prescriber = principal_for_user(db, personas.prescriber_a, None)
    goals = [Goal(kind="phq9_response", description="PHQ-9 halved", by_week=4)]
    plan = create_plan(
        db,
        prescriber,
        AuditContext(),
        personas.patient_a.id,
        PlanCreate(protocol=protocol, start_date=start, goals=goals),
    )
    change_status(db, prescriber, AuditContext(), plan.id, PlanStatus.active, "eligible, start")
    return plan


def issue_token(db: Session, personas: Personas, name: str, *scopes: Permission) -> IssuedToken:
    """An API token for clinic A, issued by its admin."""
    return create_api_token(
        db,
        AuditContext(),
        clinic=personas.clinic_a,
        name=name,
        scopes=list(scopes),
        created_by=personas.admin_a.id,
    )

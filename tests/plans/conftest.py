from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.auth.service import principal_for_user
from ketaguard.intake.schemas import IntakeData
from ketaguard.intake.service import record_intake
from ketaguard.kit.time import utcnow
from ketaguard.screening import decisions
from ketaguard.screening.schemas import ResponseCreate, SignOff
from ketaguard.screening.service import administer
from tests.factories import Personas
from tests.intake.test_intake import INTAKE
from tests.screening.test_eligibility_api import BASELINE


@pytest.fixture
def eligible(db: Session, personas: Personas) -> Personas:
    """Patient A with intake, baseline screenings and a signed 'eligible' decision."""
    personas.clinic_a.screening_valid_days = 30
    nurse = principal_for_user(db, personas.nurse_a, None)
    prescriber = principal_for_user(db, personas.prescriber_a, None)
    patient_id = personas.patient_a.id
    record_intake(
        db, nurse, AuditContext(), patient_id, IntakeData.model_validate(
            {**INTAKE, "substance_use": []}), None,
    )  # fmt: skip
    for instrument, answers in BASELINE.items():
        body = ResponseCreate(
            instrument=instrument, answers=answers, completed_at=utcnow() - timedelta(days=1)
        )
        administer(db, nurse, AuditContext(), patient_id, body)
    decision = decisions.compute(db, nurse, AuditContext(), patient_id)
    assert decision.computed_eligibility == "eligible"
    decisions.sign_off(db, prescriber, AuditContext(), patient_id, decision.id, SignOff())
    return personas

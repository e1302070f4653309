import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketaguard.kit.errors import Conflict, InvalidInput
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import CareStatus
from ketaguard.patients.service import create_patient
from tests.factories import make_clinic, make_patient


def _new(db: Session, clinic_id: uuid.UUID, **overrides: object) -> None:
    fields: dict[str, object] = {
        "record_number": "R-1",
        "given_name": "Dana",
        "family_name": "Example",
        "date_of_birth": date(1980, 1, 1),
    }
    fields.update(overrides)
    create_patient(db, clinic_id=clinic_id, **fields)  # type: ignore[arg-type]


def test_a_patient_belongs_to_one_clinic(db: Session) -> None:
    clinic = make_clinic(db)
    patient = make_patient(db, clinic, care_status=CareStatus.in_treatment)
    assert patient.clinic_id == clinic.id
    assert patient.care_status is CareStatus.in_treatment


def test_record_numbers_are_unique_within_a_clinic_only(db: Session) -> None:
    first, second = make_clinic(db), make_clinic(db)
    _new(db, first.id)
    _new(db, second.id)
    with pytest.raises(Conflict, match="R-1 is already in use"):
        _new(db, first.id)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"record_number": " "}, "Record number"),
        ({"given_name": ""}, "name must not be empty"),
        ({"date_of_birth": utcnow().date() + timedelta(days=1)}, "future"),
    ],
)
def test_bad_patient_data_is_refused(
    db: Session, overrides: dict[str, object], message: str
) -> None:
    clinic = make_clinic(db)
    with pytest.raises(InvalidInput, match=message):
        _new(db, clinic.id, **overrides)


def test_the_database_refuses_a_patient_of_an_unknown_clinic(db: Session) -> None:
    with pytest.raises(IntegrityError):
        _new(db, uuid.uuid4())

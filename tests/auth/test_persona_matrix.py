"""Each persona gets exactly what its role allows on the patient routes."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaguard.auth.models import User
from ketaguard.auth.permissions import Permission
from tests.factories import Personas, issue_token

# persona: (sees patient A in the list (None: may not list), read A, create in A, update A,
#           read own record through the patient portal)
EXPECTED: dict[str, tuple[bool | None, int, int, int, int]] = {
    "admin_a": (True, 200, 201, 200, 403),
    "prescriber_a": (True, 200, 201, 200, 403),
    "nurse_a": (True, 200, 403, 403, 403),
    "therapist_a": (True, 200, 403, 403, 403),
    "front_desk_a": (True, 200, 201, 200, 403),
    "prescriber_b": (False, 404, 404, 404, 403),
    "patient_user_a": (None, 403, 403, 403, 200),
    "vitals_token": (None, 403, 403, 403, 403),
    "patient_reader_token": (True, 200, 403, 403, 403),
}


def _client_for(
    persona: str,
    personas: Personas,
    db: Session,
    app: FastAPI,
    login: Callable[[User], TestClient],
) -> TestClient:
    if not persona.endswith("_token"):
        return login(getattr(personas, persona))
    scope = Permission.vitals_write if persona == "vitals_token" else Permission.patient_read
    issued = issue_token(db, personas, persona, scope)
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {issued.secret}"
    return client


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_patient_routes_by_persona(
    persona: str,
    personas: Personas,
    db: Session,
    app: FastAPI,
    login: Callable[[User], TestClient],
) -> None:
    sees_a, read, create, update, own = EXPECTED[persona]
    client = _client_for(persona, personas, db, app, login)
    patient_a = personas.patient_a

    listing = client.get("/api/patients")
    if sees_a is None:
        assert listing.status_code == 403
    else:
        assert listing.status_code == 200
        ids = {p["id"] for p in listing.json()}
        assert (str(patient_a.id) in ids) is sees_a
        # Nobody in clinic A sees clinic B's patient, and clinic B's prescriber sees only B.
        assert (str(personas.patient_b.id) in ids) is (persona == "prescriber_b")

    assert client.get(f"/api/patients/{patient_a.id}").status_code == read
    new_patient = {
        "clinic_id": str(personas.clinic_a.id),
        "record_number": f"NEW-{persona}",
        "given_name": "New",
        "family_name": "Patient",
        "date_of_birth": "1990-01-01",
    }
    assert client.post("/api/patients", json=new_patient).status_code == create
    change = client.patch(f"/api/patients/{patient_a.id}", json={"care_status": "screening"})
    assert change.status_code == update
    assert client.get("/api/me/patient").status_code == own


def test_a_patient_account_sees_its_own_record(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    client = login(personas.patient_user_a)
    response = client.get("/api/me/patient")
    assert response.status_code == 200
    assert response.json()["id"] == str(personas.patient_a.id)

"""Intake over HTTP: validated, versioned, audited, scoped."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from tests.factories import INTAKE, Personas


def test_intake_is_versioned_and_every_change_audited(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    nurse = login(personas.nurse_a)
    url = f"/api/patients/{personas.patient_a.id}/intake"
    assert nurse.get(url).status_code == 404

    first = nurse.put(url, json={"data": INTAKE})
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    changed = {**INTAKE, "weight": {"kg": 70.0, "measured_on": "2026-11-15"}}
    second = nurse.put(url, json={"data": changed, "change_note": "weighed at visit"})
    assert second.json()["version"] == 2

    current = nurse.get(url).json()
    assert current["version"] == 2
    assert current["data"]["weight"]["kg"] == 70.0
    versions = nurse.get(f"{url}/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["data"]["weight"]["kg"] == 68.5

    updates = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "intake.update").order_by(AuditEvent.seq)
    ).all()
    assert [u.patient_id for u in updates] == [personas.patient_a.id] * 2
    assert '"changed":["weight"]' in updates[1].detail


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"indications": []}, "indications"),
        ({"weight": {"kg": 6800, "measured_on": "2026-11-01"}}, "kg"),
        ({"weight": {"kg": 68, "measured_on": "2999-01-01"}}, "future"),
        ({"medications": [{"name": "x", "classes": ["vitamins"]}]}, "classes"),
        (
            {"substance_use": [{"substance": "ketamine", "ever": False,
                                "last_12_months": True, "current": False}]},
            "implies use ever",
        ),
        ({"sex": "male", "pregnant": True}, "not applicable"),
        ({"indications": ["other"]}, "indication_other"),
        ({"unexpected": 1}, "unexpected"),
    ],
)  # fmt: skip
def test_bad_intake_is_refused_naming_the_field_and_stores_nothing(
    personas: Personas,
    login: Callable[[User], TestClient],
    change: dict[str, Any],
    field: str,
) -> None:
    nurse = login(personas.nurse_a)
    url = f"/api/patients/{personas.patient_a.id}/intake"
    response = nurse.put(url, json={"data": {**INTAKE, **change}})
    assert response.status_code == 422
    assert field in response.text
    assert nurse.get(url).status_code == 404


def test_intake_access_follows_roles_and_clinics(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    url = f"/api/patients/{personas.patient_a.id}/intake"
    assert login(personas.front_desk_a).put(url, json={"data": INTAKE}).status_code == 403
    assert login(personas.prescriber_b).put(url, json={"data": INTAKE}).status_code == 404
    assert login(personas.prescriber_a).put(url, json={"data": INTAKE}).status_code == 200
    assert login(personas.therapist_a).get(url).status_code == 200

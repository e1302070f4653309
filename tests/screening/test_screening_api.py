"""Administering instruments over HTTP: server-side scores, safety alerts, patient self-report."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.auth.models import User
from ketaguard.screening.models import ScreeningResponse
from tests.factories import Personas
from tests.intake.test_intake import INTAKE


def phq9(*values: int) -> dict[str, int]:
    return {f"phq9-{n}": v for n, v in enumerate(values, start=1)}


def _post(client: TestClient, personas: Personas, body: dict[str, Any]) -> Any:
    return client.post(f"/api/patients/{personas.patient_a.id}/screenings", json=body)


def _count(db: Session, model: type[Any]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_scores_come_from_the_answers_and_item9_raises_a_same_day_alert(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    nurse = login(personas.nurse_a)
    response = _post(
        nurse, personas, {"instrument": "phq9", "answers": phq9(0, 0, 1, 0, 0, 0, 0, 0, 1)}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["total"], body["band"], body["flags"]) == (2, "minimal", ["item9_positive"])
    [alert] = body["alerts"]
    assert alert["rule"] == "suicide_risk.phq9_item9"
    assert alert["severity"] == "same_day"
    assert alert["evidence"]["screening_response_id"] == body["id"]
    assert [a["id"] for a in nurse.get("/api/alerts").json()] == [alert["id"]]


def test_a_client_sent_total_is_not_accepted(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse = login(personas.nurse_a)
    body = {"instrument": "phq9", "answers": phq9(*[0] * 9), "total": 27}
    response = _post(nurse, personas, body)
    assert response.status_code == 422
    assert "total" in response.text


def test_cssrs_high_risk_raises_an_urgent_alert(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    prescriber = login(personas.prescriber_a)
    answers = {"cssrs-1": 1, "cssrs-2": 1, "cssrs-3": 1, "cssrs-4": 1, "cssrs-5": 0, "cssrs-6": 0}
    body = _post(prescriber, personas, {"instrument": "cssrs-screen", "answers": answers}).json()
    assert body["band"] == "high"
    assert [a["severity"] for a in body["alerts"]] == ["urgent"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"instrument": "phq9", "answers": phq9(0, 0, 0, 5, 0, 0, 0, 0, 0)}, "phq9-4"),
        ({"instrument": "phq9", "answers": phq9(0, 0, 0)}, "phq9-4"),
        ({"instrument": "nope", "answers": {}}, "unknown instrument"),
        (
            {"instrument": "cssrs-screen",
             "answers": {"cssrs-1": 0, "cssrs-2": 0, "cssrs-3": 1, "cssrs-6": 0}},
            "cssrs-3",
        ),
        ({"instrument": "audit-c", "answers": {"auditc-1": 1, "auditc-2": 1, "auditc-3": 1}},
         "record the patient's sex"),
        ({"instrument": "phq9", "answers": phq9(*[0] * 9), "completed_at": "2999-01-01T00:00:00Z"},
         "future"),
    ],
)  # fmt: skip
def test_bad_answers_are_refused_naming_the_item_and_nothing_is_stored(
    personas: Personas,
    login: Callable[[User], TestClient],
    db: Session,
    body: dict[str, Any],
    message: str,
) -> None:
    response = _post(login(personas.nurse_a), personas, body)
    assert response.status_code == 422
    assert message in response.text
    assert _count(db, ScreeningResponse) == 0
    assert _count(db, Alert) == 0


def test_audit_c_uses_the_sex_recorded_at_intake(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse = login(personas.nurse_a)
    nurse.put(f"/api/patients/{personas.patient_a.id}/intake", json={"data": INTAKE})
    answers = {"auditc-1": 1, "auditc-2": 1, "auditc-3": 1}
    body = _post(nurse, personas, {"instrument": "audit-c", "answers": answers}).json()
    assert body["band"] == "positive"  # 3 is positive for women, not for men ([S82])


def test_patients_complete_their_own_questionnaires_only(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    patient = login(personas.patient_user_a)
    mine = patient.post(
        "/api/me/screenings", json={"instrument": "phq9", "answers": phq9(*[1] * 9)}
    )
    assert mine.status_code == 201
    assert mine.json()["completed_by"] == "patient"
    checklist = {"instrument": "ketamine-use-disorder", "answers": {}}
    refused = patient.post("/api/me/screenings", json=checklist)
    assert refused.status_code == 422
    assert "clinician" in refused.json()["detail"]
    assert (
        _post(patient, personas, {"instrument": "phq9", "answers": phq9(*[1] * 9)}).status_code
        == 403
    )


def test_history_shows_trends_from_baseline(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse = login(personas.nurse_a)
    for day, total_items in (("2026-10-01", [3] * 8 + [0]), ("2026-10-15", [1] * 8 + [0])):
        body = {
            "instrument": "phq9",
            "answers": phq9(*total_items),
            "completed_at": f"{day}T10:00:00Z",
        }
        assert _post(nurse, personas, body).status_code == 201
    history = (
        login(personas.therapist_a)
        .get(f"/api/patients/{personas.patient_a.id}/screenings", params={"instrument": "phq9"})
        .json()
    )
    assert [r["total"] for r in history["responses"]] == [24, 8]
    [trend] = history["trends"]
    assert (trend["baseline_total"], trend["latest_total"], trend["change"]) == (24, 8, -16)
    assert trend["percent_change"] == -66.7
    patient_view = login(personas.patient_user_a).get("/api/me/screenings").json()
    assert [r["total"] for r in patient_view["responses"]] == [24, 8]


def test_instrument_definitions_are_served_for_forms(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    definitions = {i["id"]: i for i in login(personas.nurse_a).get("/api/instruments").json()}
    assert {"phq9", "cssrs-screen", "dast10", "audit-c"} <= set(definitions)
    cssrs_3 = next(i for i in definitions["cssrs-screen"]["items"] if i["id"] == "cssrs-3")
    assert cssrs_3["enable_when"] == {"item_id": "cssrs-2", "answer": 1}

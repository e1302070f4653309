from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert, AlertSeverity
from ketaguard.alerts.service import raise_alert
from ketaguard.auth.models import User
from ketaguard.clinics.models import Role
from tests.factories import Personas, make_staff


def _alert(db: Session, personas: Personas, severity: AlertSeverity, rule: str) -> Alert:
    return raise_alert(
        db,
        clinic_id=personas.clinic_a.id,
        patient_id=personas.patient_a.id,
        rule=rule,
        severity=severity,
        message="synthetic test alert",
        evidence={"test": True},
        source="test",
    )


def test_open_alerts_are_listed_most_pressing_first_and_only_in_scope(
    personas: Personas, db: Session, login: Callable[[User], TestClient]
) -> None:
    _alert(db, personas, AlertSeverity.routine, "r.routine")
    _alert(db, personas, AlertSeverity.urgent, "r.urgent")
    _alert(db, personas, AlertSeverity.same_day, "r.same_day")
    listed = login(personas.nurse_a).get("/api/alerts").json()
    assert [a["rule"] for a in listed] == ["r.urgent", "r.same_day", "r.routine"]
    assert login(personas.prescriber_b).get("/api/alerts").json() == []


def test_an_alert_is_acknowledged_once_with_the_action_taken(
    personas: Personas, db: Session, login: Callable[[User], TestClient]
) -> None:
    alert = _alert(db, personas, AlertSeverity.urgent, "r.urgent")
    nurse, other_nurse = (
        login(personas.nurse_a),
        login(make_staff(db, personas.clinic_a, Role.nurse)),
    )
    url = f"/api/alerts/{alert.id}/acknowledge"
    assert nurse.post(url, json={"action": ""}).status_code == 422
    first = nurse.post(url, json={"action": "Called patient; safety plan reviewed"})
    assert first.status_code == 200
    assert first.json()["acknowledged_by_id"] == str(personas.nurse_a.id)
    late = other_nurse.post(url, json={"action": "Called too"})
    assert late.status_code == 409
    assert login(personas.front_desk_a).post(url, json={"action": "x"}).status_code == 403
    assert nurse.get("/api/alerts").json() == []

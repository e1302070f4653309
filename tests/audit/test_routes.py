"""The audit report over HTTP: admins only, filtered, sorted, exported, and itself audited."""

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from tests.factories import Personas


def test_only_admins_read_the_audit_report(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    for persona in (personas.prescriber_a, personas.nurse_a, personas.patient_user_a):
        assert login(persona).get("/api/audit/events").status_code == 403
    assert login(personas.admin_a).get("/api/audit/events").status_code == 200


def test_filter_sort_and_reading_is_audited(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    nurse = login(personas.nurse_a)
    assert nurse.get(f"/api/patients/{personas.patient_a.id}").status_code == 200
    admin = login(personas.admin_a)

    by_nurse = admin.get(
        "/api/audit/events", params={"actor_user_id": str(personas.nurse_a.id), "sort": "action"}
    ).json()
    actions = [e["action"] for e in by_nurse["items"]]
    assert by_nurse["total"] == len(actions)
    assert actions == sorted(actions, reverse=True)
    assert {"auth.login", "patient.read"} <= set(actions)

    about_patient = admin.get(
        "/api/audit/events",
        params={"patient_id": str(personas.patient_a.id), "action": "patient.*"},
    ).json()["items"]
    assert [(e["action"], e["actor_user_id"]) for e in about_patient] == [
        ("patient.read", str(personas.nurse_a.id))
    ]
    assert about_patient[0]["address"] == "testclient"

    bad_sort = admin.get("/api/audit/events", params={"sort": "password"})
    assert bad_sort.status_code == 422
    naive = admin.get("/api/audit/events", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422

    reads = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.read")).all()
    assert [r.actor_user_id for r in reads] == [personas.admin_a.id] * 2


def test_csv_export(personas: Personas, login: Callable[[User], TestClient], db: Session) -> None:
    admin = login(personas.admin_a)
    response = admin.get("/api/audit/events.csv", params={"action": "auth.*"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert rows
    assert {row["action"][:5] for row in rows} == {"auth."}
    assert "hash" in rows[0]
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).one()


def test_a_patient_sees_who_accessed_their_record(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    login(personas.therapist_a).get(f"/api/patients/{personas.patient_a.id}")
    patient = login(personas.patient_user_a)
    history = patient.get("/api/me/access-history").json()
    assert history[0]["action"] == "patient.read"
    assert history[0]["by"] == personas.therapist_a.full_name
    assert history[0]["role"] == "therapist"
    assert "address" not in history[0]
    # Someone else's history is not reachable: the route only ever shows the caller's own.
    assert login(personas.therapist_a).get("/api/me/access-history").status_code == 403

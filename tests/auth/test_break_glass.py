"""Emergency access to a patient outside one's clinics: stated, time-limited, audited, reviewed."""

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import BreakGlassGrant, User
from ketaguard.clinics.models import Role
from ketaguard.kit.time import utcnow
from tests.factories import Personas, make_staff

REASON = "Patient arrived at our site in crisis; need medication history now"


def test_break_glass_opens_a_time_limited_audited_window(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    prescriber_b = login(personas.prescriber_b)
    chart = f"/api/patients/{personas.patient_a.id}"
    assert prescriber_b.get(chart).status_code == 404

    too_short = prescriber_b.post(f"{chart}/break-glass", json={"reason": "urgent"})
    assert too_short.status_code == 422
    opened = prescriber_b.post(f"{chart}/break-glass", json={"reason": REASON})
    assert opened.status_code == 201, opened.text

    assert prescriber_b.get(chart).status_code == 200
    # Emergency access is for reading; changing the chart still needs the clinic's own staff.
    assert prescriber_b.patch(chart, json={"care_status": "screening"}).status_code == 403
    reads = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "patient.read", AuditEvent.patient_id == personas.patient_a.id
        )
    ).all()
    assert [r.detail for r in reads] == ['{"break_glass":true}']
    [opening] = db.scalars(select(AuditEvent).where(AuditEvent.action == "break_glass.open"))
    assert REASON in opening.detail

    grant = db.get_one(BreakGlassGrant, uuid.UUID(opened.json()["id"]))
    grant.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert prescriber_b.get(chart).status_code == 404


def test_only_prescribers_may_break_glass_and_not_for_their_own_patients(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    nurse_b = login(make_staff(db, personas.clinic_b, Role.nurse))
    refused = nurse_b.post(
        f"/api/patients/{personas.patient_a.id}/break-glass", json={"reason": REASON}
    )
    assert refused.status_code == 403
    prescriber_a = login(personas.prescriber_a)
    own = prescriber_a.post(
        f"/api/patients/{personas.patient_a.id}/break-glass", json={"reason": REASON}
    )
    assert own.status_code == 409


def test_admins_review_emergency_access(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    prescriber_b = login(personas.prescriber_b)
    grant_id = prescriber_b.post(
        f"/api/patients/{personas.patient_a.id}/break-glass", json={"reason": REASON}
    ).json()["id"]
    admin = login(personas.admin_a)
    pending = admin.get("/api/admin/break-glass").json()
    assert [g["id"] for g in pending] == [grant_id]
    assert pending[0]["reason"] == REASON
    reviewed = admin.post(
        f"/api/admin/break-glass/{grant_id}/review", json={"note": "Confirmed with Dr Hale"}
    )
    assert reviewed.status_code == 200
    assert admin.get("/api/admin/break-glass").json() == []
    assert len(admin.get("/api/admin/break-glass", params={"pending": False}).json()) == 1
    again = admin.post(f"/api/admin/break-glass/{grant_id}/review", json={"note": "again"})
    assert again.status_code == 409

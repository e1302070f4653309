"""From intake to a signed eligibility decision, through the API as a clinic would do it."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from ketaguard.screening.decisions import signed_decision
from tests.factories import BASELINE, INTAKE, Personas


@pytest.fixture
def screened(personas: Personas, login: Callable[[User], TestClient]) -> TestClient:
    """A nurse's client for patient A with intake and the four baseline screenings done."""
    admin = login(personas.admin_a)
    settings = admin.patch(
        f"/api/admin/clinics/{personas.clinic_a.id}/screening", json={"screening_valid_days": 30}
    )
    assert settings.status_code == 200, settings.text
    nurse = login(personas.nurse_a)
    intake = {**INTAKE, "substance_use": []}
    assert nurse.put(_url(personas, "intake"), json={"data": intake}).status_code == 200
    for instrument, answers in BASELINE.items():
        body = {"instrument": instrument, "answers": answers}
        assert nurse.post(_url(personas, "screenings"), json=body).status_code == 201
    return nurse


def _url(personas: Personas, tail: str) -> str:
    return f"/api/patients/{personas.patient_a.id}/{tail}"


def _compute(client: TestClient, personas: Personas) -> dict[str, Any]:
    response = client.post(_url(personas, "eligibility"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_intake_to_signed_decision(
    screened: TestClient,
    personas: Personas,
    login: Callable[[User], TestClient],
    db: Session,
) -> None:
    decision = _compute(screened, personas)
    assert decision["computed_eligibility"] == "eligible"
    assert decision["computed_risk_tier"] == "low"
    assert decision["signed_off_at"] is None
    assert "support the prescriber's judgement" in decision["notice"]
    assert len(decision["screening_response_ids"]) == 4
    assert signed_decision(db, personas.patient_a.id) is None

    # Nurses compute; only a prescriber signs.
    sign_url = _url(personas, f"eligibility/{decision['id']}/sign-off")
    assert screened.post(sign_url, json={}).status_code == 403
    prescriber = login(personas.prescriber_a)
    signed = prescriber.post(sign_url, json={})
    assert signed.status_code == 200, signed.text
    assert signed.json()["final_eligibility"] == "eligible"
    assert prescriber.post(sign_url, json={}).status_code == 409
    stored = signed_decision(db, personas.patient_a.id)
    assert stored is not None
    assert str(stored.id) == decision["id"]


def test_findings_carry_their_rule_evidence_and_source(
    screened: TestClient, personas: Personas
) -> None:
    change = {**INTAKE, "substance_use": [], "contraindications": {
        **INTAKE["contraindications"], "intracerebral_hemorrhage_history": True}}  # fmt: skip
    assert screened.put(_url(personas, "intake"), json={"data": change}).status_code == 200
    decision = _compute(screened, personas)
    assert decision["computed_eligibility"] == "not_eligible"
    [reason] = [r for r in decision["eligibility_reasons"] if r["severity"] == "blocks"]
    assert reason["rule_id"] == "contraindication.intracerebral_hemorrhage"
    assert reason["evidence"] == {"field": "intracerebral_hemorrhage_history", "value": True}
    assert "[S35][S36]" in reason["source"]


def test_an_override_needs_a_reason_and_is_audited(
    screened: TestClient,
    personas: Personas,
    login: Callable[[User], TestClient],
    db: Session,
) -> None:
    decision = _compute(screened, personas)
    prescriber = login(personas.prescriber_a)
    sign_url = _url(personas, f"eligibility/{decision['id']}/sign-off")
    bare = prescriber.post(sign_url, json={"risk_tier": "elevated"})
    assert bare.status_code == 422
    assert "reason" in bare.json()["detail"]
    reason = "Collateral history from family suggests heavier past use than reported"
    overridden = prescriber.post(sign_url, json={"risk_tier": "elevated", "reason": reason})
    assert overridden.status_code == 200
    assert overridden.json()["final_risk_tier"] == "elevated"
    assert overridden.json()["override_reason"] == reason
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "eligibility.override"))
    assert reason in event.detail


def test_only_the_newest_decision_can_be_signed(
    screened: TestClient, personas: Personas, login: Callable[[User], TestClient]
) -> None:
    old = _compute(screened, personas)
    _compute(screened, personas)
    stale = login(personas.prescriber_a).post(
        _url(personas, f"eligibility/{old['id']}/sign-off"), json={}
    )
    assert stale.status_code == 409
    assert "newer decision" in stale.json()["detail"]


def test_missing_screenings_send_the_decision_to_review(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    login(personas.admin_a).patch(
        f"/api/admin/clinics/{personas.clinic_a.id}/screening", json={"screening_valid_days": 30}
    )
    nurse = login(personas.nurse_a)
    nurse.put(_url(personas, "intake"), json={"data": INTAKE})
    decision = _compute(nurse, personas)
    assert decision["computed_eligibility"] == "needs_review"
    assert any(r["rule_id"] == "screening.missing" for r in decision["eligibility_reasons"])


def test_decisions_need_the_clinic_setting_and_an_intake(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse = login(personas.nurse_a)
    unset = nurse.post(_url(personas, "eligibility"))
    assert unset.status_code == 409
    assert "how many days a screening stays current" in unset.json()["detail"]
    login(personas.admin_a).patch(
        f"/api/admin/clinics/{personas.clinic_a.id}/screening", json={"screening_valid_days": 30}
    )
    no_intake = nurse.post(_url(personas, "eligibility"))
    assert no_intake.status_code == 409
    assert "intake" in no_intake.json()["detail"]

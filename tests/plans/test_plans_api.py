"""Plans and booking through the API: limits enforced, refusals named, overrides audited."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from tests.factories import Personas, make_patient

# A Monday. Week 1 runs Monday 7 to Sunday 13 December 2026 in America/Chicago.
START = "2026-12-07"
GOALS = [{"kind": "phq9_response", "description": "PHQ-9 down by half", "by_week": 4}]


def _plan(client: TestClient, patient_id: Any, **changes: Any) -> Any:
    body = {"protocol": "esketamine-trd", "start_date": START, "goals": GOALS, **changes}
    return client.post(f"/api/patients/{patient_id}/plans", json=body)


@pytest.fixture
def prescriber(eligible: Personas, login: Callable[[User], TestClient]) -> TestClient:
    return login(eligible.prescriber_a)


@pytest.fixture
def active_plan(prescriber: TestClient, eligible: Personas) -> str:
    plan = _plan(prescriber, eligible.patient_a.id).json()
    approved = prescriber.post(
        f"/api/plans/{plan['id']}/status",
        json={"to": "active", "reason": "Eligible; baseline PHQ-9 moderate, TRD confirmed"},
    )
    assert approved.status_code == 200, approved.text
    plan_id: str = plan["id"]
    return plan_id


def _book(client: TestClient, plan_id: str, local: str, **extra: Any) -> Any:
    return client.post(f"/api/plans/{plan_id}/sessions", json={"local_start": local, **extra})


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_draft_plan_shows_its_dose_and_needs_signed_eligibility(
    prescriber: TestClient, eligible: Personas, db: Session
) -> None:
    draft = _plan(prescriber, eligible.patient_a.id)
    assert draft.status_code == 201, draft.text
    body = draft.json()
    assert (body["status"], body["dose_mg"], body["protocol_version"]) == ("draft", 56.0, 1)
    assert "56 mg" in body["dose_calculation"]["text"]

    unscreened = make_patient(db, eligible.clinic_a)
    other = _plan(prescriber, unscreened.id).json()
    refused = prescriber.post(
        f"/api/plans/{other['id']}/status", json={"to": "active", "reason": "starting treatment"}
    )
    assert refused.status_code == 409
    assert "sign off an eligibility decision" in refused.json()["detail"]


def test_plan_states_change_only_along_allowed_paths_with_a_reason(
    prescriber: TestClient,
    active_plan: str,
    login: Callable[[User], TestClient],
    eligible: Personas,
) -> None:
    url = f"/api/plans/{active_plan}/status"
    assert prescriber.post(url, json={"to": "paused", "reason": "short"}).status_code == 422
    paused = prescriber.post(url, json={"to": "paused", "reason": "Patient travelling for 3 weeks"})
    assert paused.json()["status"] == "paused"
    to_draft = prescriber.post(url, json={"to": "draft", "reason": "going back to draft"})
    assert to_draft.status_code == 409
    assert "paused plan cannot become draft" in to_draft.json()["detail"]
    nurse = login(eligible.nurse_a)
    assert nurse.post(url, json={"to": "active", "reason": "nurse resumes it"}).status_code == 403
    history = prescriber.get(f"/api/plans/{active_plan}/history").json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("draft", "active"),
        ("active", "paused"),
    ]


def test_booking_refuses_what_the_plan_forbids_naming_rule_and_numbers(
    active_plan: str, eligible: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    nurse = login(eligible.nurse_a)
    first = _book(nurse, active_plan, "2026-12-07T09:00")
    assert first.status_code == 201, first.text
    assert first.json()["local_start"] == "2026-12-07 09:00 America/Chicago"
    assert _book(nurse, active_plan, "2026-12-10T09:00", dose_mg=84).status_code == 201

    third = _book(nurse, active_plan, "2026-12-11T09:00", dose_mg=84)
    assert third.status_code == 409
    [violation] = third.json()["details"]["violations"]
    assert violation["rule"] == "too_many_in_7_days"
    assert violation["numbers"]["max_sessions_per_7_days"] == 2
    assert "2" in third.json()["detail"]
    [refusal] = [e for e in _events(db, "session.book") if e.outcome == "denied"]
    assert "too_many_in_7_days" in refusal.detail

    too_much = _book(nurse, active_plan, "2026-12-14T09:00", dose_mg=112)
    assert {v["rule"] for v in too_much.json()["details"]["violations"]} >= {"dose_above_maximum"}


def test_the_first_dose_must_be_the_protocols_first_dose(
    active_plan: str, eligible: Personas, login: Callable[[User], TestClient]
) -> None:
    refused = _book(login(eligible.nurse_a), active_plan, "2026-12-07T09:00", dose_mg=84)
    assert refused.status_code == 409
    assert [v["rule"] for v in refused.json()["details"]["violations"]] == ["first_dose_mismatch"]


def test_a_prescriber_may_override_with_a_reason_and_it_is_audited(
    prescriber: TestClient,
    active_plan: str,
    eligible: Personas,
    login: Callable[[User], TestClient],
    db: Session,
) -> None:
    nurse = login(eligible.nurse_a)
    _book(nurse, active_plan, "2026-12-07T09:00")
    _book(nurse, active_plan, "2026-12-10T09:00")
    reason = "Missed Monday session due to illness; catching up as agreed with patient"
    assert _book(nurse, active_plan, "2026-12-11T09:00", override_reason=reason).status_code == 403
    assert (
        _book(prescriber, active_plan, "2026-12-11T09:00", override_reason="because").status_code
        == 422
    )
    overridden = _book(prescriber, active_plan, "2026-12-11T09:00", override_reason=reason)
    assert overridden.status_code == 201, overridden.text
    assert overridden.json()["overridden_rules"] == ["too_many_in_7_days"]
    assert overridden.json()["override_reason"] == reason
    [event] = _events(db, "session.book.override")
    assert event.actor_user_id == eligible.prescriber_a.id
    assert reason in event.detail


def test_a_paused_plan_refuses_bookings_even_with_an_override(
    prescriber: TestClient, active_plan: str
) -> None:
    prescriber.post(
        f"/api/plans/{active_plan}/status",
        json={"to": "paused", "reason": "Review of misuse signal"},
    )
    refused = _book(prescriber, active_plan, "2026-12-07T09:00", override_reason="I really want to")
    assert refused.status_code == 409
    assert "cannot be overridden" in refused.json()["detail"]
    assert refused.json()["details"]["violations"][0]["rule"] == "plan_not_active"


def test_times_that_a_clock_change_skips_or_repeats_are_refused(
    prescriber: TestClient, eligible: Personas
) -> None:
    plan = _plan(prescriber, eligible.patient_a.id, start_date="2026-03-02").json()
    prescriber.post(
        f"/api/plans/{plan['id']}/status", json={"to": "active", "reason": "approved to start"}
    )
    skipped = _book(prescriber, plan["id"], "2026-03-08T02:30")
    assert skipped.status_code == 422
    assert "does not exist in America/Chicago" in skipped.json()["detail"]
    repeated = _book(prescriber, plan["id"], "2026-11-01T01:30")
    assert repeated.status_code == 422
    assert "happens twice" in repeated.json()["detail"]


def test_weight_based_plans_show_the_calculation(
    prescriber: TestClient, eligible: Personas
) -> None:
    plan = _plan(prescriber, eligible.patient_a.id, protocol="ketamine-iv-0.5").json()
    assert plan["dose_mg"] == 34.2  # 68.5 kg x 0.5 mg/kg, rounded to 0.1 mg
    calculation = plan["dose_calculation"]
    assert (calculation["weight_kg"], calculation["mg_per_kg"]) == (68.5, 0.5)
    assert "68.5 kg" in calculation["text"]
    assert "0.5 mg/kg" in calculation["text"]
    fixed = _plan(prescriber, eligible.patient_a.id, protocol="ketamine-iv-0.5", dose_mg=40)
    assert fixed.status_code == 422


def test_requests_are_recorded_and_answered_once(
    prescriber: TestClient,
    active_plan: str,
    eligible: Personas,
    login: Callable[[User], TestClient],
    db: Session,
) -> None:
    front_desk = login(eligible.front_desk_a)
    asked = front_desk.post(
        f"/api/plans/{active_plan}/requests",
        json={"kind": "extra", "details": "Phoned asking for an extra session this week"},
    )
    assert asked.status_code == 201
    assert asked.json()["decision"] == "pending"
    from_portal = login(eligible.patient_user_a).post(
        "/api/me/requests", json={"kind": "higher_dose", "details": "The dose is not enough"}
    )
    assert from_portal.status_code == 201
    url = f"/api/requests/{asked.json()['id']}/decision"
    declined = prescriber.post(
        url, json={"decision": "declined", "reason": "Within plan; discussed"}
    )
    assert declined.json()["decision"] == "declined"
    assert (
        prescriber.post(url, json={"decision": "granted", "reason": "changed mind"}).status_code
        == 409
    )
    kinds = [r["kind"] for r in prescriber.get(f"/api/plans/{active_plan}/requests").json()]
    assert kinds == ["extra", "higher_dose"]
    assert len(_events(db, "request.create")) == 2

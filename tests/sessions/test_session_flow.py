"""Running sessions through the API, as a nurse, a prescriber and a bedside gateway would."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.auth.models import User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.service import principal_for_user
from ketaguard.kit.time import utcnow
from ketaguard.plans.models import PlanStatus
from ketaguard.plans.schemas import Goal, PlanCreate
from ketaguard.plans.service import change_status, create_plan
from ketaguard.protocols.loader import load_builtin
from ketaguard.sessions.booking import book
from ketaguard.sessions.models import TreatmentSession, VitalReading
from ketaguard.sessions.schemas import BookingRequest
from tests.factories import Personas, issue_token

GOALS = [Goal(kind="phq9_response", description="PHQ-9 halved", by_week=4)]


def _clinic_today(personas: Personas) -> date:
    """Clinic A's date now: near midnight UTC it is not UTC's."""
    return utcnow().astimezone(ZoneInfo(personas.clinic_a.timezone)).date()


def _session(db: Session, personas: Personas, protocol: str) -> str:
    prescriber = principal_for_user(db, personas.prescriber_a, None)
    local_today = _clinic_today(personas)
    plan = create_plan(
        db,
        prescriber,
        AuditContext(),
        personas.patient_a.id,
        PlanCreate(protocol=protocol, start_date=local_today - timedelta(days=1), goals=GOALS),
    )
    change_status(db, prescriber, AuditContext(), plan.id, PlanStatus.active, "eligible, start")
    session = book(
        db,
        prescriber,
        AuditContext(),
        plan.id,
        BookingRequest(
            local_start=datetime.combine(local_today - timedelta(days=1), datetime.min.time())
        ),
    )
    return str(session.id)


def _mmhg(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}


def _at(minutes_ago: float) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).isoformat()


def _vitals(minutes_ago: float, sbp: float = 128, dbp: float = 82) -> list[dict[str, Any]]:
    at = _at(minutes_ago)
    values = {
        "systolic_bp": sbp,
        "diastolic_bp": dbp,
        "heart_rate": 72,
        "spo2": 98,
        "respiratory_rate": 14,
    }
    return [{"vital": v, "value": x, "measured_at": at} for v, x in values.items()]


def _pre_dose(protocol: str, minutes_ago: float, **extra: Any) -> dict[str, Any]:
    checks = {check.id: True for check in load_builtin()[protocol].pre_dose_checks}
    return {"checks": checks, "vitals": _vitals(minutes_ago), "moaas": 5, "craving": 1, **extra}


@pytest.fixture
def esketamine(eligible: Personas, db: Session) -> str:
    return _session(db, eligible, "esketamine-trd")


@pytest.fixture
def gateway(eligible: Personas, db: Session, app: FastAPI) -> TestClient:
    issued = issue_token(db, eligible, "Chair 2 monitor", Permission.vitals_write)
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {issued.secret}"
    return client


def test_a_full_esketamine_session_with_a_device_gateway(
    esketamine: str,
    eligible: Personas,
    login: Callable[[User], TestClient],
    gateway: TestClient,
) -> None:
    nurse, prescriber = login(eligible.nurse_a), login(eligible.prescriber_a)
    url = f"/api/sessions/{esketamine}"
    assert nurse.post(f"{url}/check-in").json()["status"] == "checked_in"
    cleared = nurse.post(f"{url}/pre-dose", json=_pre_dose("esketamine-trd", 140))
    assert cleared.status_code == 200, cleared.text
    assert (
        nurse.post(
            f"{url}/dose", json={"dose_mg": 84, "lot_number": "L1", "started_at": _at(130)}
        ).status_code
        == 409
    )
    first_device = _at(130)
    started = nurse.post(
        f"{url}/dose", json={"dose_mg": 56, "lot_number": "LOT-2291", "started_at": first_device}
    )
    assert started.json()["status"] == "dosed"
    too_fast = nurse.post(f"{url}/dose/complete", json={"device_times": [first_device, _at(128)]})
    assert too_fast.status_code == 422
    assert "protocol needs 5" in too_fast.json()["detail"]
    done = nurse.post(f"{url}/dose/complete", json={"device_times": [first_device, _at(125)]})
    assert done.json()["status"] == "monitoring"

    batch = {"device_id": "monitor-7", "readings": _vitals(90)}
    first = gateway.post(f"{url}/vitals/device", json=batch)
    assert first.status_code == 200, first.text
    assert (first.json()["added"], first.json()["duplicates"]) == (5, 0)
    again = gateway.post(f"{url}/vitals/device", json=batch)
    assert (again.json()["added"], again.json()["duplicates"]) == (0, 5)
    assert (
        nurse.post(
            f"{url}/ratings",
            json={"scale": "moaas", "answers": {"moaas-1": 5}, "measured_at": _at(60)},
        ).status_code
        == 200
    )

    early = nurse.post(
        f"{url}/discharge", json={"transport_present": True, "rems_ready_to_leave_minutes": 90}
    )
    assert early.status_code == 409
    unmet = {u["id"] for u in early.json()["details"]["unmet"]}
    assert "prescriber_cleared" in unmet
    assert prescriber.post(f"{url}/clear").status_code == 200
    nurse.post(f"{url}/vitals", json={"readings": _vitals(5)})
    no_rems_answer = nurse.post(f"{url}/discharge", json={"transport_present": True})
    assert no_rems_answer.status_code == 409
    assert "REMS" in no_rems_answer.json()["detail"]
    discharged = nurse.post(
        f"{url}/discharge", json={"transport_present": True, "rems_ready_to_leave_minutes": 95}
    )
    assert discharged.status_code == 200, discharged.text
    assert discharged.json()["status"] == "discharged"

    [form] = nurse.get("/api/rems/forms").json()
    assert form["state"] in {"pending", "due_soon"}
    assert form["total_minutes"] >= 120
    values = {f["key"]: f["value"] for f in form["fields"]}
    assert "LOT-2291" in values.values()
    pdf = nurse.get(f"/api/rems/forms/{form['id']}.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert nurse.get(f"/api/rems/forms/{form['id']}.html").status_code == 200
    submitted = nurse.post(
        f"/api/rems/forms/{form['id']}/submitted",
        json={"submitted_on": _clinic_today(eligible).isoformat(), "method": "online"},
    )
    assert submitted.json()["state"] == "submitted"
    assert nurse.get("/api/rems/forms", params={"state": "submitted"}).json()[0]["id"] == form["id"]


def test_illegal_steps_name_the_current_state(
    esketamine: str, eligible: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse = login(eligible.nurse_a)
    refused = nurse.post(
        f"/api/sessions/{esketamine}/dose",
        json={"dose_mg": 56, "lot_number": "L", "started_at": _at(1)},
    )
    assert refused.status_code == 409
    assert "The session is scheduled" in refused.json()["detail"]
    assert refused.json()["details"]["current"] == "scheduled"


def test_raised_pre_dose_bp_needs_a_prescribers_documented_decision(
    esketamine: str, eligible: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse, prescriber = login(eligible.nurse_a), login(eligible.prescriber_a)
    url = f"/api/sessions/{esketamine}"
    nurse.post(f"{url}/check-in")
    body = _pre_dose("esketamine-trd", 5)
    body["vitals"] = _vitals(5, sbp=152, dbp=94)
    held = nurse.post(f"{url}/pre-dose", json=body)
    assert held.status_code == 409
    assert "prescriber must document a decision" in held.json()["detail"]
    assert (
        nurse.post(f"{url}/pre-dose", json={**body, "prescriber_decision": "ok"}).status_code == 403
    )
    decided = prescriber.post(
        f"{url}/pre-dose",
        json={
            **body,
            "prescriber_decision": "Anxious on arrival; recheck falling; benefit outweighs",
        },
    )
    assert decided.status_code == 200
    assert decided.json()["prescriber_decision"]["findings"]


def test_impossible_readings_are_refused_per_item_and_nothing_is_stored(
    esketamine: str, eligible: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse = login(eligible.nurse_a)
    url = f"/api/sessions/{esketamine}"
    nurse.post(f"{url}/check-in")
    impossible = [
        {"vital": "spo2", "value": 140, "measured_at": _at(2)},
        {"vital": "heart_rate", "value": 0, "measured_at": _at(2)},
    ]
    readings = [*_vitals(1), *impossible]
    refused = nurse.post(f"{url}/vitals", json={"readings": readings})
    assert refused.status_code == 422
    assert [p["index"] for p in refused.json()["details"]["problems"]] == [5, 6]
    assert nurse.get(f"{url}/vitals").json() == []


def test_a_nurse_posting_vitals_from_a_session_needs_its_csrf_token(
    esketamine: str, eligible: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    nurse = login(eligible.nurse_a)
    url = f"/api/sessions/{esketamine}"
    nurse.post(f"{url}/check-in")
    body = {"readings": _vitals(1)}
    token = nurse.headers.pop("X-CSRF-Token")
    for sent in (None, "not-the-token"):
        if sent is not None:
            nurse.headers["X-CSRF-Token"] = sent
        refused = nurse.post(f"{url}/vitals", json=body)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]
    assert nurse.get(f"{url}/vitals").json() == []
    nurse.headers["X-CSRF-Token"] = token
    assert nurse.post(f"{url}/vitals", json=body).json()["added"] == len(body["readings"])


def test_the_vitals_routes_document_a_token_or_a_session(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for suffix in ("", "/device", "/fhir"):
        operation = paths[f"/api/sessions/{{session_id}}/vitals{suffix}"]["post"]
        assert operation["security"] == [{"api_token": []}, {"csrf": []}]


def test_a_reading_of_the_wrong_shape_is_refused_by_its_place_in_the_batch(
    esketamine: str, eligible: Personas, login: Callable[[User], TestClient], gateway: TestClient
) -> None:
    login(eligible.nurse_a).post(f"/api/sessions/{esketamine}/check-in")
    good = _vitals(1)
    wrong = [
        {**good[0], "unit": "mmHg"},  # a key the API does not know
        {**good[1], "measured_at": "2026-03-29T10:00:00"},  # no timezone
        {**good[2], "vital": "temperature"},
    ]
    batch = {"device_id": "monitor-7", "readings": [*good, *wrong]}
    refused = gateway.post(f"/api/sessions/{esketamine}/vitals/device", json=batch)
    assert refused.status_code == 422
    located = {tuple(error["loc"]): error["type"] for error in refused.json()["detail"]}
    first = len(good)
    assert located == {
        ("body", "readings", first, "unit"): "unexpected_keyword_argument",
        ("body", "readings", first + 1, "measured_at"): "timezone_aware",
        ("body", "readings", first + 2, "vital"): "literal_error",
    }
    stored = gateway.post(
        f"/api/sessions/{esketamine}/vitals/device", json={**batch, "readings": good}
    )
    assert stored.json()["added"] == len(good)  # nothing of the refused batch went in


def test_readings_are_stored_under_time_ordered_ids(
    esketamine: str,
    eligible: Personas,
    db: Session,
    login: Callable[[User], TestClient],
    gateway: TestClient,
) -> None:
    login(eligible.nurse_a).post(f"/api/sessions/{esketamine}/check-in")
    batch = {"device_id": "monitor-7", "readings": _vitals(3)}
    assert gateway.post(f"/api/sessions/{esketamine}/vitals/device", json=batch).status_code == 200
    ids = db.scalars(select(VitalReading.id).where(VitalReading.session_id == UUID(esketamine)))
    assert {reading_id.version for reading_id in ids} == {7}


def test_threshold_crossing_raises_an_alert_in_the_same_request(
    eligible: Personas, db: Session, login: Callable[[User], TestClient], gateway: TestClient
) -> None:
    session_id = _session(db, eligible, "ketamine-iv-0.5")
    nurse = login(eligible.nurse_a)
    url = f"/api/sessions/{session_id}"
    nurse.post(f"{url}/check-in")
    assert nurse.post(f"{url}/pre-dose", json=_pre_dose("ketamine-iv-0.5", 60)).status_code == 200
    # The plan's dose is 34.2 mg: 68.5 kg x 0.5 mg/kg.
    assert (
        nurse.post(
            f"{url}/dose", json={"dose_mg": 34.2, "lot_number": "K-1", "started_at": _at(50)}
        ).status_code
        == 200
    )
    assert (
        nurse.post(f"{url}/dose/complete", json={"infusion_ended_at": _at(10)}).status_code == 200
    )

    def pressure(at: str, systolic: float) -> dict[str, Any]:
        return {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                "effectiveDateTime": at,
                "device": {"display": "infusion-bay-1"},
                "component": [
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                        "valueQuantity": _mmhg(systolic),
                    },
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                        "valueQuantity": _mmhg(104),
                    },
                ],
            }
        }

    first_at = _at(3)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [pressure(first_at, 186)]}
    posted = gateway.post(f"{url}/vitals/fhir", json=bundle)
    assert posted.status_code == 200, posted.text
    [alert] = posted.json()["alerts"]
    assert alert["severity"] == "urgent"
    assert "186" in alert["message"]
    assert [a["id"] for a in nurse.get("/api/alerts").json()] == [alert["id"]]
    # Once the alert is acknowledged, a resent reading adds nothing and raises nothing again;
    # beside a new one, only the new one is judged.
    acknowledged = nurse.post(
        f"/api/alerts/{alert['id']}/acknowledge", json={"action": "rechecked"}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    again = gateway.post(f"{url}/vitals/fhir", json=bundle).json()
    assert (again["added"], again["duplicates"], again["alerts"]) == (0, 2, [])
    bundle["entry"].append(pressure(_at(2), 190))
    overlapping = gateway.post(f"{url}/vitals/fhir", json=bundle).json()
    assert (overlapping["added"], overlapping["duplicates"]) == (2, 2)
    assert ["190" in a["message"] for a in overlapping["alerts"]] == [True]
    bad = gateway.post(f"{url}/vitals/fhir", json={"resourceType": "Observation"})
    assert bad.status_code == 422

    # The IV protocol observes for 60 minutes from the end of the infusion (ended 10 minutes ago).
    login(eligible.prescriber_a).post(f"{url}/clear")
    early = nurse.post(f"{url}/discharge", json={"transport_present": True})
    assert early.status_code == 409
    unmet = {u["id"]: u["message"] for u in early.json()["details"]["unmet"]}
    assert "min_observation_elapsed" in unmet
    assert "minutes remain" in unmet["min_observation_elapsed"]
    later = (utcnow() + timedelta(minutes=55)).isoformat()
    future = nurse.post(f"{url}/discharge", json={"transport_present": True, "ended_at": later})
    assert future.status_code == 422


def test_a_paused_plan_holds_a_session_booked_before_the_pause(
    esketamine: str, eligible: Personas, db: Session, login: Callable[[User], TestClient]
) -> None:
    nurse = login(eligible.nurse_a)
    checked_in = nurse.post(f"/api/sessions/{esketamine}/check-in")
    assert checked_in.status_code == 200, checked_in.text
    prescriber = principal_for_user(db, eligible.prescriber_a, None)
    plan_id = db.get_one(TreatmentSession, UUID(esketamine)).plan_id
    change_status(
        db, prescriber, AuditContext(), plan_id, PlanStatus.paused, "reported outside use"
    )

    refused = nurse.post(
        f"/api/sessions/{esketamine}/pre-dose", json=_pre_dose("esketamine-trd", 5)
    )
    assert refused.status_code == 409
    assert refused.json()["details"]["plan_status"] == "paused"
    assert "paused" in refused.json()["detail"]
    assert nurse.get(f"/api/sessions/{esketamine}").json()["status"] == "checked_in"

    change_status(
        db, prescriber, AuditContext(), plan_id, PlanStatus.active, "reviewed, safe to go on"
    )
    cleared = nurse.post(
        f"/api/sessions/{esketamine}/pre-dose", json=_pre_dose("esketamine-trd", 5)
    )
    assert cleared.status_code == 200, cleared.text

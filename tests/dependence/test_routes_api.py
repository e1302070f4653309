"""The dependence API: a patient's status with evidence links and the rules switched off, the
clinic's worklist in order, the clinic's numbers, and referrals; scoped and audited."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from tests.dependence.builders import SETTINGS, enrol, ketamine_use, set_settings
from tests.dependence.test_reviews_api import today
from tests.factories import Personas, make_patient

Login = Callable[[User], TestClient]


def _events(db: Session, action: str) -> int:
    return db.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def test_a_patients_status_names_its_evidence_and_what_is_switched_off(
    db: Session, personas: Personas, login: Login
) -> None:
    set_settings(db, personas, sds_rising_scores=None)
    course = enrol(db, personas, start_days_ago=20, auditc=(1, 1, 0))
    session = course.dose(0, 56)
    checkin = course.check_in(2, craving=9, memory="mild")
    nurse = login(personas.nurse_a)
    reads = _events(db, "dependence.read")

    body = nurse.get(f"/api/patients/{course.patient.id}/dependence").json()
    assert body["status"] == "review_needed"
    assert body["explanation"].startswith("Status review_needed: 1 open signal at review_needed")
    signals = {s["rule_id"]: s for s in body["open_signals"]}
    assert set(signals) == {"craving.at_or_above_threshold", "memory_complaint.reported"}
    craving = signals["craving.at_or_above_threshold"]
    assert body["deciding"] == [craving["id"]]
    [evidence] = craving["evidence"]
    assert (evidence["kind"], evidence["record_id"]) == ("check_in", str(checkin.id))
    assert evidence["href"] == f"/api/patients/{course.patient.id}/checkins"
    assert nurse.get(evidence["href"]).status_code == 200
    assert "not from the clinical reference" in craving["source"]
    off = {item["rule_id"]: item for item in body["switched_off"]}
    assert off["sds.rising"]["reason"] == (
        "sds.rising is off: the clinic has not set how many SDS totals make a rise "
        "(sds_rising_scores)"
    )
    assert off["sds.rising"]["reason"] in body["explanation"]
    assert body["open_review"]["severity"] == "review_needed"
    assert body["open_review"]["overdue"] is False
    assert _events(db, "dependence.read") == reads + 1
    # A session is linked to its own record: a third in 7 days needs the prescriber's override.
    course.book(1, 84)
    course.book(4, 84, override="Travelling next week; agreed to bring the session forward")
    body = nurse.get(f"/api/patients/{course.patient.id}/dependence").json()
    override = next(s for s in body["open_signals"] if s["rule_id"] == "drug_seeking.override")
    assert override["evidence"][0]["href"].startswith("/api/sessions/")
    assert nurse.get(f"/api/sessions/{session.id}").status_code == 200


def test_closed_signals_are_shown_on_request(db: Session, personas: Personas, login: Login) -> None:
    set_settings(db, personas)
    course = enrol(db, personas, start_days_ago=20, auditc=(1, 1, 0))
    for day, craving in ((1, 2), (2, 3), (3, 4), (4, 1)):
        course.check_in(day, craving=craving)
    client = login(personas.therapist_a)
    url = f"/api/patients/{course.patient.id}/dependence"
    assert client.get(url).json()["closed_signals"] == []
    [closed] = client.get(url, params={"include_closed": "true"}).json()["closed_signals"]
    assert (closed["rule_id"], closed["closure"], closed["trend"]) == (
        "craving.rising",
        "auto_resolved",
        True,
    )


def test_the_worklist_puts_the_most_severe_first_then_the_earliest_due(
    db: Session, personas: Personas, login: Login
) -> None:
    set_settings(db, personas)
    courses = {}
    for name, setup in (
        ("watch", lambda c: c.check_in(3, memory="mild")),
        ("review_first", lambda c: c.check_in(3, craving=9)),
        ("none", lambda c: c.check_in(3, withdrawal=_withdrawal())),
        ("urgent", lambda c: c.check_in(3, substance_use=ketamine_use(c, 2))),
        ("review_second", lambda c: c.check_in(3, craving=10)),
    ):
        patient = make_patient(db, personas.clinic_a)
        course = enrol(db, personas, patient=patient, start_days_ago=20, auditc=(1, 1, 0))
        setup(course)
        courses[name] = course
    prescriber = login(personas.prescriber_a)
    rows = prescriber.get("/api/dependence/worklist").json()
    order = {str(c.patient.id): name for name, c in courses.items()}
    assert [order[row["patient_id"]] for row in rows] == [
        "urgent",
        "review_first",
        "review_second",
        "watch",
    ]
    assert [row["status"] for row in rows] == ["urgent", "review_needed", "review_needed", "watch"]
    assert rows[0]["review"]["severity"] == "urgent"
    assert rows[-1]["review"] is None
    assert rows[0]["record_number"] == courses["urgent"].patient.record_number
    same = prescriber.get(
        "/api/dependence/worklist", params={"clinic_id": str(personas.clinic_a.id)}
    )
    assert same.json() == rows

    other = login(personas.prescriber_b)
    assert other.get("/api/dependence/worklist").json() == []
    assert (
        other.get(
            "/api/dependence/worklist", params={"clinic_id": str(personas.clinic_a.id)}
        ).status_code
        == 404
    )
    assert _events(db, "dependence.worklist.read") == 3


def _withdrawal() -> dict[str, str]:
    return {"anxiety": "mild", "low_mood": "none", "fatigue": "mild", "abdominal_pain": "none"}


def _settings_body(**changes: Any) -> dict[str, Any]:
    return {**SETTINGS, **changes}


def test_clinic_settings_are_shown_and_changed_by_an_admin_or_prescriber(
    db: Session, personas: Personas, login: Login
) -> None:
    url = f"/api/clinics/{personas.clinic_a.id}/dependence-settings"
    nurse = login(personas.nurse_a)
    shown = nurse.get(url).json()
    values = {s["name"]: s["value"] for s in shown["settings"]}
    assert values["craving_threshold"] is None
    assert values["review_due_hours"] is None
    assert len(shown["switched_off"]) == 8
    assert all("not from the clinical reference" in s["source"] for s in shown["settings"])
    reference = {s["name"]: (s["value"], s["source"]) for s in shown["reference_numbers"]}
    assert reference["phq9_response_fall_percent"] == (50, "clinical reference §3.2 [S105]")
    assert reference["dast10_problem_from"][0] == 3

    assert nurse.put(url, json=_settings_body()).status_code == 403
    assert login(personas.prescriber_b).put(url, json=_settings_body()).status_code == 404
    assert login(personas.prescriber_b).get(url).status_code == 404

    admin = login(personas.admin_a)
    lead = str(personas.prescriber_a.id)
    changed = admin.put(url, json=_settings_body(medical_lead_id=lead))
    assert changed.status_code == 200, changed.text
    values = {s["name"]: s["value"] for s in changed.json()["settings"]}
    assert (values["craving_threshold"], values["medical_lead_id"]) == (7, lead)
    assert {s["rule_id"] for s in changed.json()["switched_off"]} == {
        "tolerance.fading_response",
        "sds.at_or_above_cutoff",
    }
    assert _events(db, "dependence.settings.update") == 1

    prescriber = login(personas.prescriber_a)
    off = prescriber.put(url, json=_settings_body(craving_threshold=None))
    assert off.status_code == 200
    assert "craving.at_or_above_threshold" in {s["rule_id"] for s in off.json()["switched_off"]}


def test_clinic_settings_refuse_impossible_numbers(
    db: Session, personas: Personas, login: Login
) -> None:
    url = f"/api/clinics/{personas.clinic_a.id}/dependence-settings"
    prescriber = login(personas.prescriber_a)
    for body, field in (
        (_settings_body(craving_threshold=11), "craving_threshold"),
        (_settings_body(craving_rising_reports=1), "craving_rising_reports"),
        (_settings_body(medical_lead_id=str(personas.nurse_a.id)), "medical_lead_id"),
        (_settings_body(medical_lead_id=str(personas.prescriber_b.id)), "medical_lead_id"),
    ):
        response = prescriber.put(url, json=body)
        assert response.status_code == 422, body
        assert response.json()["details"]["field"] == field
    missing = {k: v for k, v in _settings_body().items() if k != "review_due_hours"}
    assert prescriber.put(url, json=missing).status_code == 422
    assert _events(db, "dependence.settings.update") == 0


def test_referrals_are_made_followed_and_closed(
    db: Session, personas: Personas, login: Login
) -> None:
    course = enrol(db, personas, start_days_ago=20, auditc=(1, 1, 0))
    base = f"/api/patients/{course.patient.id}/dependence/referrals"
    follow_up = (today() + timedelta(days=7)).isoformat()
    nurse = login(personas.nurse_a)
    assert nurse.post(base, json={"referred_to": "other", "next_follow_up_on": follow_up}).json()[
        "details"
    ]["field"] == ("name")
    made = nurse.post(
        base,
        json={
            "referred_to": "urology",
            "name": "Harbourside Urology",
            "note": "New urgency since last month",
            "next_follow_up_on": follow_up,
        },
    )
    assert made.status_code == 201, made.text
    referral = made.json()
    url = f"/api/dependence/referrals/{referral['id']}"
    assert login(personas.front_desk_a).post(base, json={}).status_code == 403
    other = login(personas.prescriber_b)
    assert other.get(url).status_code == 404
    assert other.post(f"{url}/status", json={"status": "attended"}).status_code == 404

    later = (today() + timedelta(days=21)).isoformat()
    patched = nurse.patch(url, json={"next_follow_up_on": later})
    assert patched.json()["next_follow_up_on"] == later
    assert nurse.post(f"{url}/status", json={"status": "accepted"}).status_code == 422
    accepted = nurse.post(f"{url}/status", json={"status": "accepted", "next_follow_up_on": later})
    assert accepted.json()["status"] == "accepted"
    declined = nurse.post(f"{url}/status", json={"status": "declined", "note": "Patient declined"})
    assert declined.json()["status"] == "declined"
    assert declined.json()["next_follow_up_on"] is None
    assert [h["status"] for h in declined.json()["history"]] == ["sent", "accepted", "declined"]
    assert nurse.post(f"{url}/status", json={"status": "attended"}).status_code == 409
    assert nurse.patch(url, json={"note": "Too late"}).status_code == 409
    assert [r["id"] for r in login(personas.therapist_a).get(base).json()] == [referral["id"]]
    assert _events(db, "referral.status") == 2


def test_setting_the_sds_cut_off_judges_the_clinics_patients_again(
    db: Session, personas: Personas, login: Callable[[User], TestClient]
) -> None:
    set_settings(db, personas)
    course = enrol(db, personas, start_days_ago=30, sds_total=4)
    prescriber = login(personas.prescriber_a)
    url = f"/api/patients/{course.patient.id}/dependence"

    def rules() -> set[str]:
        return {signal["rule_id"] for signal in prescriber.get(url).json()["open_signals"]}

    assert "sds.at_or_above_cutoff" not in rules()
    patched = login(personas.admin_a).patch(
        f"/api/admin/clinics/{personas.clinic_a.id}/screening", json={"sds_cutoff": 4}
    )
    assert patched.status_code == 200, patched.text
    assert "sds.at_or_above_cutoff" in rules()

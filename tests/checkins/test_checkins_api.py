"""Check-ins over HTTP: the patient portal, staff views, the plan's schedule, who may do what."""

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from ketaguard.checkins.models import Checkin, CheckinDue, CheckinSchedule, DueStatus
from ketaguard.kit.time import utcnow
from ketaguard.plans.models import TreatmentPlan
from ketaguard.screening.models import ScreeningResponse
from tests.checkins.test_dues import book, dues, local_today
from tests.factories import Personas

Login = Callable[[User], TestClient]


def phq9(total: int, item9: int = 0) -> dict[str, int]:
    """PHQ-9 answers adding up to `total`, spread over items 1-8, with item 9 as given."""
    answers, left = {}, total - item9
    for n in range(1, 9):
        answers[f"phq9-{n}"] = min(3, left)
        left -= answers[f"phq9-{n}"]
    answers["phq9-9"] = item9
    return answers


WITHDRAWAL = {"anxiety": "mild", "low_mood": "none", "fatigue": "mild", "abdominal_pain": "none"}
URINARY = {
    "daytime_frequency": False,
    "nocturia": False,
    "urgency": False,
    "dysuria": False,
    "haematuria": False,
    "bladder_pain": False,
}


def full_checkin(total: int = 9, **extra: Any) -> dict[str, Any]:
    """Every part the default schedule may ask for."""
    return {
        "phq9": phq9(total),
        "craving": 2,
        "substance_use": {"used": False},
        "withdrawal": WITHDRAWAL,
        "urinary": URINARY,
        "memory": "none",
        "sds": {"sds-1": 0, "sds-2": 1, "sds-3": 0, "sds-4": 0, "sds-5": 0},
        **extra,
    }


def _counts(db: Session) -> tuple[int | None, int | None]:
    return (
        db.scalar(select(func.count()).select_from(Checkin)),
        db.scalar(select(func.count()).select_from(ScreeningResponse)),
    )


def test_a_patient_completes_the_check_in_that_is_due(
    eligible: Personas, db: Session, login: Login, open_due: CheckinDue
) -> None:
    patient = login(eligible.patient_user_a)
    listed = patient.get("/api/me/checkins/due").json()
    mine = next(d for d in listed if d["id"] == str(open_due.id))
    assert mine["open"] is True
    assert mine["items"] == open_due.items

    created = patient.post("/api/me/checkins", json={**full_checkin(9), "due_id": str(open_due.id)})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["completed_by"] == "patient"
    assert body["phq9_total"] == 9
    assert body["sds_total"] == 1
    assert body["crisis"] is None
    assert body["used_outside_sessions"] is False
    db.refresh(open_due)
    assert open_due.status is DueStatus.completed
    assert str(open_due.id) not in {d["id"] for d in patient.get("/api/me/checkins/due").json()}

    again = patient.post("/api/me/checkins", json={**full_checkin(9), "due_id": str(open_due.id)})
    assert again.status_code == 409
    assert "completed" in again.json()["detail"]

    checkin = db.get_one(Checkin, uuid.UUID(body["id"]))
    phq9_response = db.get_one(ScreeningResponse, checkin.phq9_response_id)
    assert (phq9_response.instrument, phq9_response.total) == ("phq9", 9)
    events = db.scalars(
        select(AuditEvent.action).where(AuditEvent.resource_id == str(checkin.id))
    ).all()
    assert events == ["checkin.create"]


def test_a_due_check_in_needs_every_part_it_asks_for(
    eligible: Personas, db: Session, login: Login, open_due: CheckinDue
) -> None:
    patient = login(eligible.patient_user_a)
    before = _counts(db)
    partial = {"craving": 3, "due_id": str(open_due.id)}
    refused = patient.post("/api/me/checkins", json=partial)
    assert refused.status_code == 422
    assert refused.json()["details"]["missing"] == [i for i in open_due.items if i != "craving"]
    assert _counts(db) == before
    db.refresh(open_due)
    assert open_due.status is DueStatus.pending


def test_bad_answers_are_refused_field_by_field_and_nothing_is_stored(
    eligible: Personas, db: Session, login: Login
) -> None:
    patient = login(eligible.patient_user_a)
    before = _counts(db)
    bad = {
        "phq9": {**phq9(5), "phq9-3": 4},
        "craving": 11,
        "substance_use": {"used": True, "entries": []},
        "withdrawal": {"anxiety": "a lot"},
        "sds": {"sds-1": 1},
    }
    refused = patient.post("/api/me/checkins", json=bad)
    assert refused.status_code == 422
    errors = {tuple(e["loc"][1:3]): e["msg"] for e in refused.json()["detail"]}
    assert "phq9-3" in errors[("phq9",)]
    assert ("craving",) in errors
    assert "list each use" in errors[("substance_use",)]
    assert ("withdrawal", "anxiety") in errors
    assert ("withdrawal", "low_mood") in errors
    assert "sds-2" in errors[("sds",)]
    assert _counts(db) == before

    nothing = patient.post("/api/me/checkins", json={"note": "just saying hello"})
    assert nothing.status_code == 422
    other = patient.post(
        "/api/me/checkins",
        json={
            "substance_use": {
                "used": True,
                "entries": [{"substance": "other", "used_on": "2026-01-02", "amount": "some"}],
            }
        },
    )
    assert other.status_code == 422
    assert "say what was used" in other.text
    next_week = str(local_today() + timedelta(days=7))
    future = {"substance": "ketamine", "used_on": next_week, "amount": "some"}
    ahead = patient.post(
        "/api/me/checkins", json={"substance_use": {"used": True, "entries": [future]}}
    )
    assert ahead.status_code == 422
    assert "cannot be in the future" in ahead.text
    assert _counts(db) == before


def test_use_outside_sessions_is_kept_as_reported(
    eligible: Personas, db: Session, login: Login, plan: TreatmentPlan
) -> None:
    patient = login(eligible.patient_user_a)
    entry = {"substance": "ketamine", "used_on": str(local_today()), "amount": "two lines"}
    created = patient.post(
        "/api/me/checkins",
        json={"craving": 6, "substance_use": {"used": True, "entries": [entry]}},
    )
    assert created.status_code == 201, created.text
    checkin = db.get_one(Checkin, uuid.UUID(created.json()["id"]))
    assert checkin.used_outside_sessions is True
    assert checkin.substance_use == [{**entry, "name": None}]
    assert checkin.plan_id == plan.id
    assert checkin.due_id is None


def test_thoughts_of_self_harm_show_crisis_contacts_and_flag_same_day_follow_up(
    eligible: Personas, db: Session, login: Login, plan: TreatmentPlan
) -> None:
    patient, nurse = login(eligible.patient_user_a), login(eligible.nurse_a)
    created = patient.post("/api/me/checkins", json={"phq9": phq9(12, item9=1), "craving": 1})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["suicide_risk"] is True
    contacts = " ".join(body["crisis"]["contacts"])
    assert "988" in contacts
    assert "911" in contacts

    alert = db.get_one(Alert, uuid.UUID(body["follow_up_alert_id"]))
    assert alert.rule == "suicide_risk.phq9_item9"
    assert alert.severity.value == "same_day"
    assert alert.evidence["checkin_id"] == body["id"]
    assert str(alert.id) in {a["id"] for a in nurse.get("/api/alerts").json()}

    url = f"/api/patients/{eligible.patient_a.id}/checkins"
    assert [c["id"] for c in nurse.get(url, params={"follow_up": True}).json()] == [body["id"]]
    acknowledged = nurse.post(
        f"/api/alerts/{alert.id}/acknowledge", json={"action": "Called the patient; safe plan"}
    )
    assert acknowledged.status_code == 200
    assert nurse.get(url, params={"follow_up": True}).json() == []
    assert len(nurse.get(url).json()) == 1


def test_no_crisis_contacts_without_a_risk_answer(
    eligible: Personas, login: Login, plan: TreatmentPlan
) -> None:
    created = login(eligible.patient_user_a).post("/api/me/checkins", json={"phq9": phq9(12)})
    assert created.json()["crisis"] is None
    assert created.json()["follow_up_alert_id"] is None


def test_a_patient_sees_their_history_and_trend(
    eligible: Personas, login: Login, plan: TreatmentPlan
) -> None:
    patient = login(eligible.patient_user_a)
    now = utcnow()
    for days_ago, total, craving in ((6, 12, 4), (3, 8, 2)):
        at = (now - timedelta(days=days_ago)).isoformat()
        body = {"phq9": phq9(total), "craving": craving, "completed_at": at}
        assert patient.post("/api/me/checkins", json=body).status_code == 201
    patient.post("/api/me/checkins", json={"memory": "mild"})
    history = patient.get("/api/me/checkins").json()
    assert len(history["checkins"]) == 3
    assert [(p["phq9_total"], p["craving"]) for p in history["trend"]] == [(12, 4), (8, 2)]


def test_staff_record_a_check_in_given_by_phone(
    eligible: Personas, db: Session, login: Login, plan: TreatmentPlan
) -> None:
    nurse = login(eligible.nurse_a)
    url = f"/api/patients/{eligible.patient_a.id}/checkins"
    created = nurse.post(url, json={"craving": 0, "withdrawal": WITHDRAWAL})
    assert created.status_code == 201, created.text
    assert created.json()["completed_by"] == "staff"
    assert [c["id"] for c in nurse.get(url).json()] == [created.json()["id"]]
    read = db.scalars(select(AuditEvent).where(AuditEvent.action == "checkin.read")).one()
    assert read.patient_id == eligible.patient_a.id
    assert read.actor_user_id == eligible.nurse_a.id


def test_who_may_see_and_record_check_ins(
    eligible: Personas, db: Session, login: Login, open_due: CheckinDue
) -> None:
    patient_a = eligible.patient_a.id
    url = f"/api/patients/{patient_a}/checkins"
    # Another clinic's prescriber: the patient does not exist for them.
    elsewhere = login(eligible.prescriber_b)
    for path in (url, f"{url}/due", f"{url}/outcomes"):
        assert elsewhere.get(path).status_code == 404, path
    assert elsewhere.get(f"/api/plans/{open_due.plan_id}/checkin-schedule").status_code == 404
    # Front desk may see the patient but not record a questionnaire.
    front_desk = login(eligible.front_desk_a)
    assert front_desk.post(url, json={"craving": 1}).status_code == 403
    # A patient account cannot use staff routes, nor staff the portal's.
    patient = login(eligible.patient_user_a)
    assert patient.get(url).status_code == 403
    assert login(eligible.nurse_a).post("/api/me/checkins", json={"craving": 1}).status_code == 403
    # A due id that is not one of the patient's is not found.
    other = patient.post(
        "/api/me/checkins", json={"craving": 1, "due_id": str(eligible.clinic_b.id)}
    )
    assert other.status_code == 404
    assert db.scalar(select(func.count()).select_from(Checkin)) == 0


def test_staff_list_missed_check_ins(
    eligible: Personas, db: Session, login: Login, open_due: CheckinDue
) -> None:
    open_due.status = DueStatus.missed
    open_due.missed_at = utcnow()
    db.flush()
    nurse = login(eligible.nurse_a)
    url = f"/api/patients/{eligible.patient_a.id}/checkins/due"
    assert [d["id"] for d in nurse.get(url, params={"status": "missed"}).json()] == [
        str(open_due.id)
    ]
    assert nurse.get(url, params={"status": "completed"}).json() == []
    late = login(eligible.patient_user_a).post(
        "/api/me/checkins", json={**full_checkin(), "due_id": str(open_due.id)}
    )
    assert late.status_code == 409


def test_a_prescriber_adjusts_the_plans_schedule_for_the_patient(
    eligible: Personas, db: Session, login: Login, plan: TreatmentPlan
) -> None:
    session = book(db, eligible, plan, datetime.combine(local_today() + timedelta(days=5), time(9)))
    url = f"/api/plans/{plan.id}/checkin-schedule"
    nurse, prescriber = login(eligible.nurse_a), login(eligible.prescriber_a)
    shown = nurse.get(url).json()
    assert shown["revision"] == 0
    assert "ketaguard default" in shown["notice"]
    definition = shown["definition"]
    assert definition["before_session"]["opens_hours_before"]["review_locally"] is True

    changed = {**definition, "before_session": None}
    reason = "Patient finds the pre-session check-in stressful; staff ask in person instead"
    assert nurse.put(url, json={"definition": changed, "reason": reason}).status_code == 403
    bad = {**definition, "loss_of_response_scores": {"value": 0, "source": "local"}}
    refused = prescriber.put(url, json={"definition": bad, "reason": reason})
    assert refused.status_code == 422
    assert (
        db.scalars(select(CheckinSchedule.revision).where(CheckinSchedule.plan_id == plan.id)).one()
        == 0
    )

    adjusted = prescriber.put(url, json={"definition": changed, "reason": reason})
    assert adjusted.status_code == 200, adjusted.text
    assert adjusted.json()["revision"] == 1
    assert adjusted.json()["removed_dues"] == 1
    assert adjusted.json()["definition"]["before_session"] is None
    assert f"session:{session.id}:before" not in dues(db, plan)
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "checkin.schedule.adjust")
    ).one()
    assert reason in event.detail
    assert event.patient_id == eligible.patient_a.id


def test_outcomes_follow_the_phq9_from_the_screening_baseline(
    eligible: Personas, login: Login, plan: TreatmentPlan
) -> None:
    patient = login(eligible.patient_user_a)
    now = utcnow()
    # The factory's baseline PHQ-9 totals 14.
    for days_ago, total in ((10, 10), (5, 6), (1, 4)):
        at = (now - timedelta(days=days_ago)).isoformat()
        assert (
            patient.post(
                "/api/me/checkins", json={"phq9": phq9(total), "completed_at": at}
            ).status_code
            == 201
        )
    result = (
        login(eligible.nurse_a)
        .get(f"/api/patients/{eligible.patient_a.id}/checkins/outcomes")
        .json()
    )
    assert result["plan_id"] == str(plan.id)
    assert result["baseline_total"] == 14
    assert result["baseline_in_measure"] is True
    assert [p["total"] for p in result["points"]] == [10, 6, 4]
    assert [(e["kind"], e["total"]) for e in result["events"]] == [
        ("response", 6),
        ("remission", 4),
    ]
    assert result["status"] == "remission"
    assert result["days_to_response"] is None  # no dose given yet
    assert "2 score(s) in a row" in result["definitions"]["loss_of_response"]
    assert "[S105]" in result["definitions"]["response"]

"""Review decisions through the API: who may decide, what a decision needs, and what it does at
once (pause and discontinue change the plan, closer monitoring the check-ins, a referral)."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.auth.models import User
from ketaguard.dependence.models import (
    DependenceReview,
    DependenceSignal,
    Referral,
    ReviewStatus,
    SignalState,
)
from ketaguard.kit.time import utcnow
from ketaguard.plans.models import PlanStatus
from tests.dependence.builders import Course, enrol, ketamine_use, set_settings
from tests.factories import Personas

Login = Callable[[User], TestClient]


def _urgent(db: Session, personas: Personas) -> tuple[Course, DependenceReview]:
    """A patient who reported ketamine use outside the clinic: urgent, with an open review."""
    set_settings(db, personas)
    course = enrol(db, personas, start_days_ago=30, auditc=(1, 1, 0))
    course.dose(0, 56)
    course.check_in(
        2,
        craving=4,
        substance_use=ketamine_use(course, 1),
    )
    [review] = course.reviews()
    return course, review


def today() -> date:
    """Today in clinic A's calendar (America/Chicago)."""
    return utcnow().astimezone(ZoneInfo("America/Chicago")).date()


def _decision(course: Course, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "reason": "Reported use outside the clinic; discussed with the patient today",
        "follow_up_on": (today() + timedelta(days=14)).isoformat(),
        **extra,
    }


def _url(review: DependenceReview) -> str:
    return f"/api/dependence/reviews/{review.id}/decision"


def test_a_pause_decision_pauses_the_plan_and_the_next_booking_is_refused(
    db: Session, personas: Personas, login: Login
) -> None:
    course, review = _urgent(db, personas)
    prescriber = login(personas.prescriber_a)
    before = prescriber.get(f"/api/patients/{course.patient.id}/dependence").json()
    assert before["status"] == "urgent"
    assert before["open_review"]["id"] == str(review.id)

    made = prescriber.post(_url(review), json=_decision(course, "pause"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["actions"]["plan_status"] == {"from": "active", "to": "paused"}
    assert sorted(body["closed_signals"]) == sorted(s["id"] for s in before["open_signals"])

    plan = prescriber.get(f"/api/patients/{course.patient.id}/plans").json()[0]
    assert plan["status"] == "paused"
    history = prescriber.get(f"/api/plans/{course.plan.id}/history").json()
    assert history[-1]["reason"] == _decision(course, "pause")["reason"]

    local = datetime.combine(today() + timedelta(days=3), time(9)).isoformat()
    booked = login(personas.nurse_a).post(
        f"/api/plans/{course.plan.id}/sessions", json={"local_start": local}
    )
    assert booked.status_code == 409
    assert booked.json()["details"]["violations"][0]["rule"] == "plan_not_active"
    # Not even a prescriber's override books under a paused plan.
    overridden = prescriber.post(
        f"/api/plans/{course.plan.id}/sessions",
        json={"local_start": local, "override_reason": "Patient insists on the session"},
    )
    assert overridden.status_code == 409

    after = prescriber.get(f"/api/patients/{course.patient.id}/dependence").json()
    assert (after["status"], after["open_signals"], after["open_review"]) == ("none", [], None)
    assert after["latest_decision"]["kind"] == "pause"
    assert prescriber.get(_url(review)).json()["id"] == body["id"]


def test_a_decision_needs_a_reason_and_a_follow_up_date(
    db: Session, personas: Personas, login: Login
) -> None:
    course, review = _urgent(db, personas)
    prescriber = login(personas.prescriber_a)
    good = _decision(course, "pause")
    yesterday = (today() - timedelta(days=2)).isoformat()
    refused = [
        {k: v for k, v in good.items() if k != "reason"},
        {k: v for k, v in good.items() if k != "follow_up_on"},
        {**good, "reason": "short"},
        {**good, "reason": " " * 40},
        {**good, "follow_up_on": yesterday},
        {**good, "kind": "continue", "referral_name": "City addiction service"},
    ]
    for body in refused:
        response = prescriber.post(_url(review), json=body)
        assert response.status_code == 422, (body, response.text)
    db.expire_all()
    assert db.get_one(DependenceReview, review.id).status is ReviewStatus.open
    assert course.plan.status is PlanStatus.active
    assert all(s.state is SignalState.open for s in course.open_signals())
    assert course.open_signals()
    assert prescriber.get(_url(review)).status_code == 404


def test_only_a_prescriber_of_the_patients_clinic_decides(
    db: Session, personas: Personas, login: Login
) -> None:
    course, review = _urgent(db, personas)
    body = _decision(course, "continue")
    assert login(personas.nurse_a).post(_url(review), json=body).status_code == 403
    other = login(personas.prescriber_b)
    assert other.post(_url(review), json=body).status_code == 404
    assert other.get(f"/api/dependence/reviews/{review.id}").status_code == 404
    assert other.get(f"/api/patients/{course.patient.id}/dependence").status_code == 404
    nurse = login(personas.nurse_a)
    assert nurse.get(f"/api/patients/{course.patient.id}/dependence").status_code == 200
    assert nurse.get(f"/api/dependence/reviews/{review.id}").json()["status"] == "open"
    db.expire_all()
    assert db.get_one(DependenceReview, review.id).status is ReviewStatus.open


def test_a_review_is_decided_once(db: Session, personas: Personas, login: Login) -> None:
    course, review = _urgent(db, personas)
    prescriber = login(personas.prescriber_a)
    assert prescriber.post(_url(review), json=_decision(course, "taper")).status_code == 201
    again = prescriber.post(_url(review), json=_decision(course, "discontinue"))
    assert again.status_code == 409
    db.expire_all()
    assert course.plan.status is PlanStatus.active
    reviews = prescriber.get(f"/api/patients/{course.patient.id}/dependence/reviews").json()
    assert [(r["status"], r["decision"]["kind"]) for r in reviews] == [("decided", "taper")]


def test_closer_monitoring_makes_check_ins_more_frequent(
    db: Session, personas: Personas, login: Login
) -> None:
    course, review = _urgent(db, personas)
    prescriber = login(personas.prescriber_a)
    before = prescriber.get(f"/api/plans/{course.plan.id}/checkin-schedule").json()
    assert before["definition"]["periodic"]
    made = prescriber.post(_url(review), json=_decision(course, "closer_monitoring"))
    assert made.status_code == 201, made.text
    assert made.json()["actions"]["schedule_revision"] == 1
    after = prescriber.get(f"/api/plans/{course.plan.id}/checkin-schedule").json()
    definition = after["definition"]
    # Every check-in asks every item, and weekly check-ins run from this week (the plan's 5th).
    assert definition["periodic"] == []
    asked = {"phq9", "craving", "substance_use", "withdrawal", "urinary", "memory", "sds"}
    assert set(definition["before_session"]["items"]) == asked
    assert definition["weekly"]["from_week"]["value"] == 5
    assert "closer-monitoring decision" in definition["weekly"]["from_week"]["source"]
    assert after["adjust_reason"] == _decision(course, "closer_monitoring")["reason"]
    dues = prescriber.get(f"/api/patients/{course.patient.id}/checkins/due").json()
    assert any(d["anchor"] == "weekly" for d in dues)


def test_referral_to_addiction_care_is_made_by_the_decision(
    db: Session, personas: Personas, login: Login
) -> None:
    course, review = _urgent(db, personas)
    prescriber = login(personas.prescriber_a)
    body = _decision(course, "refer_addiction_care", referral_name="Lakeside Recovery Service")
    made = prescriber.post(_url(review), json=body)
    assert made.status_code == 201, made.text
    [referral] = prescriber.get(f"/api/patients/{course.patient.id}/dependence/referrals").json()
    assert referral["id"] == made.json()["actions"]["referral_id"]
    assert (referral["referred_to"], referral["name"], referral["status"]) == (
        "addiction_service",
        "Lakeside Recovery Service",
        "sent",
    )
    assert referral["decision_id"] == made.json()["id"]
    assert referral["next_follow_up_on"] == body["follow_up_on"]
    assert db.scalar(select(Referral.decision_id)) is not None


def test_discontinue_ends_the_plan(db: Session, personas: Personas, login: Login) -> None:
    course, review = _urgent(db, personas)
    prescriber = login(personas.prescriber_a)
    made = prescriber.post(_url(review), json=_decision(course, "discontinue"))
    assert made.json()["actions"]["plan_status"] == {"from": "active", "to": "discontinued"}
    db.expire_all()
    assert course.plan.status is PlanStatus.discontinued
    closed = db.scalars(select(DependenceSignal)).all()
    assert {s.closure.value if s.closure else None for s in closed} == {"review_decision"}
    assert all(s.decision_id is not None and s.closed_by_id for s in closed)


def test_a_decision_is_refused_while_a_signal_raised_since_the_review_was_read_is_unseen(
    db: Session, personas: Personas, login: Login
) -> None:
    course, review = _urgent(db, personas)
    prescriber = login(personas.prescriber_a)
    read = prescriber.get(f"/api/patients/{course.patient.id}/dependence").json()
    seen = [signal["id"] for signal in read["open_signals"]]
    # While the prescriber reads, the patient reports craving at the clinic's threshold.
    course.check_in(3, craving=9)
    new = {signal.id for signal in course.open_signals()} - {UUID(s) for s in seen}
    assert new

    refused = prescriber.post(_url(review), json=_decision(course, "pause", seen_signals=seen))
    assert refused.status_code == 409
    assert set(refused.json()["details"]["unseen_signals"]) == {str(s) for s in new}
    db.expire_all()
    assert db.get_one(DependenceReview, review.id).status is ReviewStatus.open
    assert course.plan.status is PlanStatus.active

    everything = seen + [str(s) for s in new]
    made = prescriber.post(_url(review), json=_decision(course, "pause", seen_signals=everything))
    assert made.status_code == 201, made.text
    assert sorted(made.json()["closed_signals"]) == sorted(everything)

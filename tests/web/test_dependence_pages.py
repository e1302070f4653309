"""The dependence watch pages over HTTP: the worklist in order and in scope, a review with its
evidence and sources, a prescriber's decision recorded through the API's service (and audited),
a refused decision changing nothing, who may decide, referrals, and the REMS forms list."""

import json
import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.dependence.models import (
    DependenceDecision,
    DependenceReview,
    Referral,
    ReferralStatus,
    ReviewStatus,
    SignalState,
)
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.rems.form import SUBMISSION_DAYS
from ketaguard.sessions.models import RemsForm
from tests.dependence.builders import Course, enrol, ketamine_use, set_settings
from tests.dependence.test_reviews_api import today
from tests.factories import Personas, make_patient
from tests.web.forms import Browse, Browser, field_error

REASON = "Reported ketamine use outside the clinic; discussed with the patient today"


def _post(browser: Browser, url: str, data: dict[str, str | list[str]]) -> Response:
    return browser.post(url, data={"csrf_token": browser.csrf, **data}, follow_redirects=False)


def _seen(browser: Browser, review: DependenceReview) -> list[str]:
    """The signals the review page shows, which its form sends back as read."""
    page = browser.get(f"/dependence/reviews/{review.id}").text
    return re.findall(r'name="seen_signal" value="([^"]+)"', page)


def urgent(db: Session, personas: Personas, patient: Any = None) -> tuple[Course, DependenceReview]:
    """A patient who reported ketamine use outside the clinic: urgent, with an open review."""
    course = enrol(db, personas, patient=patient, start_days_ago=30, auditc=(1, 1, 0))
    course.dose(0, 56)
    course.check_in(2, craving=4, substance_use=ketamine_use(course, 1))
    [review] = course.reviews()
    return course, review


def _events(db: Session, action: str) -> int:
    return db.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def _decision(kind: str, **extra: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "kind": kind,
        "reason": REASON,
        "follow_up_on": (today() + timedelta(days=14)).isoformat(),
        **extra,
    }


# --- The worklist -------------------------------------------------------------------------------


def test_the_worklist_puts_the_most_severe_first_and_links_chart_and_review(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    set_settings(db, personas)
    watch = enrol(db, personas, patient=make_patient(db, personas.clinic_a), start_days_ago=20)
    watch.check_in(3, memory="mild")
    review_needed = enrol(
        db, personas, patient=make_patient(db, personas.clinic_a), start_days_ago=20
    )
    review_needed.check_in(3, craving=9)
    course, review = urgent(db, personas)
    nurse = as_user(personas.nurse_a)
    reads = _events(db, "dependence.worklist.read")

    page = nurse.get("/dependence")
    assert page.status_code == 200
    order = re.findall(r'<tr data-patient="([0-9a-f-]+)">', page.text)
    assert order == [str(c.patient.id) for c in (course, review_needed, watch)]
    assert re.findall(r'data-status="(\w+)"', page.text) == ["urgent", "review_needed", "watch"]
    assert f'href="/patients/{course.patient.id}"' in page.text
    assert f'href="/dependence/reviews/{review.id}"' in page.text
    assert "ketaguard never replaces it" in page.text
    assert _events(db, "dependence.worklist.read") == reads + 1

    # Another clinic's prescriber sees none of them, and cannot ask for clinic A's list.
    other = as_user(personas.prescriber_b)
    elsewhere = other.get("/dependence")
    assert "data-worklist-empty" in elsewhere.text
    assert str(course.patient.id) not in elsewhere.text
    assert other.get(f"/dependence?clinic={personas.clinic_a.id}").status_code == 404


# --- A review -----------------------------------------------------------------------------------


def test_the_review_shows_the_status_explained_with_evidence_and_sources(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    set_settings(db, personas)
    course, review = urgent(db, personas)
    nurse = as_user(personas.nurse_a)
    reads = (_events(db, "dependence.review.read"), _events(db, "dependence.read"))

    page = nurse.get(f"/dependence/reviews/{review.id}")
    assert page.status_code == 200
    assert '<span class="dependence-status status-urgent" data-current-status>Urgent' in page.text
    assert "Status urgent:" in page.text
    signal = re.search(r'data-signal="(outside_use\.[a-z_]+)"', page.text)
    assert signal, "the outside-use signal is not shown"
    section = page.text[page.text.index(signal.group(0)) :]
    assert f'<a href="/patients/{course.patient.id}">Check-in' in section
    assert "Source:</strong>" in section
    assert "ketaguard never replaces it" in page.text
    # A nurse reads the review but the decision is a prescriber's.
    assert 'name="kind"' not in page.text
    assert "Only a prescriber of the patient's clinic records the decision." in page.text
    assert (_events(db, "dependence.review.read"), _events(db, "dependence.read")) == (
        reads[0] + 1,
        reads[1] + 1,
    )
    assert as_user(personas.prescriber_b).get(f"/dependence/reviews/{review.id}").status_code == 404


def test_a_prescribers_pause_is_recorded_audited_and_pauses_the_plan(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    set_settings(db, personas)
    course, review = urgent(db, personas)
    prescriber = as_user(personas.prescriber_a)
    form = prescriber.get(f"/dependence/reviews/{review.id}")
    for kind in ("continue", "closer_monitoring", "pause", "taper", "discontinue"):
        assert f'value="{kind}"' in form.text
    assert 'value="refer_addiction_care"' in form.text
    assert '<label for="reason">Reason for the decision</label>' in form.text
    assert '<label for="follow_up_on">Follow-up date</label>' in form.text
    assert '<label for="referral_name">' in form.text

    seen = _seen(prescriber, review)
    assert sorted(seen) == sorted(str(signal.id) for signal in course.open_signals())
    done = _post(
        prescriber, f"/dependence/reviews/{review.id}", _decision("pause", seen_signal=seen)
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/dependence/reviews/{review.id}?done=decided"
    db.expire_all()
    assert db.get_one(DependenceReview, review.id).status is ReviewStatus.decided
    assert db.get_one(TreatmentPlan, course.plan.id).status is PlanStatus.paused
    assert course.open_signals() == []
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "dependence.review.decide")
    ).one()
    detail = json.loads(event.detail)
    assert (detail["kind"], detail["reason"]) == ("pause", REASON)
    assert detail["actions"]["plan_status"] == {"from": "active", "to": "paused"}
    assert event.actor_user_id == personas.prescriber_a.id

    shown = prescriber.get(done.headers["location"])
    assert "Decision recorded." in shown.text
    assert 'data-decision="pause"' in shown.text
    assert "active &rarr; paused" in shown.text
    assert "data-plan-status>Paused" in shown.text
    assert "Signals this decision closed (" in shown.text
    assert 'name="kind"' not in shown.text


def test_a_signal_raised_after_the_review_was_opened_is_not_closed_unread(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    set_settings(db, personas)
    course, review = urgent(db, personas)
    prescriber = as_user(personas.prescriber_a)
    seen = _seen(prescriber, review)
    course.check_in(4, craving=9)  # while the prescriber reads the page

    url = f"/dependence/reviews/{review.id}"
    refused = _post(prescriber, url, _decision("pause", seen_signal=seen))
    assert refused.status_code == 409
    error = field_error(refused, "kind")
    assert error is not None
    assert "New signals were raised since you opened this review" in error
    db.expire_all()
    assert db.get_one(DependenceReview, review.id).status is ReviewStatus.open
    assert db.get_one(TreatmentPlan, course.plan.id).status is PlanStatus.active
    # The page shown with the refusal lists the new signal too, so deciding from it works.
    shown = re.findall(r'name="seen_signal" value="([^"]+)"', refused.text)
    assert len(shown) == len(seen) + 1
    done = _post(prescriber, url, _decision("pause", seen_signal=shown))
    assert done.status_code == 303, done.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": ""}, "kind", "Choose a decision"),
        ({"reason": "short"}, "reason", "Write the reason for the decision, at least 10"),
        ({"follow_up_on": ""}, "follow_up_on", "Enter the date to look again"),
        ({"follow_up_on": "2020-01-01"}, "follow_up_on", "The follow-up date is in the past"),
        (
            {"kind": "continue", "referral_name": "Lakeside Recovery"},
            "referral_name",
            "A referral name goes with refer_addiction_care only",
        ),
    ],
)
def test_a_refused_decision_is_shown_next_to_its_field_and_changes_nothing(
    db: Session,
    personas: Personas,
    as_user: Browse,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    set_settings(db, personas)
    course, review = urgent(db, personas)
    prescriber = as_user(personas.prescriber_a)
    url = f"/dependence/reviews/{review.id}"
    refused = _post(
        prescriber, url, {**_decision("pause", seen_signal=_seen(prescriber, review)), **change}
    )
    assert refused.status_code == 422
    error = field_error(refused, field)
    assert error is not None
    assert error.startswith(message), error
    assert "There is a problem" in refused.text
    # What was typed comes back.
    if field != "reason":
        assert REASON in refused.text
    db.expire_all()
    assert db.get_one(DependenceReview, review.id).status is ReviewStatus.open
    assert db.get_one(TreatmentPlan, course.plan.id).status is PlanStatus.active
    assert db.scalar(select(func.count()).select_from(DependenceDecision)) == 0
    assert all(s.state is SignalState.open for s in course.open_signals())
    assert course.open_signals()


def test_a_nurse_cannot_decide_nor_anyone_without_the_pages_token(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    set_settings(db, personas)
    course, review = urgent(db, personas)
    prescriber = as_user(personas.prescriber_a)
    forged = prescriber.post(
        f"/dependence/reviews/{review.id}", data=_decision("pause"), follow_redirects=False
    )
    assert forged.status_code == 403
    nurse = as_user(personas.nurse_a)
    refused = _post(nurse, f"/dependence/reviews/{review.id}", _decision("pause"))
    assert refused.status_code == 403
    assert "Your role does not allow this page" in refused.text
    other = as_user(personas.prescriber_b)
    assert _post(other, f"/dependence/reviews/{review.id}", _decision("pause")).status_code == 404
    db.expire_all()
    assert db.get_one(DependenceReview, review.id).status is ReviewStatus.open
    assert db.get_one(TreatmentPlan, course.plan.id).status is PlanStatus.active
    denied = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.permission_denied")
    ).all()
    assert any(e.actor_user_id == personas.nurse_a.id for e in denied)


# --- Referrals ----------------------------------------------------------------------------------


def test_a_referral_made_by_a_decision_is_followed_on_its_page(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    set_settings(db, personas)
    _course, review = urgent(db, personas)
    prescriber = as_user(personas.prescriber_a)
    decided = _post(
        prescriber,
        f"/dependence/reviews/{review.id}",
        _decision(
            "refer_addiction_care",
            referral_name="Lakeside Recovery Service",
            seen_signal=_seen(prescriber, review),
        ),
    )
    assert decided.status_code == 303, decided.text
    referral = db.scalars(select(Referral)).one()
    shown = prescriber.get(decided.headers["location"])
    assert f'href="/dependence/referrals/{referral.id}">Lakeside Recovery Service' in shown.text

    nurse = as_user(personas.nurse_a)
    url = f"/dependence/referrals/{referral.id}"
    page = nurse.get(url)
    assert page.status_code == 200
    assert 'data-referral-status="sent"' in page.text
    assert '<option value="accepted">Accepted</option>' in page.text
    # Staying open needs the next follow-up date: refused next to it, nothing changed.
    refused = _post(nurse, url, {"status": "accepted", "note": "They called back"})
    assert refused.status_code == 422
    assert field_error(refused, "next_follow_up_on") == (
        "Give the next follow-up date while the referral is open"
    )
    db.expire_all()
    assert db.get_one(Referral, referral.id).status is ReferralStatus.sent
    follow_up: date = today() + timedelta(days=7)
    accepted = _post(
        nurse,
        url,
        {"status": "accepted", "note": "They called back", "next_follow_up_on": str(follow_up)},
    )
    assert accepted.status_code == 303, accepted.text
    db.expire_all()
    changed = db.get_one(Referral, referral.id)
    assert (changed.status, changed.next_follow_up_on) == (ReferralStatus.accepted, follow_up)
    assert _events(db, "referral.status") == 1
    therapist = as_user(personas.therapist_a)
    assert therapist.get(url).status_code == 200
    assert _post(therapist, url, {"status": "declined"}).status_code == 403
    assert as_user(personas.prescriber_b).get(url).status_code == 404


# --- REMS forms ---------------------------------------------------------------------------------


SUBMISSION = timedelta(days=SUBMISSION_DAYS)


def rems_form(db: Session, course: Course, day: int, due_on: date, **extra: Any) -> RemsForm:
    """A stored form for a session of the course (the form's own data is the session page's)."""
    session = course.book(day)
    form = RemsForm(
        session_id=session.id,
        clinic_id=course.patient.clinic_id,
        fields={"patient_name": "Pat Synthetic", "treatment_date": str(due_on - SUBMISSION)},
        due_on=due_on,
        **extra,
    )
    db.add(form)
    db.flush()
    return form


def test_rems_forms_are_listed_by_deadline_state(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    course = enrol(db, personas, start_days_ago=30)
    now = today()
    overdue = rems_form(db, course, 0, now - timedelta(days=1))
    due_soon = rems_form(db, course, 4, now + timedelta(days=1))
    submitted = rems_form(
        db, course, 8, now - timedelta(days=3), submitted_on=now - timedelta(days=5)
    )
    nurse = as_user(personas.nurse_a)
    page = nurse.get("/rems")
    assert page.status_code == 200
    for state, form in (("overdue", overdue), ("due_soon", due_soon), ("submitted", submitted)):
        section = re.search(rf'data-rems-state="{state}">(.*?)</section>', page.text, re.DOTALL)
        assert section, state
        assert f'data-rems-form="{form.id}"' in section.group(1)
        assert f'href="/api/rems/forms/{form.id}.pdf"' in section.group(1)
        assert f'href="/api/rems/forms/{form.id}.html"' in section.group(1)
        assert f'href="/sessions/{form.session_id}"' in section.group(1)
    only = nurse.get("/rems?state=overdue")
    assert str(overdue.id) in only.text
    assert str(due_soon.id) not in only.text
    assert as_user(personas.therapist_a).get("/rems").status_code == 403
    assert str(overdue.id) not in as_user(personas.prescriber_b).get("/rems").text


def test_a_review_id_that_does_not_exist_is_not_found(personas: Personas, as_user: Browse) -> None:
    page = as_user(personas.nurse_a).get(f"/dependence/reviews/{uuid.uuid4()}")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]

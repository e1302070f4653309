"""The patient portal over HTTP: due check-ins and sessions listed, a check-in completed through
the API's service and scored by the server, refusals next to their question with nothing stored,
crisis contacts on a risky answer, the patient's own trend, and nobody else's data."""

import html
import json
import re
import uuid
from datetime import datetime, time, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import AccountKind
from ketaguard.auth.service import create_user
from ketaguard.checkins import outcomes
from ketaguard.checkins.models import Checkin, CheckinDue, DueStatus
from ketaguard.checkins.routes import CRISIS_MESSAGE
from ketaguard.plans.models import TreatmentPlan
from ketaguard.screening.instruments import get_instrument
from ketaguard.screening.models import ScreeningResponse
from ketaguard.web.portal_forms import URINARY_WORDS, WITHDRAWAL_WORDS
from tests.checkins.test_dues import book, local_today
from tests.factories import PASSWORD, Personas
from tests.web.forms import BROWSER, Browse, Browser, csrf_of, field_error

PHQ9 = get_instrument("phq9")
SDS = get_instrument("sds")


def answers(phq9_total: int = 9, item9: int = 0, **extra: str) -> dict[str, str]:
    """The portal form filled in for every part the default first check-in asks for."""
    form: dict[str, str] = {}
    left = phq9_total - item9
    for n in range(1, 9):
        form[f"phq9-{n}"] = str(min(3, left))
        left -= min(3, left)
    form["phq9-9"] = str(item9)
    form["craving"] = "2"
    form["used"] = "no"
    form.update({f"withdrawal-{name}": "none" for name in WITHDRAWAL_WORDS})
    form.update({f"urinary-{name}": "no" for name in URINARY_WORDS})
    form["memory"] = "mild"
    form.update({f"sds-{n}": "0" for n in range(1, 6)})
    form["sds-2"] = "1"
    return {**form, **extra}


def send(browser: Browser, due: CheckinDue, form: dict[str, str]) -> Response:
    page = browser.get(f"/portal/checkins/{due.id}")
    assert page.status_code == 200, page.text
    return browser.post(
        f"/portal/checkins/{due.id}",
        data={"csrf_token": csrf_of(page), **form},
        follow_redirects=False,
    )


def counts(db: Session) -> tuple[int | None, int | None]:
    return (
        db.scalar(select(func.count()).select_from(Checkin)),
        db.scalar(select(func.count()).select_from(ScreeningResponse)),
    )


def trend_data(page: Response, key: str) -> dict[str, Any]:
    figure = page.text.split(f'id="trend-{key}"', 1)[1]
    found = re.search(r'data-trend="([^"]*)"', figure)
    assert found, f"no {key} chart drawn"
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return data


def test_the_portal_lists_the_due_check_in_and_upcoming_sessions(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session
) -> None:
    patient = as_user(eligible.patient_user_a)
    page = patient.get("/portal")
    assert page.status_code == 200, page.text
    assert f'href="/portal/checkins/{open_due.id}"' in page.text
    assert "Start this check-in" in page.text
    # Tomorrow's 09:00 session, in Clinic A's timezone, and what kind it is.
    tomorrow = local_today() + timedelta(days=1)
    assert f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B %Y}, 09:00 C" in page.text
    assert "Esketamine nasal spray" in page.text
    assert "not an emergency service" in page.text
    # Nothing sent yet: no history, and the charts say so.
    assert "You have not sent a check-in yet" in page.text
    assert "No scores yet" in page.text
    # Each of the patient's own records read is audited, as the patient's.
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.actor_user_id == eligible.patient_user_a.id)
    ).all()
    reads = {event.action for event in events if '"own_record":true' in event.detail}
    assert {"checkin.due.read", "checkin.read", "session.read", "screening.read"} <= reads


def test_the_check_in_form_asks_what_the_due_check_in_asks(
    eligible: Personas, as_user: Browse, open_due: CheckinDue
) -> None:
    patient = as_user(eligible.patient_user_a)
    page = patient.get(f"/portal/checkins/{open_due.id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    # The instrument's own wording and answers, item by item.
    for item in PHQ9.items:
        assert item.text is not None
        assert item.text in text
        assert f'name="{item.id}"' in page.text
    for option in PHQ9.items[0].options:
        assert option.label is not None
        assert option.label in text
    for item in SDS.items:
        assert f'name="{item.id}"' in page.text
    assert "licensed copy" in text  # the SDS wording comes from the clinic
    for part in ("craving", "used", "memory", "use-1-date", "withdrawal-fatigue"):
        assert f'name="{part}"' in page.text
    assert "<legend>" in page.text  # radio groups are fieldsets with a legend
    assert "<script>" not in page.text
    assert "style=" not in page.text


def test_a_check_in_sent_from_the_portal_is_stored_and_scored_by_the_server(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session
) -> None:
    patient = as_user(eligible.patient_user_a)
    sent = send(patient, open_due, answers(9))
    assert sent.status_code == 303, sent.text
    db.refresh(open_due)
    assert open_due.status is DueStatus.completed
    checkin = db.scalars(select(Checkin).where(Checkin.due_id == open_due.id)).one()
    assert checkin.completed_by.value == "patient"
    assert checkin.craving == 2
    assert checkin.used_outside_sessions is False
    assert checkin.memory is not None
    assert checkin.memory.value == "mild"
    assert checkin.suicide_risk is False
    phq9 = db.get_one(ScreeningResponse, checkin.phq9_response_id)
    assert (phq9.instrument, phq9.total) == ("phq9", 9)
    sds = db.get_one(ScreeningResponse, checkin.sds_response_id)
    assert sds.total == 1
    assert sent.headers["location"] == f"/portal/checkins/done/{checkin.id}"

    done = patient.get(sent.headers["location"])
    assert done.status_code == 200
    assert "your check-in was sent" in done.text
    assert "<strong>9</strong>" in done.text
    assert CRISIS_MESSAGE not in html.unescape(done.text)

    # Sending it twice is refused on the form, and nothing more is stored.
    before = counts(db)
    again = patient.post(
        f"/portal/checkins/{open_due.id}",
        data={"csrf_token": csrf_of(done), **answers(9)},
        follow_redirects=False,
    )
    assert again.status_code == 409
    assert "it was sent already" in again.text
    assert counts(db) == before


def test_use_outside_sessions_is_stored_as_told(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session
) -> None:
    patient = as_user(eligible.patient_user_a)
    day = (local_today() - timedelta(days=2)).isoformat()
    form = answers(
        9,
        used="yes",
        **{
            "use-1-substance": "other",
            "use-1-name": "cannabis",
            "use-1-date": day,
            "use-1-amount": "one joint",
        },
    )
    assert send(patient, open_due, form).status_code == 303
    checkin = db.scalars(select(Checkin).where(Checkin.due_id == open_due.id)).one()
    assert checkin.used_outside_sessions is True
    assert checkin.substance_use == [
        {"substance": "other", "name": "cannabis", "used_on": day, "amount": "one joint"}
    ]


def test_bad_answers_are_shown_next_to_their_question_and_nothing_is_stored(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session
) -> None:
    patient = as_user(eligible.patient_user_a)
    before = counts(db)
    form = answers(9, craving="11", used="yes")
    form["phq9-3"] = "7"
    del form["sds-2"]
    del form["sds-4"]
    form["withdrawal-anxiety"] = "terrible"
    del form["urinary-nocturia"]
    future = (local_today() + timedelta(days=5)).isoformat()
    form.update({"use-1-substance": "ketamine", "use-1-date": future, "use-1-amount": ""})
    refused = send(patient, open_due, form)
    assert refused.status_code == 422
    assert field_error(refused, "phq9-3") == "Choose one of the answers"
    assert field_error(refused, "phq9-1") is None
    # Every unanswered question is named, not just the first.
    assert field_error(refused, "sds-2") == "Choose one of the answers"
    assert field_error(refused, "sds-4") == "Choose one of the answers"
    assert field_error(refused, "sds-1") is None
    assert field_error(refused, "craving") == "Choose a number from 0 to 10"
    assert field_error(refused, "withdrawal-anxiety") == "Choose how much this bothered you"
    assert field_error(refused, "urinary-nocturia") == "Choose yes or no"
    assert field_error(refused, "use-1-amount") == "Say how much you took, in your own words"
    # The summary lists them, in the order of the form, and takes focus.
    summary = refused.text.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert summary.index("#phq9-3") < summary.index("#craving") < summary.index("#use-1-amount")
    # What was answered is still there.
    assert 'name="phq9-1" type="radio" value="3" checked' in refused.text
    assert counts(db) == before
    db.refresh(open_due)
    assert open_due.status is DueStatus.pending


def test_a_future_day_of_use_is_refused_next_to_the_date(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session
) -> None:
    patient = as_user(eligible.patient_user_a)
    before = counts(db)
    future = (local_today() + timedelta(days=5)).isoformat()
    form = answers(
        9,
        used="yes",
        **{"use-1-substance": "ketamine", "use-1-date": future, "use-1-amount": "a bump"},
    )
    refused = send(patient, open_due, form)
    assert refused.status_code == 422
    assert field_error(refused, "use-1-date") == "The day cannot be in the future"
    assert counts(db) == before


def test_an_answer_signalling_suicide_risk_shows_crisis_contacts(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session, app: FastAPI
) -> None:
    patient = as_user(eligible.patient_user_a)
    sent = send(patient, open_due, answers(12, item9=1))
    assert sent.status_code == 303
    checkin = db.scalars(select(Checkin).where(Checkin.due_id == open_due.id)).one()
    assert checkin.suicide_risk is True
    assert checkin.follow_up_alert_id is not None
    done = patient.get(sent.headers["location"])
    text = html.unescape(done.text)
    assert 'class="portal-crisis" role="alert"' in done.text
    assert CRISIS_MESSAGE in text
    for contact in app.state.settings.crisis_contacts:
        assert contact in text


def test_the_trend_shows_the_patients_scores_against_the_outcome_references(
    eligible: Personas,
    as_user: Browse,
    open_due: CheckinDue,
    plan: TreatmentPlan,
    db: Session,
) -> None:
    patient = as_user(eligible.patient_user_a)
    assert send(patient, open_due, answers(9)).status_code == 303
    page = patient.get("/portal")
    mood = trend_data(page, "mood")
    assert [point["y"] for point in mood["points"]] == [9]
    lines = {line["y"] for line in mood["lines"]}
    # Remission from checkins/outcomes.py; response from the plan's baseline PHQ-9 (14).
    assert outcomes.REMISSION_BELOW in lines
    assert float(14 * (1 - outcomes.RESPONSE_FALL)) in lines
    craving = trend_data(page, "craving")
    assert [point["y"] for point in craving["points"]] == [2]
    assert '<th scope="col">Mood score</th>' in page.text
    assert "You have not sent a check-in yet" not in page.text


def test_a_check_in_not_open_yet_shows_when_it_opens_and_no_form(
    eligible: Personas, as_user: Browse, plan: TreatmentPlan, db: Session
) -> None:
    session = book(db, eligible, plan, datetime.combine(local_today() + timedelta(days=5), time(9)))
    due = db.scalars(
        select(CheckinDue).where(CheckinDue.slot == f"session:{session.id}:before")
    ).one()
    patient = as_user(eligible.patient_user_a)
    portal = patient.get("/portal")
    assert "Coming up" in portal.text
    page = patient.get(f"/portal/checkins/{due.id}")
    assert page.status_code == 200
    assert "This check-in opens" in page.text
    assert "Send my check-in" not in page.text
    before = counts(db)
    refused = patient.post(
        f"/portal/checkins/{due.id}",
        data={"csrf_token": csrf_of(page), **answers(9)},
        follow_redirects=False,
    )
    assert refused.status_code == 409
    assert "This check-in cannot be sent now" in refused.text
    assert 'href="#checkin"' in refused.text  # the summary points at it
    assert counts(db) == before


def test_staff_cannot_open_the_portal(
    eligible: Personas, as_user: Browse, open_due: CheckinDue
) -> None:
    nurse = as_user(eligible.nurse_a)
    assert nurse.get("/portal").status_code == 403
    assert nurse.get(f"/portal/checkins/{open_due.id}").status_code == 403
    anonymous = TestClient(nurse.app, headers=BROWSER)
    gone = anonymous.get("/portal", follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/login")


def test_a_patient_sees_only_their_own_check_ins(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session
) -> None:
    owner = as_user(eligible.patient_user_a)
    assert send(owner, open_due, answers(9)).status_code == 303
    theirs = db.scalars(select(Checkin).where(Checkin.due_id == open_due.id)).one()

    other_user = create_user(
        db,
        organisation_id=eligible.clinic_b.organisation_id,
        email=f"other-{uuid.uuid4().hex[:8]}@patients.example.org",
        full_name="Other Synthetic",
        password=PASSWORD,
        kind=AccountKind.patient,
        patient_id=eligible.patient_b.id,
    )
    db.flush()
    other = as_user(other_user)
    portal = other.get("/portal")
    assert portal.status_code == 200
    assert str(open_due.id) not in portal.text
    assert "You have not sent a check-in yet" in portal.text
    assert other.get(f"/portal/checkins/{open_due.id}").status_code == 404
    assert other.get(f"/portal/checkins/done/{theirs.id}").status_code == 404
    before = counts(db)
    refused = other.post(
        f"/portal/checkins/{open_due.id}",
        data={"csrf_token": csrf_of(portal), **answers(9)},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    assert counts(db) == before


def test_a_check_in_asking_for_the_icsi_offers_its_items_and_stores_its_score(
    eligible: Personas, as_user: Browse, open_due: CheckinDue, db: Session
) -> None:
    icsi = get_instrument("icsi")
    open_due.items = ["craving", "icsi"]
    db.flush()
    patient = as_user(eligible.patient_user_a)
    page = patient.get(f"/portal/checkins/{open_due.id}")
    for item in icsi.items:
        for option in item.options:
            assert f'name="{item.id}" type="radio" value="{option.value}"' in page.text
    assert 'name="phq9-1"' not in page.text
    form = {"craving": "1", **{item.id: "2" for item in icsi.items}}
    assert send(patient, open_due, form).status_code == 303
    checkin = db.scalars(select(Checkin).where(Checkin.due_id == open_due.id)).one()
    assert checkin.items == ["craving", "icsi"]
    response = db.get_one(ScreeningResponse, checkin.icsi_response_id)
    assert response.total == 2 * len(icsi.items)

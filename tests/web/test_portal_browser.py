"""The patient portal in a real browser: a patient logs in, completes the check-in that is due
(partly with the keyboard) and sees it on their own trend chart, drawn by Chart.js."""

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ketaguard.audit.service import AuditContext
from ketaguard.auth.service import principal_for_user
from ketaguard.checkins.models import Checkin, CheckinDue, DueStatus
from ketaguard.checkins.schemas import CheckinCreate
from ketaguard.checkins.service import submit_checkin
from ketaguard.kit.time import utcnow
from ketaguard.screening.models import ScreeningResponse
from ketaguard.sessions.booking import book
from ketaguard.sessions.schemas import BookingRequest
from ketaguard.web.portal_forms import URINARY_WORDS, WITHDRAWAL_WORDS
from tests.factories import PASSWORD, Personas, make_active_plan, make_eligible, make_personas
from tests.web.conftest import LiveSite

Screenshot = Callable[[Page, str], Path]
TIMEZONE = ZoneInfo("America/Chicago")  # make_personas' Clinic A


def _earlier(days_ago: int, total: int, craving: int) -> CheckinCreate:
    """A check-in the patient sent of their own accord, days ago."""
    phq9, left = {}, total
    for n in range(1, 10):
        phq9[f"phq9-{n}"] = 0 if n == 9 else min(3, left)
        left -= phq9[f"phq9-{n}"]
    return CheckinCreate.model_validate(
        {
            "completed_at": (utcnow() - timedelta(days=days_ago)).isoformat(),
            "phq9": phq9,
            "craving": craving,
        }
    )


def _patient_with_a_due_check_in(live_site: LiveSite) -> tuple[Personas, uuid.UUID]:
    """A new clinic's patient on an esketamine plan with a session tomorrow (so the check-in
    before it is open now) and two earlier check-ins to draw."""
    today = utcnow().astimezone(TIMEZONE).date()
    with live_site.write() as db:
        personas = make_eligible(db, make_personas(db))
        plan = make_active_plan(db, personas, start=today)
        prescriber = principal_for_user(db, personas.prescriber_a, None)
        session = book(
            db,
            prescriber,
            AuditContext(),
            plan.id,
            BookingRequest(local_start=datetime.combine(today + timedelta(days=1), time(9))),
        )
        patient = principal_for_user(db, personas.patient_user_a, None)
        for days_ago, total, craving in ((6, 14, 5), (3, 11, 4)):
            body = _earlier(days_ago, total, craving)
            submit_checkin(db, patient, AuditContext(), personas.patient_a.id, body)
        due = db.scalars(
            select(CheckinDue).where(CheckinDue.slot == f"session:{session.id}:before")
        ).one()
    return personas, due.id


def _answer(page: Page, item9: str = "Not at all") -> None:
    """Answer every question of the first check-in; item 9 of the PHQ-9 as given."""
    # PHQ-9 by its labels: "Several days" for the first six items, "Not at all" for the rest.
    for n in range(1, 10):
        group = page.get_by_role("group", name=f"{n}. ", exact=False).filter(
            has=page.locator(f'input[name="phq9-{n}"]')
        )
        answer = item9 if n == 9 else "Several days" if n <= 6 else "Not at all"
        group.get_by_label(answer, exact=True).check()
    # Craving with the keyboard: to the first choice, select it, three steps right.
    page.locator("#craving").focus()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator('input[name="craving"][value="3"]')).to_be_checked()
    page.locator('input[name="used"][value="no"]').check()
    for name in WITHDRAWAL_WORDS:
        page.locator(f'input[name="withdrawal-{name}"][value="none"]').check()
    for name in URINARY_WORDS:
        page.locator(f'input[name="urinary-{name}"][value="no"]').check()
    page.locator('input[name="memory"][value="none"]').check()
    for n in range(1, 6):
        page.locator(f'input[name="sds-{n}"][value="0"]').check()


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_patient_completes_a_due_check_in_and_sees_it_on_their_trend(
    live_site: LiveSite, page: Page, screenshot: Screenshot
) -> None:
    personas, due_id = _patient_with_a_due_check_in(live_site)
    _log_in(page, personas.patient_user_a.email)

    expect(page).to_have_url(f"{live_site.url}/portal")
    expect(page.get_by_role("heading", name="Check-ins to do")).to_be_visible()
    expect(page.get_by_role("cell", name="Esketamine nasal spray")).to_be_visible()
    screenshot(page, "portal")

    page.get_by_role("link", name="Start this check-in").click()
    expect(page).to_have_url(f"{live_site.url}/portal/checkins/{due_id}")
    _answer(page)
    page.get_by_label("Anything else you would like").fill("Sleeping a bit better.")
    screenshot(page, "portal-checkin")
    page.get_by_role("button", name="Send my check-in").click()

    expect(page.get_by_role("heading", name="your check-in was sent")).to_be_visible()
    expect(page.get_by_text("score this time")).to_contain_text("6")
    with live_site.write() as db:
        due = db.get_one(CheckinDue, due_id)
        assert due.status is DueStatus.completed
        checkin = db.scalars(select(Checkin).where(Checkin.due_id == due_id)).one()
        assert checkin.craving == 3
        assert checkin.note == "Sleeping a bit better."
        assert db.get_one(ScreeningResponse, checkin.phq9_response_id).total == 6

    page.get_by_role("link", name="Back to my portal").click()
    expect(page.get_by_text("You have no check-in to do right now")).to_be_visible()
    mood = page.locator("#trend-mood canvas")
    mood.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#trend-mood canvas').chart !== undefined")
    drawn = mood.evaluate("canvas => canvas.chart.data.datasets[0].data.map(p => p.y)")
    assert drawn == [14, 11, 6]
    craving = page.locator("#trend-craving canvas").evaluate(
        "canvas => canvas.chart.data.datasets[0].data.map(p => p.y)"
    )
    assert craving == [5, 4, 3]
    expect(page.locator(".portal-history tbody tr")).to_have_count(3)
    screenshot(page, "portal-trend")


def test_an_answer_signalling_risk_shows_the_crisis_contacts_first(
    live_site: LiveSite, page: Page, screenshot: Screenshot
) -> None:
    personas, due_id = _patient_with_a_due_check_in(live_site)
    _log_in(page, personas.patient_user_a.email)
    page.goto(f"/portal/checkins/{due_id}")
    _answer(page, item9="Several days")
    page.get_by_role("button", name="Send my check-in").click()

    crisis = page.get_by_role("alert")
    expect(crisis).to_contain_text("Please reach out for support now")
    for contact in live_site.settings.crisis_contacts:
        expect(crisis).to_contain_text(contact)
    # The crisis resources come before anything else on the page.
    assert page.locator("main > *").first.get_attribute("class") == "portal-crisis"
    with live_site.write() as db:
        checkin = db.scalars(select(Checkin).where(Checkin.due_id == due_id)).one()
        assert checkin.suicide_risk is True
    screenshot(page, "portal-crisis")

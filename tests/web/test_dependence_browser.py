"""The dependence watch in a real browser: a prescriber signs in with MFA, finds a patient who
reported ketamine use outside the clinic on the worklist, pauses treatment from the review, and
the next booking under that plan is refused because the plan is paused."""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ketaguard.dependence.models import DependenceDecision, DependenceReview, ReviewStatus
from ketaguard.kit.time import utcnow
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.rems.form import SUBMISSION_DAYS
from ketaguard.sessions.models import RemsForm
from tests.dependence.builders import enrol, set_settings
from tests.factories import PASSWORD, Personas, make_personas
from tests.web.conftest import LiveSite
from tests.web.test_dependence_pages import ketamine_use

Screenshot = Callable[[Page, str], Path]
TIMEZONE = ZoneInfo("America/Chicago")  # make_personas' Clinic A
REASON = "Ketamine use outside the clinic reported at the check-in; pausing until we meet"

SUBMISSION = timedelta(days=SUBMISSION_DAYS)


@dataclass(frozen=True)
class Watched:
    personas: Personas
    patient_name: str
    plan_id: uuid.UUID
    review_id: uuid.UUID


@pytest.fixture
def watched(live_site: LiveSite) -> Watched:
    """A new clinic's patient on esketamine who reported ketamine use outside the clinic at a
    check-in (an urgent signal with an open review), and two REMS forms near their deadline."""
    with live_site.write() as db:
        personas = make_personas(db)
        set_settings(db, personas)
        course = enrol(db, personas, start_days_ago=30, auditc=(1, 1, 0))
        first = course.dose(0, 56)
        course.check_in(2, craving=4, substance_use=ketamine_use(course, 2))
        [review] = course.reviews()
        second = course.book(4)
        course.book(30)  # 09:00 today in the clinic, for the dashboard
        today = utcnow().astimezone(TIMEZONE).date()
        for session, due in ((first, today - timedelta(days=1)), (second, today)):
            db.add(
                RemsForm(
                    session_id=session.id,
                    clinic_id=personas.clinic_a.id,
                    fields={
                        "patient_name": "Pat Synthetic",
                        "treatment_date": str(due - SUBMISSION),
                    },
                    due_on=due,
                )
            )
        name = f"{course.patient.given_name} {course.patient.family_name}"
    return Watched(personas, name, course.plan.id, review.id)


def _log_in_with_mfa(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Set up my authenticator app").click()
    secret = re.sub(r"\s", "", page.locator("[data-mfa-secret]").inner_text())
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on multi-factor authentication").click()
    page.get_by_role("link", name="I have saved them: continue").click()


def test_a_prescriber_pauses_treatment_from_a_review_and_booking_is_refused(
    page: Page, live_site: LiveSite, watched: Watched, screenshot: Screenshot
) -> None:
    _log_in_with_mfa(page, watched.personas.prescriber_a.email)
    reviews = page.locator('[data-dashboard="reviews"]')
    expect(reviews.get_by_role("link", name=watched.patient_name, exact=True)).to_be_visible()
    expect(page.locator('[data-dashboard="rems"]')).to_contain_text("Overdue")
    expect(page.locator('[data-dashboard="dependence"]')).to_contain_text("Urgent")
    expect(page.locator('[data-session-state="scheduled"]')).to_contain_text(watched.patient_name)
    screenshot(page, "dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dependence watch").click()
    row = page.locator("[data-worklist] tbody tr").first
    expect(row.get_by_role("link", name=watched.patient_name, exact=True)).to_be_visible()
    expect(row.locator("[data-status]")).to_have_text("Urgent")
    screenshot(page, "dependence-worklist")

    row.get_by_role("link", name="Open the review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Dependence review: {watched.patient_name}"
    )
    signal = page.locator('[data-signal^="outside_use."]')
    expect(signal).to_contain_text("Source:")
    expect(signal.locator("[data-evidence]").first).to_contain_text("Check-in")
    expect(page.locator("[data-judgement]")).to_contain_text("never replaces it")
    screenshot(page, "dependence-review")

    # A decision without its reason is refused on the form, and nothing changes.
    page.get_by_label(re.compile(r"Pause treatment:")).check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#reason-error")).to_contain_text("Write the reason for the decision")
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator("[data-plan-status]")).to_contain_text("Active")

    page.get_by_label("Reason for the decision").fill(REASON)
    follow_up = utcnow().astimezone(TIMEZONE).date() + timedelta(days=14)
    page.get_by_label("Follow-up date").fill(follow_up.isoformat())
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("[data-done]")).to_have_text("Decision recorded.")
    expect(page.locator('[data-decision="pause"]')).to_contain_text(REASON)
    expect(page.locator("[data-plan-status]")).to_contain_text("Paused")
    with live_site.write() as db:
        assert db.get_one(TreatmentPlan, watched.plan_id).status is PlanStatus.paused
        assert db.get_one(DependenceReview, watched.review_id).status is ReviewStatus.decided
        decision = db.scalars(
            select(DependenceDecision).where(DependenceDecision.review_id == watched.review_id)
        ).one()
        assert (decision.kind.value, decision.reason) == ("pause", REASON)

    page.get_by_role("link", name="Booking page").click()
    expect(page).to_have_url(re.compile(rf"/plans/{watched.plan_id}/book$"))
    next_week = utcnow().astimezone(TIMEZONE).date() + timedelta(days=7)
    page.get_by_label("Date").fill(next_week.isoformat())
    page.get_by_label("Time").fill("09:00")
    page.get_by_role("button", name="Book", exact=True).click()
    refusal = page.locator('[data-rule="plan_not_active"]')
    expect(refusal).to_contain_text("The treatment plan is not active")
    expect(refusal).to_contain_text("Cannot be overridden")
    expect(page.get_by_text("Nothing was booked.")).to_be_visible()
    screenshot(page, "booking-refused-paused")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="REMS forms").click()
    overdue = page.locator('[data-rems-state="overdue"]')
    expect(overdue.get_by_role("link", name="PDF")).to_have_count(1)
    expect(page.locator('[data-rems-state="due_soon"] [data-rems-form]')).to_have_count(1)
    screenshot(page, "rems-forms")

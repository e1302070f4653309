"""The session pages in a real browser: a nurse runs an esketamine session at the chair, from
check-in to discharge, while a bedside gateway posts vitals, and a prescriber's too-early booking
is refused with its rule."""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2
import pyotp
import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect

from ketaguard.audit.service import AuditContext
from ketaguard.auth.permissions import Permission
from ketaguard.auth.service import principal_for_user
from ketaguard.clinics.models import Organisation
from ketaguard.kit.time import utcnow
from ketaguard.protocols.loader import load_builtin
from ketaguard.sessions.booking import book
from ketaguard.sessions.models import TreatmentSession
from ketaguard.sessions.run import clear_for_discharge
from ketaguard.sessions.schemas import BookingRequest
from tests.factories import (
    PASSWORD,
    Personas,
    issue_token,
    make_active_plan,
    make_eligible,
    make_personas,
)
from tests.web.conftest import LiveSite

Screenshot = Callable[[Page, str], Path]
TIMEZONE = ZoneInfo("America/Chicago")  # make_personas' Clinic A
# The page refreshes alerts every 2 s and vitals every 5 s; allow for a busy machine.
LIVE_TIMEOUT = 15_000
TABLET: ViewportSize = {"width": 1024, "height": 768}  # a tablet in landscape, at the chair


@dataclass(frozen=True)
class Chair:
    personas: Personas
    plan_id: uuid.UUID
    session_id: uuid.UUID
    gateway_token: str


@pytest.fixture
def chair(live_site: LiveSite) -> Chair:
    """A new clinic's eligible patient with an esketamine plan and a session booked for today,
    and an API token for the chair's monitor (its own organisation, so tests do not meet). The
    organisation asks every account for MFA, nurses included."""
    today = utcnow().astimezone(TIMEZONE).date()
    with live_site.write() as db:
        personas = make_eligible(db, make_personas(db))
        db.get_one(Organisation, personas.clinic_a.organisation_id).require_mfa_for_all = True
        plan = make_active_plan(db, personas, start=today - timedelta(days=1))
        prescriber = principal_for_user(db, personas.prescriber_a, None)
        session = book(
            db,
            prescriber,
            AuditContext(),
            plan.id,
            BookingRequest(local_start=datetime.combine(today, time(0, 5))),
        )
        token = issue_token(db, personas, "Chair 1 monitor", Permission.vitals_write)
    return Chair(personas, plan.id, session.id, token.secret)


def _local(minutes_ago: float) -> str:
    at = (utcnow() - timedelta(minutes=minutes_ago)).astimezone(TIMEZONE)
    return f"{at:%Y-%m-%dT%H:%M}"


def _device_posts(
    site: LiveSite, chair: Chair, sbp: int, dbp: int, measured_at: datetime | None = None
) -> None:
    """What the bedside gateway sends, straight to the API with its token."""
    at = (measured_at or utcnow()).isoformat()
    response = httpx2.post(
        f"{site.url}/api/sessions/{chair.session_id}/vitals/device",
        json={
            "device_id": "chair-1-monitor",
            "readings": [
                {"vital": "systolic_bp", "value": sbp, "measured_at": at},
                {"vital": "diastolic_bp", "value": dbp, "measured_at": at},
                {"vital": "spo2", "value": 98, "measured_at": at},
            ],
        },
        headers={"Authorization": f"Bearer {chair.gateway_token}"},
    )
    assert response.status_code == 200, response.text


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _enrol_mfa(page: Page) -> None:
    """First login: set up the authenticator app, as a person would with the key shown."""
    page.get_by_role("button", name="Set up my authenticator app").click()
    secret = re.sub(r"\s", "", page.locator("[data-mfa-secret]").inner_text())
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on multi-factor authentication").click()
    page.get_by_role("link", name="I have saved them: continue").click()


def _two_hours_pass(site: LiveSite, chair: Chair) -> datetime:
    """Instead of waiting out the observation, move the dose back two hours; returns when the
    first device was given."""
    with site.write() as db:
        session = db.get_one(TreatmentSession, chair.session_id)
        assert session.dosed_at is not None
        assert session.observation_started_at is not None
        session.dosed_at -= timedelta(hours=2)
        session.observation_started_at -= timedelta(hours=2)
        session.device_times = [
            (datetime.fromisoformat(at) - timedelta(hours=2)).isoformat()
            for at in session.device_times
        ]
        return session.dosed_at


def _status(page: Page) -> Locator:
    return page.locator("[data-status]")


def test_a_nurse_runs_an_esketamine_session_at_the_chair(
    page: Page, live_site: LiveSite, chair: Chair, screenshot: Screenshot
) -> None:
    page.set_viewport_size(TABLET)
    _log_in(page, chair.personas.nurse_a.email)
    _enrol_mfa(page)
    page.get_by_role("link", name="Sessions today", exact=True).click()
    page.get_by_role("link", name="Pat Synthetic").click()
    expect(_status(page)).to_have_text("Scheduled")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_text("Checked in.", exact=True)).to_be_visible()

    # The monitor sends a raised blood pressure: the alert shows up on the open page.
    _device_posts(live_site, chair, 150, 88)
    alert = page.locator('[data-alert="vitals.systolic_bp.above"]')
    expect(alert).to_contain_text("Systolic BP 150 mmHg is above 140 mmHg", timeout=LIVE_TIMEOUT)
    expect(page.locator('[data-latest="systolic_bp"]')).to_contain_text("150", timeout=LIVE_TIMEOUT)
    screenshot(page, "chair-side-alert")
    alert.get_by_label("What was done about it").fill("Rechecked after 5 minutes' rest: 132/84")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(page.get_by_text("No open alerts for this session.")).to_be_visible()

    checklist = page.locator("#pre-dose")
    for check in load_builtin()["esketamine-trd"].pre_dose_checks:
        checklist.get_by_label(check.what, exact=True).check()
    checklist.get_by_label("Systolic BP (mmHg)", exact=True).fill("132")
    checklist.get_by_label("Diastolic BP (mmHg)", exact=True).fill("84")
    checklist.get_by_label("Craving since the last session, from 0 (none) to 10").fill("1")
    checklist.get_by_label("Not pregnant").check()
    checklist.get_by_label(re.compile(r"5: Answers readily")).check()
    checklist.get_by_role("button", name="Clear to dose").click()
    expect(_status(page)).to_have_text("Cleared to dose")

    # Given ten minutes ago, as a nurse catching up on the record would enter it.
    dose = page.locator("#dose")
    expect(dose.get_by_label("Dose given (mg)")).to_have_value("56")
    dose.get_by_label("Lot number").fill("LOT-2291")
    dose.get_by_label("First device given at").fill(_local(10))
    dose.get_by_role("button", name="Record the dose start").click()
    devices = page.locator("#dose-complete")
    devices.get_by_label("Device 2 given at").fill(_local(5))
    devices.get_by_role("button", name="Record the dose as complete").click()
    expect(_status(page)).to_have_text("Monitoring")

    _device_posts(live_site, chair, 128, 82)
    expect(page.locator('[data-latest="systolic_bp"]')).to_contain_text("128", timeout=LIVE_TIMEOUT)
    expect(page.locator("[data-charts] canvas")).to_have_count(3)
    expect(page.locator("[data-live-problem]")).to_be_hidden()
    screenshot(page, "chair-side")

    discharge = page.locator("#discharge")
    discharge.get_by_label("The arranged ride home is here").check()
    discharge.get_by_label(re.compile("REMS evaluation question")).fill("90")
    discharge.get_by_role("button", name="Discharge").click()
    unmet = page.locator('[data-unmet="min_observation_elapsed"]')
    expect(unmet).to_contain_text(re.compile(r"\d+ minutes remain of the 120-minute observation"))
    expect(page.locator('[data-unmet="prescriber_cleared"]')).to_be_visible()
    expect(_status(page)).to_have_text("Monitoring")
    screenshot(page, "chair-side-discharge-refused")

    # Two hours on: sedation is back to baseline and the prescriber has cleared the patient.
    dosed_at = _two_hours_pass(live_site, chair)
    # The REMS form wants blood pressure before the dose and about 40 minutes after it.
    _device_posts(live_site, chair, 130, 82, dosed_at - timedelta(minutes=5))
    _device_posts(live_site, chair, 134, 84, dosed_at + timedelta(minutes=40))
    _device_posts(live_site, chair, 126, 80)
    ratings = page.locator("#ratings")
    ratings.get_by_label(re.compile(r"5: Answers readily")).check()
    ratings.get_by_role("button", name="Save MOAA/S").click()
    with live_site.write() as db:
        prescriber = principal_for_user(db, chair.personas.prescriber_a, None)
        clear_for_discharge(db, prescriber, AuditContext(), chair.session_id)
    page.reload()
    discharge = page.locator("#discharge")
    discharge.get_by_label("The arranged ride home is here").check()
    discharge.get_by_label(re.compile("REMS evaluation question")).fill("90")
    discharge.get_by_role("button", name="Discharge").click()
    expect(_status(page)).to_have_text("Discharged")
    screenshot(page, "chair-side-discharged")


def test_a_prescribers_too_early_booking_is_refused_with_its_rule(
    page: Page, chair: Chair, screenshot: Screenshot
) -> None:
    _log_in(page, chair.personas.prescriber_a.email)
    _enrol_mfa(page)

    page.get_by_role("link", name="Book a session").click()
    page.get_by_role("link", name="Book for Pat Synthetic").click()
    plan_start = utcnow().astimezone(TIMEZONE).date() - timedelta(days=1)
    page.get_by_label("Date").fill((plan_start - timedelta(days=3)).isoformat())
    page.get_by_label("Time").fill("09:00")
    page.get_by_role("button", name="Book", exact=True).click()
    refusal = page.locator('[data-rule="before_plan_start"]')
    expect(refusal).to_contain_text("Before the plan starts")
    expect(refusal.locator("dt", has_text="Days before the start")).to_be_visible()
    expect(refusal.locator("dd", has_text="3 days")).to_be_visible()
    screenshot(page, "booking-refused")

    page.get_by_label("Reason for booking past the plan's limits").fill(
        "Travelling on the planned start; starting early keeps the induction on track"
    )
    page.get_by_role("button", name="Book past the limits").click()
    expect(page.locator("[data-booked]")).to_contain_text("Booked past the plan's limits")

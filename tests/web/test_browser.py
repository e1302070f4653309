"""The pages in a real browser: login with MFA, errors, logout, the idle warning, refusals and the
public self-check. Each test drives the running server the way a person would."""

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import LoginSession, SessionEnd, User
from ketaguard.auth.service import LOGIN_FAILED
from ketaguard.clinics.models import Organisation, Role
from ketaguard.kit.time import utcnow
from tests.factories import PASSWORD, Personas, current_totp, make_clinic, make_staff
from tests.web.conftest import LiveSite
from tests.web.forms import row_counts

Screenshot = Callable[[Page, str], Path]


def _log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _user(site: LiveSite, user: User) -> User:
    with site.write() as db:
        return db.get_one(User, user.id)


def _audit_actions(site: LiveSite, user: User) -> list[str]:
    with site.write() as db:
        return list(
            db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.actor_user_id == user.id)
                .order_by(AuditEvent.seq)
            )
        )


def test_a_prescriber_sets_up_mfa_at_first_login_then_logs_in_with_a_code(
    page: Page, live_site: LiveSite, live_personas: Personas, screenshot: Screenshot
) -> None:
    prescriber = live_personas.prescriber_a
    page.goto("/login")
    screenshot(page, "login")
    _log_in(page, prescriber.email)
    expect(page).to_have_url(re.compile(r"/login/mfa/enrol$"))
    page.get_by_role("button", name="Set up my authenticator app").click()
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "mfa-enrolment")
    # Type the key shown on the page into an "authenticator", as a person without a camera would.
    secret = re.sub(r"\s", "", page.locator("[data-mfa-secret]").inner_text())
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on multi-factor authentication").click()
    expect(page.get_by_role("heading", name="Multi-factor authentication is on")).to_be_visible()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    screenshot(page, "mfa-recovery-codes")
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Welcome, Test Prescriber")).to_be_visible()
    expect(page.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("ketaguard supports clinical judgement")).to_be_visible()
    screenshot(page, "home-prescriber")
    page.set_viewport_size({"width": 768, "height": 1024})
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    screenshot(page, "home-prescriber-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Sign out").click()
    _log_in(page, prescriber.email)
    expect(page).to_have_url(re.compile(r"/login/mfa$"))
    screenshot(page, "mfa-code")
    code = current_totp(_user(live_site, prescriber), live_site.settings.secret_key)
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Welcome, Test Prescriber")).to_be_visible()
    # The home page then shows the dependence worklist, whose read is audited as the API's is.
    assert _audit_actions(live_site, prescriber)[-2:] == ["auth.mfa", "dependence.worklist.read"]


def test_a_wrong_password_is_shown_next_to_the_password_field(
    page: Page, live_personas: Personas, screenshot: Screenshot
) -> None:
    _log_in(page, live_personas.therapist_a.email, "not-the-password")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile(re.escape(LOGIN_FAILED)))
    field = page.locator(".field", has=page.locator("#password"))
    expect(field.locator(".field-error")).to_have_text(re.compile(re.escape(LOGIN_FAILED)))
    expect(
        page.locator(".field", has=page.locator("#email")).locator(".field-error")
    ).to_have_count(0)
    expect(page.get_by_label("E-mail address")).to_have_value(live_personas.therapist_a.email)
    expect(page.locator("[data-error-summary]")).to_be_focused()
    screenshot(page, "login-wrong-password")


def test_signing_out_ends_the_session_and_the_pages_ask_for_login_again(
    page: Page, live_site: LiveSite, live_personas: Personas
) -> None:
    nurse = live_personas.nurse_a
    _log_in(page, nurse.email)
    expect(page.get_by_role("heading", name="Welcome, Test Nurse")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?notice=signed-out$"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert page.context.cookies() == []
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    with live_site.write() as db:
        ends = db.scalars(select(LoginSession.end_reason).where(LoginSession.user_id == nurse.id))
        assert SessionEnd.logout in set(ends)


def test_the_idle_warning_comes_before_the_time_out_and_can_keep_the_session(
    page: Page, live_site: LiveSite, screenshot: Screenshot
) -> None:
    with live_site.write() as db:
        clinic = make_clinic(db, name="Idle Clinic")
        nurse = make_staff(db, clinic, Role.nurse)
        db.get_one(Organisation, clinic.organisation_id).idle_timeout_minutes = 2
    page.clock.install()
    _log_in(page, nurse.email)
    warning = page.get_by_role("alertdialog", name="Are you still there?")
    expect(page.get_by_role("heading", name="Welcome, Test Nurse")).to_be_visible()
    expect(warning).to_be_hidden()

    # Two minutes' time-out: the warning shows for its last minute.
    page.clock.fast_forward(61_000)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("you will be signed out in 59 seconds")
    stay = page.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    screenshot(page, "idle-warning")
    with page.expect_response("**/session/keepalive") as keepalive:
        stay.press("Enter")
    assert keepalive.value.status == 204
    expect(warning).to_be_hidden()

    # Left alone this time, the session has really been idle when the countdown ends.
    with live_site.write() as db:
        db.execute(
            update(LoginSession)
            .where(LoginSession.user_id == nurse.id, LoginSession.ended_at.is_(None))
            .values(last_seen_at=utcnow() - timedelta(minutes=3))
        )
    page.clock.fast_forward(121_000)
    expect(page).to_have_url(re.compile(r"/login\?notice=ended$"))
    expect(page.get_by_text("You were signed out because")).to_be_visible()
    assert _audit_actions(live_site, nurse)[-1] == "auth.timeout"


def test_a_page_the_role_may_not_see_is_refused_politely(
    page: Page, live_site: LiveSite, live_personas: Personas, screenshot: Screenshot
) -> None:
    _log_in(page, live_personas.front_desk_a.email)
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    response = page.goto("/portal")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="This page is not available to you")).to_be_visible()
    screenshot(page, "refused")
    page.get_by_role("link", name="Go to your home page").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    assert "auth.permission_denied" in _audit_actions(live_site, live_personas.front_desk_a)

    response = page.goto("/no-such-page")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    screenshot(page, "not-found")


def test_the_public_self_check_needs_no_account_and_stores_nothing(
    page: Page, live_site: LiveSite, screenshot: Screenshot
) -> None:
    with live_site.write() as db:
        before = row_counts(db)
    page.goto("/self-check")
    expect(page.get_by_text("Nothing you enter is stored.")).to_be_visible()
    screenshot(page, "self-check")
    for number in range(1, 11):
        question = page.get_by_role("group", name=re.compile(rf"^{number}\. "))
        question.get_by_label("Yes" if number in {1, 2, 4} else "No").check()
    page.get_by_label("Blood in your urine").check()
    page.get_by_role("button", name="See my result").click()

    expect(page.locator("[data-result-count]")).to_have_text(
        re.compile(r"You answered yes to\s+3 of the 10\s+signs")
    )
    expect(page.locator("[data-result-band]")).to_have_text(
        "That is a pattern health professionals call mild."
    )
    expect(page.get_by_text("These are signs, not a diagnosis.")).to_be_visible()
    expect(page.get_by_text("See a doctor soon and tell them you use ketamine.")).to_be_visible()
    expect(page.get_by_role("link", name="1-800-662-4357")).to_be_visible()
    screenshot(page, "self-check-result")
    assert page.context.cookies() == []
    with live_site.write() as db:
        assert row_counts(db) == before


def test_the_self_check_shows_a_missed_question_next_to_it(page: Page) -> None:
    page.goto("/self-check")
    page.get_by_role("button", name="See my result").click()
    first = page.get_by_role("group", name=re.compile(r"^1\. "))
    expect(first.locator(".field-error")).to_have_text(re.compile("Choose yes or no"))
    expect(page.locator("[data-error-summary]")).to_be_focused()

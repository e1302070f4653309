"""The web pages over HTTP: login and MFA forms, errors next to fields, refusals, the self-check."""

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.deps import SESSION_COOKIE
from ketaguard.auth.mfa_service import WRONG_CODE
from ketaguard.auth.models import LoginSession, User
from ketaguard.auth.service import LOGIN_FAILED, principal_for_user
from ketaguard.clinics.models import Organisation
from ketaguard.kit.errors import install_error_handlers
from ketaguard.kit.time import utcnow
from ketaguard.web.assets import VENDOR_FILES
from ketaguard.web.install import install_web
from ketaguard.web.nav import nav_for
from tests.auth.test_route_guard import PUBLIC_ROUTES
from tests.factories import Personas
from tests.web.forms import (
    BROWSER,
    csrf_of,
    enrol_on_the_web,
    field_error,
    post_login,
    row_counts,
    web_login,
)

JUDGEMENT_NOTE = "ketaguard supports clinical judgement; it never replaces it."


@pytest.fixture
def browser(client: TestClient) -> TestClient:
    """The test client, asking for pages as a browser does."""
    client.headers.update(BROWSER)
    return client


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _live_login(db: Session, user: User) -> LoginSession:
    return db.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ).one()


def test_the_login_page_labels_its_fields_and_sends_protective_headers(
    browser: TestClient,
) -> None:
    page = browser.get("/login")
    assert page.status_code == 200
    assert '<label for="email">E-mail address</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert JUDGEMENT_NOTE in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "set-cookie" not in page.headers


def test_an_empty_login_form_names_each_missing_field(browser: TestClient) -> None:
    page = browser.post("/login", data={"email": " ", "password": ""})
    assert page.status_code == 422
    assert field_error(page, "email") == "Enter your e-mail address"
    assert field_error(page, "password") == "Enter your password"


def test_a_wrong_password_is_shown_next_to_the_password_and_counted(
    browser: TestClient, personas: Personas, db: Session
) -> None:
    page = post_login(browser, personas.nurse_a.email, "not-the-password")
    assert page.status_code == 401
    assert field_error(page, "password") == LOGIN_FAILED
    assert field_error(page, "email") is None
    assert f'value="{personas.nurse_a.email}"' in page.text
    assert "not-the-password" not in page.text
    db.refresh(personas.nurse_a)
    assert personas.nurse_a.failed_login_count == 1
    assert [e.outcome for e in _events(db, "auth.login")] == ["failure"]


def test_a_login_without_mfa_lands_on_the_staff_home(
    browser: TestClient, personas: Personas
) -> None:
    step = post_login(browser, personas.therapist_a.email)
    assert (step.status_code, step.headers["location"]) == (303, "/")
    assert "httponly" in step.headers["set-cookie"].lower()
    home = browser.get("/")
    assert home.status_code == 200
    assert "Welcome, Test Therapist" in home.text
    assert "Clinic A" in home.text
    assert '<a href="/" aria-current="page">Home</a>' in home.text
    assert 'action="/logout"' in home.text
    assert JUDGEMENT_NOTE in home.text


def test_a_prescriber_enrols_in_mfa_then_logs_in_with_a_code(
    browser: TestClient, personas: Personas, db: Session
) -> None:
    prescriber = personas.prescriber_a
    step = post_login(browser, prescriber.email)
    assert step.headers["location"] == "/login/mfa/enrol"
    # Until the second factor is done, pages send the person back to it.
    assert browser.get("/", follow_redirects=False).headers["location"] == "/login/mfa"
    assert browser.get("/login/mfa", follow_redirects=False).headers["location"] == (
        "/login/mfa/enrol"
    )
    intro = browser.get("/login/mfa/enrol")
    assert "Set up my authenticator app" in intro.text
    assert "<svg" not in intro.text

    browser.post("/login/mfa/enrol", data={"csrf_token": csrf_of(intro)})
    shown = browser.get("/login/mfa/enrol")
    assert "<svg" in shown.text
    wrong = browser.post(
        "/login/mfa/enrol/confirm", data={"csrf_token": csrf_of(shown), "code": "000000"}
    )
    assert wrong.status_code == 401
    assert field_error(wrong, "code") == WRONG_CODE
    assert "<svg" in wrong.text, "the same QR code is shown again to retry"

    assert len(enrol_on_the_web(browser, prescriber)) == 10
    assert browser.get("/").status_code == 200

    out = browser.post(
        "/logout", data={"csrf_token": csrf_of(browser.get("/"))}, follow_redirects=False
    )
    assert out.headers["location"] == "/login?notice=signed-out"
    assert browser.get("/login?notice=signed-out").text.count("You are signed out.") == 1
    assert post_login(browser, prescriber.email).headers["location"] == "/login/mfa"
    home = web_login(browser, db, prescriber)
    assert "Welcome, Test Prescriber" in home.text


def test_a_wrong_code_is_shown_next_to_the_code_and_a_recovery_code_works(
    app: FastAPI, browser: TestClient, personas: Personas, db: Session
) -> None:
    prescriber = personas.prescriber_a
    post_login(browser, prescriber.email)
    recovery_codes = enrol_on_the_web(browser, prescriber)

    other = TestClient(app, headers=BROWSER)
    assert post_login(other, prescriber.email).headers["location"] == "/login/mfa"
    page = other.get("/login/mfa")
    wrong = other.post("/login/mfa", data={"csrf_token": csrf_of(page), "code": "123 456"})
    assert wrong.status_code == 401
    assert field_error(wrong, "code") == WRONG_CODE
    wrong = other.post(
        "/login/mfa", data={"csrf_token": csrf_of(page), "recovery_code": "not-a-code"}
    )
    assert field_error(wrong, "recovery_code") == WRONG_CODE
    assert "<details open>" in wrong.text
    done = other.post(
        "/login/mfa",
        data={"csrf_token": csrf_of(page), "recovery_code": recovery_codes[0]},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert other.get("/").status_code == 200


def test_a_form_posted_without_its_csrf_token_is_refused_on_a_page(
    browser: TestClient, personas: Personas, db: Session
) -> None:
    web_login(browser, db, personas.nurse_a)
    refused = browser.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert "This page is not available to you" in refused.text
    assert "CSRF" in refused.text
    assert [e.outcome for e in _events(db, "auth.csrf")] == ["denied"]
    assert _live_login(db, personas.nurse_a).ended_at is None


def _web_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if context.path is not None and context.methods and not context.path.startswith("/api/")
        for method in context.methods
        if method != "HEAD" and context.path not in {"/docs", "/openapi.json", "/healthz"}
    )


def test_every_page_sends_an_anonymous_browser_to_login_and_a_script_gets_401(
    app: FastAPI, browser: TestClient
) -> None:
    guarded = [route for route in _web_routes(app) if route not in PUBLIC_ROUTES]
    assert ("GET", "/") in guarded
    assert ("POST", "/logout") in guarded
    for method, path in guarded:
        page = browser.request(method, path, follow_redirects=False)
        assert (page.status_code, page.headers.get("location")) == (303, "/login"), path
        api = browser.request(method, path, headers={"Accept": "*/*"})
        assert api.status_code == 401, path
        assert "detail" in api.json()


def test_a_patient_lands_on_the_portal_and_staff_are_refused_it(
    app: FastAPI, browser: TestClient, personas: Personas, db: Session
) -> None:
    patient = TestClient(app, headers=BROWSER)
    post_login(patient, personas.patient_user_a.email)
    assert patient.get("/", follow_redirects=False).headers["location"] == "/portal"
    portal = patient.get("/portal")
    assert portal.status_code == 200
    assert '<a href="/portal" aria-current="page">My portal</a>' in portal.text
    assert 'href="/">Home</a>' not in portal.text
    assert "988" in portal.text

    web_login(browser, db, personas.nurse_a)
    refused = browser.get("/portal")
    assert refused.status_code == 403
    assert "This page is for patients, signed in with their own account" in refused.text
    assert 'href="/login"' not in refused.text, "a signed-in person is not offered a login link"
    [event] = _events(db, "auth.permission_denied")
    assert event.actor_user_id == personas.nurse_a.id


def test_the_navigation_shows_each_role_only_its_pages(db: Session, personas: Personas) -> None:
    def paths(user: User) -> list[str]:
        return [link.path for link in nav_for(principal_for_user(db, user, None))]

    assert paths(personas.admin_a) == [
        "/",
        "/patients",
        "/dependence",
        "/protocols",
        "/admin/users",
        "/admin/organisation",
        "/admin/tokens",
        "/admin/audit",
        "/admin/break-glass",
        "/docs",
    ]
    assert paths(personas.nurse_a) == [
        "/",
        "/patients",
        "/sessions",
        "/booking",
        "/dependence",
        "/rems",
        "/protocols",
    ]
    assert paths(personas.patient_user_a) == ["/portal"]


def test_an_unknown_page_is_a_page_for_browsers_and_json_for_scripts(
    browser: TestClient,
) -> None:
    page = browser.get("/no-such-page")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert browser.get("/no-such-page", headers={"Accept": "*/*"}).json() == {"detail": "Not Found"}
    assert browser.get("/api/no-such-thing").json() == {"detail": "Not Found"}


def test_an_idle_session_ends_and_the_browser_is_sent_to_login_with_a_notice(
    browser: TestClient, personas: Personas, db: Session
) -> None:
    web_login(browser, db, personas.nurse_a)
    login = _live_login(db, personas.nurse_a)
    login.last_seen_at = utcnow() - timedelta(minutes=16)
    db.commit()
    page = browser.get("/", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?notice=ended")
    assert f'{SESSION_COOKIE}=""' in page.headers["set-cookie"]
    assert [e.resource_id for e in _events(db, "auth.timeout")] == [str(login.id)]
    assert "You were signed out because" in browser.get("/login?notice=ended").text
    assert 'class="notice"' not in browser.get("/login?notice=<b>made-up</b>").text


def test_signed_in_pages_carry_the_organisations_idle_timeout(
    browser: TestClient, personas: Personas, db: Session
) -> None:
    organisation = db.get_one(Organisation, personas.nurse_a.organisation_id)
    organisation.idle_timeout_minutes = 3
    db.commit()
    home = web_login(browser, db, personas.nurse_a)
    assert 'data-idle-timeout-seconds="180"' in home.text
    assert 'data-idle-warning-seconds="90"' in home.text
    assert 'id="idle-warning"' in home.text
    assert "data-idle-timeout-seconds" not in browser.get("/self-check").text


def test_stay_signed_in_records_activity_and_needs_the_csrf_header(
    browser: TestClient, personas: Personas, db: Session
) -> None:
    web_login(browser, db, personas.nurse_a)
    login = _live_login(db, personas.nurse_a)
    login.last_seen_at = utcnow() - timedelta(minutes=10)
    db.commit()
    refused = browser.post("/session/keepalive", headers={"HX-Request": "true"})
    assert refused.status_code == 403
    db.refresh(login)
    assert utcnow() - login.last_seen_at > timedelta(minutes=9)
    kept = browser.post(
        "/session/keepalive",
        headers={"HX-Request": "true", "X-CSRF-Token": login.csrf_token},
    )
    assert kept.status_code == 204
    db.refresh(login)
    assert utcnow() - login.last_seen_at < timedelta(minutes=1)


def test_an_htmx_request_after_the_session_ended_moves_the_whole_page_to_login(
    browser: TestClient,
) -> None:
    response = browser.post("/session/keepalive", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login"


SIGNS_YES_1_TO_4 = {f"kud-{n}": ("yes" if n <= 4 else "no") for n in range(1, 11)}


def test_the_self_check_answers_without_storing_anything(
    browser: TestClient, db: Session, personas: Personas
) -> None:
    before = row_counts(db)
    form = browser.get("/self-check")
    assert "Nothing you enter is stored" in form.text
    assert "<legend>1. Have you often used more ketamine" in form.text
    result = browser.post(
        "/self-check", data={**SIGNS_YES_1_TO_4, "bladder": ["urgency", "haematuria"]}
    )
    assert result.status_code == 200
    assert "<strong>4 of the 10</strong> signs" in result.text
    assert "That is a pattern health professionals call moderate." in result.text
    assert "These are signs, not a diagnosis." in result.text
    assert "Blood in your urine" in result.text
    assert "1-800-662-4357" in result.text
    assert "988" in result.text
    assert "Nothing you entered was stored" in result.text
    assert "set-cookie" not in form.headers
    assert "set-cookie" not in result.headers
    assert row_counts(db) == before


def test_the_self_check_names_each_unanswered_question(browser: TestClient) -> None:
    answers = {**SIGNS_YES_1_TO_4, "kud-3": "", "kud-7": "maybe"}
    del answers["kud-9"]
    page = browser.post("/self-check", data={**answers, "bladder": "made-up"})
    assert page.status_code == 422
    assert 'href="#kud-3">Question 3: Choose yes or no' in page.text
    for item_id in ("kud-3", "kud-7", "kud-9"):
        assert f'id="{item_id}-error"' in page.text
    assert 'id="kud-1-error"' not in page.text
    assert 'id="kud-1-yes" name="kud-1" value="yes" checked' in page.text
    assert "Tick only the symptoms listed" in page.text


def _bare_app(vendor_dir: Path) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    install_web(app, vendor_dir=vendor_dir)
    return TestClient(app, headers=BROWSER)


def test_pages_name_the_browser_libraries_that_are_not_installed(tmp_path: Path) -> None:
    page = _bare_app(tmp_path).get("/self-check")
    assert "This server is missing its browser libraries" in page.text
    assert "htmx.min.js" in page.text
    assert "make assets" in page.text
    for name in VENDOR_FILES:
        (tmp_path / name).write_text("/* installed */")
    assert "missing its browser libraries" not in _bare_app(tmp_path).get("/self-check").text

"""The admin pages in a real browser: an admin logs in with MFA, issues an API token whose secret is
shown once, filters the audit report, sorts it and downloads it as CSV, and checks a protocol."""

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ketaguard.auth.models import ApiToken, User
from ketaguard.auth.secrets import token_hash
from tests.factories import PASSWORD, Personas, current_totp
from tests.web.conftest import LiveSite

Screenshot = Callable[[Page, str], Path]


def _log_in_with_mfa(page: Page, site: LiveSite, user: User) -> None:
    """Password, then the second factor: set up at the first login, a code after that."""
    page.goto("/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/login/mfa(/enrol)?$"))
    if page.url.endswith("/enrol"):
        page.get_by_role("button", name="Set up my authenticator app").click()
        secret = re.sub(r"\s", "", page.locator("[data-mfa-secret]").inner_text())
        page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on multi-factor authentication").click()
        page.get_by_role("link", name="I have saved them: continue").click()
    else:
        with site.write() as db:
            stored = db.get_one(User, user.id)
            code = current_totp(stored, site.settings.secret_key)
        page.get_by_label("6-digit code").fill(code)
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_be_visible()


def test_an_admin_issues_a_token_whose_secret_is_shown_once(
    page: Page, live_site: LiveSite, live_personas: Personas, screenshot: Screenshot
) -> None:
    _log_in_with_mfa(page, live_site, live_personas.admin_a)
    page.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("heading", name="Users and roles")).to_be_visible()
    expect(page.get_by_role("cell", name=live_personas.nurse_a.email)).to_be_visible()
    screenshot(page, "admin-users")
    page.get_by_role("link", name="Test Nurse").click()
    expect(page.get_by_role("button", name="Disable this account")).to_be_visible()
    screenshot(page, "admin-user")
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_label("Idle time-out, in minutes")).to_have_value("15")
    screenshot(page, "admin-security")

    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name", exact=True).fill("Chair 3 monitor")
    page.get_by_label("Clinic", exact=True).select_option(label="Clinic A")
    page.get_by_label("Send vital signs (for a bedside monitor or gateway)").check()
    # Submitted from the keyboard, as a person who does not use a mouse would.
    page.get_by_label("Name", exact=True).press("Enter")

    shown = page.get_by_role("textbox", name="Token", exact=True)
    expect(page.get_by_text("This is the only time it is shown.")).to_be_visible()
    expect(shown).to_have_value(re.compile(r"^kg_"))
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    secret = shown.input_value()
    with live_site.write() as db:
        token = db.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).one()
    assert (token.name, token.scopes) == ("Chair 3 monitor", "vitals:write")
    screenshot(page, "admin-token-issued")

    page.goto("/admin/tokens")
    expect(page.get_by_role("cell", name="Chair 3 monitor", exact=True)).to_be_visible()
    assert secret not in page.content()
    screenshot(page, "admin-tokens")
    page.get_by_role("button", name="Revoke Chair 3 monitor").click()
    expect(page.get_by_text("The token is revoked.")).to_be_visible()
    expect(page.get_by_text(re.compile("^Revoked "))).to_be_visible()


def test_an_admin_filters_sorts_and_downloads_the_audit_report(
    page: Page, live_site: LiveSite, live_personas: Personas, screenshot: Screenshot
) -> None:
    _log_in_with_mfa(page, live_site, live_personas.admin_a)
    page.get_by_role("link", name="Audit report").click()
    page.get_by_label("Action", exact=True).fill("auth.*")
    page.get_by_role("button", name="Show events").click()
    expect(page).to_have_url(re.compile(r"action=auth\.\*|action=auth\.%2A"))
    table = page.locator("[data-audit-events]")
    expect(table.locator("tbody tr").first).to_be_visible()
    actions = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert actions
    assert all(action.startswith("auth.") for action in actions)

    page.get_by_role("link", name="Action", exact=True).click()
    expect(page.get_by_role("columnheader", name=re.compile("^Action"))).to_have_attribute(
        "aria-sort", "ascending"
    )
    sorted_actions = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert sorted_actions == sorted(sorted_actions)
    screenshot(page, "admin-audit")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download all \d+ as CSV$")).click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert sorted(row["action"] for row in rows) == [row["action"] for row in rows]
    assert {row["action"][:5] for row in rows} == {"auth."}

    page.set_viewport_size({"width": 768, "height": 1024})
    expect(page.get_by_role("button", name="Show events")).to_be_visible()
    screenshot(page, "admin-audit-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Protocols").click()
    screenshot(page, "admin-protocols")
    page.get_by_role("link", name=re.compile("^Racemic ketamine IV infusion")).click()
    expect(page.get_by_role("rowheader", name="Infusion time (minutes)")).to_be_visible()
    screenshot(page, "admin-protocol")

    page.goto("/protocols/new")
    page.get_by_label("Protocol", exact=True).fill('id = "northwind-iv"\nversion = 0\n')
    page.get_by_role("button", name="Check without saving").click()
    text = page.get_by_label("Protocol", exact=True)
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_have_accessible_description(re.compile("The protocol is not valid"))
    expect(page.locator("#text-problems")).to_contain_text("required field is missing")
    expect(page.locator("[data-error-summary]")).to_be_focused()
    screenshot(page, "admin-protocol-invalid")

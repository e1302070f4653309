"""The patient pages in a real browser: a prescriber (enrolling in MFA at first login) finds a
patient in the list, opens the chart and sees the PHQ-9 trend drawn by Chart.js."""

import re
from collections.abc import Callable
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_personas
from tests.web.conftest import LiveSite
from tests.web.test_patient_pages import build_course

Screenshot = Callable[[Page, str], Path]


def test_a_prescriber_opens_a_chart_from_the_list_and_sees_the_trends(
    page: Page, live_site: LiveSite, screenshot: Screenshot
) -> None:
    with live_site.write() as db:
        built = build_course(db, make_personas(db))
    personas = built.course.personas

    page.goto("/login")
    page.get_by_label("E-mail address").fill(personas.prescriber_a.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Set up my authenticator app").click()
    secret = re.sub(r"\s", "", page.locator("[data-mfa-secret]").inner_text())
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on multi-factor authentication").click()
    page.get_by_role("link", name="I have saved them: continue").click()

    page.get_by_role("link", name="Patients", exact=True).click()
    row = page.locator(f'[data-patient="{personas.patient_a.id}"]')
    expect(row.locator("[data-dependence]")).to_have_text("Urgent")
    expect(page.locator(f'[data-patient="{personas.patient_b.id}"]')).to_have_count(0)
    page.get_by_label("Find a patient").fill(personas.patient_a.record_number)
    page.get_by_role("button", name="Find").click()
    expect(page.locator("[data-patient-count]")).to_contain_text("1 patient matching")
    screenshot(page, "patient-list")

    row.get_by_role("link", name="Pat Synthetic").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pat Synthetic")
    canvas = page.locator("#trend-phq9 canvas")
    expect(canvas).to_be_visible()
    # trend.js attaches the Chart.js instance to the canvas it drew.
    page.wait_for_function(
        "() => { const c = document.querySelector('#trend-phq9 canvas'); "
        "return !!(c && c.chart && c.chart.data.datasets[0].data.length === 3); }"
    )
    drawn = page.locator("canvas[data-trend]").evaluate_all(
        "canvases => canvases.map(c => !!c.chart)"
    )
    assert drawn
    assert all(drawn)
    expect(page.locator("[data-dependence-status]")).to_have_text("Urgent")
    expect(page.locator("[data-outcome-status]")).to_have_text("Remission")
    expect(page.get_by_role("link", name=re.compile("Urgent review, opened"))).to_have_attribute(
        "href", f"/dependence/reviews/{built.review.id}"
    )
    screenshot(page, "patient-chart")

    # The sections are reachable from the contents by keyboard.
    contents = page.get_by_role("navigation", name="Sections of the chart")
    contents.get_by_role("link", name="Dependence watch").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#dependence$"))

"""The scheduling pages and the chair-side screen over HTTP: who may see them, refusals shown on
the form with nothing changed, and a session run from check-in to the REMS form."""

import json
import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.audit.models import AuditEvent
from ketaguard.auth.deps import AUTO_REFRESH_HEADER
from ketaguard.auth.models import LoginSession
from ketaguard.auth.permissions import Permission
from ketaguard.kit.time import utcnow
from ketaguard.plans.models import TreatmentPlan
from ketaguard.protocols.loader import load_builtin
from ketaguard.protocols.scheduling import RULE_IDS
from ketaguard.sessions.models import SessionStatus, TreatmentSession
from ketaguard.web.schedule_routes import NO_REASON
from ketaguard.web.schedule_view import NUMBER_LABELS, RULE_TITLES, shown
from ketaguard.web.session_forms import DECISION_NEEDED
from tests.factories import Personas, issue_token, make_active_plan
from tests.sessions.test_session_flow import _session
from tests.web.forms import Browse, Browser, field_error, row_counts

TIMEZONE = ZoneInfo("America/Chicago")  # Clinic A's
ESKETAMINE_CHECKS = [check.id for check in load_builtin()["esketamine-trd"].pre_dose_checks]


def _post(browser: Browser, url: str, data: dict[str, Any] | None = None) -> Response:
    form = {"csrf_token": browser.csrf, **(data or {})}
    return browser.post(url, data=form, follow_redirects=False)


def _local(minutes_ago: float) -> str:
    """A datetime-local field's value, on Clinic A's clocks."""
    at = (utcnow() - timedelta(minutes=minutes_ago)).astimezone(TIMEZONE)
    return f"{at:%Y-%m-%dT%H:%M}"


def _pre_dose_form(minutes_ago: float, sbp: int = 128, dbp: int = 82) -> dict[str, str]:
    return {
        **{f"check-{check}": "yes" for check in ESKETAMINE_CHECKS},
        "pre-systolic_bp": str(sbp),
        "pre-diastolic_bp": str(dbp),
        "pre-spo2": "98",
        "pre-measured-at": _local(minutes_ago),
        "pre-moaas": "5",
        "craving": "1",
        "pregnant": "no",
    }


def _status(db: Session, session_id: uuid.UUID) -> SessionStatus:
    db.expire_all()
    return db.get_one(TreatmentSession, session_id).status


@pytest.fixture
def esketamine(eligible: Personas, db: Session) -> uuid.UUID:
    return uuid.UUID(_session(db, eligible, "esketamine-trd"))


def _cleared(nurse: Browser, session_id: uuid.UUID, minutes_ago: float = 12) -> None:
    url = f"/sessions/{session_id}"
    assert _post(nurse, f"{url}/check-in").status_code == 303
    cleared = _post(nurse, f"{url}/pre-dose", _pre_dose_form(minutes_ago))
    assert cleared.status_code == 303, cleared.text


def _monitoring(nurse: Browser, session_id: uuid.UUID, dose_minutes_ago: float) -> None:
    """From scheduled to monitoring, the dose started `dose_minutes_ago` (two 28 mg devices)."""
    _cleared(nurse, session_id, dose_minutes_ago + 10)
    url = f"/sessions/{session_id}"
    first = _local(dose_minutes_ago)
    dosed = _post(
        nurse, f"{url}/dose", {"dose-mg": "56", "lot-number": "LOT-2291", "dose-started-at": first}
    )
    assert dosed.status_code == 303, dosed.text
    second = f"{datetime.fromisoformat(first) + timedelta(minutes=5):%Y-%m-%dT%H:%M}"
    complete = _post(nurse, f"{url}/dose/complete", {"device-2": second})
    assert complete.status_code == 303, complete.text


# --- Who may see what --------------------------------------------------------------------------


def test_nurses_and_prescribers_see_the_pages_and_their_links(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    session = db.get_one(TreatmentSession, esketamine)
    day = session.scheduled_at.astimezone(TIMEZONE).date()
    for user in (eligible.nurse_a, eligible.prescriber_a):
        browser = as_user(user)
        home = browser.get("/")
        assert '<a href="/sessions">Sessions today</a>' in home.text
        assert '<a href="/booking">Book a session</a>' in home.text
        listed = browser.get(f"/sessions?clinic={eligible.clinic_a.id}&day={day.isoformat()}")
        assert listed.status_code == 200
        assert f'href="/sessions/{esketamine}">Pat Synthetic</a>' in listed.text
        screen = browser.get(f"/sessions/{esketamine}")
        assert screen.status_code == 200
        assert "Status: <span data-status>Scheduled</span>" in screen.text
        assert f'action="/sessions/{esketamine}/check-in"' in screen.text
        assert "supports\n    clinical judgement and never replaces it" in screen.text
        assert "/static/vendor/chart.umd.min.js" in screen.text
        assert browser.get("/booking").status_code == 200
        assert browser.get(f"/plans/{session.plan_id}/book").status_code == 200
    # Chart.js is loaded only where there is a chart.
    assert "chart.umd.min.js" not in as_user(eligible.nurse_a).get("/booking").text


def test_front_desk_and_therapists_are_refused_where_the_api_refuses_them(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    plan_id = db.get_one(TreatmentSession, esketamine).plan_id
    front_desk, therapist = as_user(eligible.front_desk_a), as_user(eligible.therapist_a)
    for browser in (front_desk, therapist):
        refused = browser.get(f"/sessions/{esketamine}")
        assert refused.status_code == 403
        assert "This page is not available to you" in refused.text
        assert _post(browser, f"/sessions/{esketamine}/check-in").status_code == 403
    assert _status(db, esketamine) is SessionStatus.scheduled
    # Front desk books sessions (session:book); a therapist does not.
    assert front_desk.get(f"/plans/{plan_id}/book").status_code == 200
    assert therapist.get(f"/plans/{plan_id}/book").status_code == 403
    assert therapist.get("/booking").status_code == 403
    assert "Sessions today" not in therapist.get("/").text
    # The day's list only links to the chair-side screen for those who may run a session.
    day = db.get_one(TreatmentSession, esketamine).scheduled_at.astimezone(TIMEZONE).date()
    listed = front_desk.get(f"/sessions?day={day.isoformat()}")
    assert "Pat Synthetic" in listed.text
    assert f'href="/sessions/{esketamine}"' not in listed.text


def test_another_clinics_session_does_not_exist(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse
) -> None:
    assert as_user(eligible.prescriber_b).get(f"/sessions/{esketamine}").status_code == 404


# --- Booking -----------------------------------------------------------------------------------


@pytest.fixture
def plan(eligible: Personas, db: Session) -> TreatmentPlan:
    today = utcnow().astimezone(TIMEZONE).date()
    return make_active_plan(db, eligible, start=today + timedelta(days=3))


def _booking(day: date, at: str = "09:00", **extra: str) -> dict[str, str]:
    return {"date": day.isoformat(), "time": at, "dose_mg": "56", **extra}


def _sessions_of(db: Session, plan: TreatmentPlan) -> list[TreatmentSession]:
    db.expire_all()
    return list(db.scalars(select(TreatmentSession).where(TreatmentSession.plan_id == plan.id)))


def test_a_booking_within_the_plan_is_made_and_shown(
    plan: TreatmentPlan, eligible: Personas, as_user: Browse, db: Session
) -> None:
    nurse = as_user(eligible.nurse_a)
    booked = _post(nurse, f"/plans/{plan.id}/book", _booking(plan.start_date, "09:30"))
    assert booked.status_code == 303
    [session] = _sessions_of(db, plan)
    assert booked.headers["location"] == f"/plans/{plan.id}/book?booked={session.id}"
    assert session.scheduled_at.astimezone(TIMEZONE).time().isoformat() == "09:30:00"
    page = nurse.get(booked.headers["location"])
    assert "<strong>Booked</strong> for" in page.text
    listed = nurse.get(f"/sessions?day={plan.start_date.isoformat()}")
    assert "09:30" in listed.text
    assert f'href="/sessions/{session.id}"' in listed.text


def test_a_refused_booking_names_each_rule_with_its_numbers_and_books_nothing(
    plan: TreatmentPlan, eligible: Personas, as_user: Browse, db: Session
) -> None:
    front_desk = as_user(eligible.front_desk_a)
    too_early = plan.start_date - timedelta(days=2)
    refused = _post(front_desk, f"/plans/{plan.id}/book", _booking(too_early, dose_mg="84"))
    assert refused.status_code == 409
    assert _sessions_of(db, plan) == []
    text = re.sub(r"\s+", " ", refused.text)
    assert 'data-rule="before_plan_start"' in text
    assert "<h3>Before the plan starts</h3>" in text
    assert "<dt>Days before the start</dt><dd>2 days</dd>" in text
    assert 'data-rule="first_dose_mismatch"' in text
    assert "<dt>First dose</dt><dd>56 mg</dd>" in text
    assert "A prescriber can book past these limits, giving a reason." in text
    assert 'name="override_reason"' not in text
    assert f'value="{too_early.isoformat()}"' in text
    denied = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "session.book", AuditEvent.outcome == "denied"
        )
    ).one()
    assert [v["rule"] for v in json.loads(denied.detail)["violations"]] == [
        "before_plan_start",
        "no_phase_for_week",
        "first_dose_mismatch",
    ]


def test_a_prescriber_overrides_only_with_a_reason(
    plan: TreatmentPlan, eligible: Personas, as_user: Browse, db: Session
) -> None:
    prescriber = as_user(eligible.prescriber_a)
    url = f"/plans/{plan.id}/book"
    too_early = plan.start_date - timedelta(days=1)
    refused = _post(prescriber, url, _booking(too_early))
    assert refused.status_code == 409
    assert 'name="override_reason"' in refused.text
    assert "Book past the limits" in refused.text

    no_reason = _post(prescriber, url, _booking(too_early, override="yes", override_reason=" "))
    assert no_reason.status_code == 409
    assert field_error(no_reason, "override_reason") == NO_REASON
    assert 'data-rule="before_plan_start"' in no_reason.text
    short = _post(prescriber, url, _booking(too_early, override="yes", override_reason="ok"))
    assert short.status_code == 422
    assert "at least 10 characters" in (field_error(short, "override_reason") or "")
    assert 'data-rule="before_plan_start"' in short.text
    assert _sessions_of(db, plan) == []

    reason = "Starting a day early: travelling on the planned date"
    overridden = _post(prescriber, url, _booking(too_early, override="yes", override_reason=reason))
    assert overridden.status_code == 303
    [session] = _sessions_of(db, plan)
    assert session.override_reason == reason
    assert "before_plan_start" in session.overridden_rules
    assert "Booked past the plan's limits" in prescriber.get(overridden.headers["location"]).text


def test_a_booking_form_names_what_is_missing(
    plan: TreatmentPlan, eligible: Personas, as_user: Browse
) -> None:
    page = _post(as_user(eligible.nurse_a), f"/plans/{plan.id}/book", {"date": "", "time": "9"})
    assert page.status_code == 422
    assert field_error(page, "date") == "Enter the date of the session, like 2026-03-09"
    assert field_error(page, "time") == "Enter the time the session starts, like 09:30"


def test_every_booking_rule_has_words() -> None:
    assert set(RULE_TITLES) == set(RULE_IDS)
    view = shown(
        {
            "rule": "too_soon_after_previous",
            "message": "Session would be 23.5 hours after the previous one.",
            "numbers": {
                "hours_since_previous": 23.54,
                "min_interval_hours": 48.0,
                "previous_session_id": "x",
            },
            "overridable": True,
        }
    )
    assert view.title == "Too soon after the previous session"
    assert [(n.label, n.value) for n in view.numbers] == [
        ("Hours since the previous session", "23.5 hours"),
        ("Minimum gap", "48.0 hours"),
    ]
    assert "previous_session_id" not in NUMBER_LABELS


# --- The chair-side screen ---------------------------------------------------------------------


def test_a_dose_above_the_plan_is_refused_next_to_the_dose_and_nothing_is_stored(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    nurse = as_user(eligible.nurse_a)
    _cleared(nurse, esketamine)
    before = row_counts(db)
    refused = _post(
        nurse,
        f"/sessions/{esketamine}/dose",
        {"dose-mg": "84", "lot-number": "LOT-1", "dose-started-at": ""},
    )
    assert refused.status_code == 409
    assert field_error(refused, "dose-mg") == (
        "84 mg is above the 56 mg planned for this session; a higher dose needs a new booking"
    )
    assert 'id="lot-number" name="lot-number" type="text" autocomplete="off" value="LOT-1"' in (
        refused.text
    )
    assert row_counts(db) == before
    assert _status(db, esketamine) is SessionStatus.pre_dose_cleared
    missing = _post(nurse, f"/sessions/{esketamine}/dose", {"dose-mg": "", "lot-number": ""})
    assert missing.status_code == 422
    assert field_error(missing, "lot-number") == "Enter the lot number from the package"


def test_a_raised_pre_dose_bp_needs_a_prescribers_documented_decision(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    nurse, prescriber = as_user(eligible.nurse_a), as_user(eligible.prescriber_a)
    url = f"/sessions/{esketamine}"
    _post(nurse, f"{url}/check-in")
    form = _pre_dose_form(5, sbp=152, dbp=94)
    held = _post(nurse, f"{url}/pre-dose", form)
    assert held.status_code == 409
    assert "152 mmHg is above 140 mmHg before dosing" in (
        field_error(held, "pre-systolic_bp") or ""
    )
    assert "94 mmHg is above 90" in (field_error(held, "pre-diastolic_bp") or "")
    assert 'name="prescriber-decision"' not in held.text
    assert "ask a prescriber to complete this checklist" in held.text
    assert _status(db, esketamine) is SessionStatus.checked_in

    undecided = _post(prescriber, f"{url}/pre-dose", form)
    assert field_error(undecided, "prescriber-decision") == DECISION_NEEDED
    unticked = {k: v for k, v in _pre_dose_form(5).items() if k != "check-transport_home"}
    refused = _post(prescriber, f"{url}/pre-dose", unticked)
    assert field_error(refused, "check-transport_home") == (
        "Confirm this before dosing, or hold the dose"
    )
    decided = _post(
        prescriber,
        f"{url}/pre-dose",
        {**form, "prescriber-decision": "Anxious on arrival, recheck falling; benefit outweighs"},
    )
    assert decided.status_code == 303
    session = db.get_one(TreatmentSession, esketamine)
    db.refresh(session)
    assert session.status is SessionStatus.pre_dose_cleared
    assert session.prescriber_decision is not None
    assert session.prescriber_decision["findings"] == [
        "vitals.systolic_bp.above",
        "vitals.diastolic_bp.above",
    ]


def test_discharge_before_the_criteria_are_met_lists_each_unmet_one(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    nurse = as_user(eligible.nurse_a)
    _monitoring(nurse, esketamine, dose_minutes_ago=20)
    page = nurse.get(f"/sessions/{esketamine}")
    assert "Status: <span data-status>Monitoring</span>" in page.text
    refused = _post(nurse, f"/sessions/{esketamine}/discharge", {"rems-ready-minutes": "90"})
    assert refused.status_code == 409
    unmet = re.findall(r'data-unmet="([a-z_]+)">([^<]*)', refused.text)
    assert [criterion for criterion, _ in unmet] == [
        "min_observation_elapsed",
        "vitals_within_thresholds",
        "sedation_at_baseline",
        "transport_present",
        "prescriber_cleared",
    ]
    assert re.search(r"\d+ minutes remain of the 120-minute observation", unmet[0][1])
    assert _status(db, esketamine) is SessionStatus.monitoring


def test_a_session_runs_from_check_in_to_the_rems_form(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    nurse, prescriber = as_user(eligible.nurse_a), as_user(eligible.prescriber_a)
    url = f"/sessions/{esketamine}"
    _monitoring(nurse, esketamine, dose_minutes_ago=130)
    for minutes_ago in (90, 2):
        readings = {"vitals-systolic_bp": "126", "vitals-diastolic_bp": "80", "vitals-spo2": "98"}
        saved = _post(
            nurse, f"{url}/vitals", {**readings, "vitals-measured-at": _local(minutes_ago)}
        )
        assert saved.status_code == 303
    assert _post(nurse, f"{url}/ratings/moaas", {"moaas": "5"}).status_code == 303
    cadss = {f"cadss6-{n}": "0" for n in (1, 2, 6, 7, 15, 22)}
    assert _post(nurse, f"{url}/ratings/cadss6", cadss).status_code == 303
    event = {
        "ae-type": "nausea_vomiting",
        "ae-severity": "mild",
        "ae-serious": "no",
        "ae-action": "Antiemetic offered; resolved by itself",
        "ae-outcome": "resolved",
        "ae-onset": _local(60),
    }
    assert _post(nurse, f"{url}/adverse-events", event).status_code == 303
    not_prescriber = _post(nurse, f"{url}/clear")
    assert not_prescriber.status_code == 403
    assert "Only a prescriber can clear a patient to leave" in not_prescriber.text
    cleared = _post(prescriber, f"{url}/clear")
    assert cleared.status_code == 303
    discharged = _post(
        nurse, f"{url}/discharge", {"transport-present": "yes", "rems-ready-minutes": "95"}
    )
    assert discharged.status_code == 303, discharged.text
    assert _status(db, esketamine) is SessionStatus.discharged
    page = nurse.get(discharged.headers["location"])
    assert "Discharged." in page.text
    assert "/live/alerts" not in page.text, "a closed session's page does not refresh itself"
    assert "Nausea or vomiting" in page.text
    form_id = re.search(r'href="/api/rems/forms/([0-9a-f-]+)\.html"', page.text)
    assert form_id, "the page links to the printable REMS form"
    assert nurse.get(f"/api/rems/forms/{form_id.group(1)}.pdf").content.startswith(b"%PDF")
    future = (utcnow().astimezone(TIMEZONE).date() + timedelta(days=2)).isoformat()
    refused = _post(
        nurse,
        f"/rems/forms/{form_id.group(1)}/submitted",
        {"rems-submitted-on": future, "rems-method": "online"},
    )
    assert field_error(refused, "rems-submitted-on") == "submitted_on cannot be in the future"
    today = utcnow().astimezone(TIMEZONE).date().isoformat()
    submitted = _post(
        nurse,
        f"/rems/forms/{form_id.group(1)}/submitted",
        {"rems-submitted-on": today, "rems-method": "fax"},
    )
    assert submitted.status_code == 303
    assert "Recorded as submitted (fax)" in nurse.get(submitted.headers["location"]).text


# --- Live fragments ----------------------------------------------------------------------------


@pytest.fixture
def gateway(eligible: Personas, db: Session, app: FastAPI) -> TestClient:
    """A bedside monitor's gateway, with an API token that may post vitals."""
    issued = issue_token(db, eligible, "Chair 2 monitor", Permission.vitals_write)
    return TestClient(app, headers={"Authorization": f"Bearer {issued.secret}"})


def _device_bp(sbp: int, dbp: int) -> dict[str, Any]:
    at = utcnow().isoformat()
    return {
        "device_id": "monitor-7",
        "readings": [
            {"vital": "systolic_bp", "value": sbp, "measured_at": at},
            {"vital": "diastolic_bp", "value": dbp, "measured_at": at},
        ],
    }


def _live(browser: Browser, path: str) -> Response:
    return browser.get(path, headers={"HX-Request": "true", AUTO_REFRESH_HEADER: "true"})


def test_a_new_alert_reaches_the_open_page_and_is_acknowledged_with_an_action(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, gateway: TestClient, db: Session
) -> None:
    nurse = as_user(eligible.nurse_a)
    url = f"/sessions/{esketamine}"
    _post(nurse, f"{url}/check-in")
    page = nurse.get(url)
    shown_key = re.search(r"live/alerts\?shown=([0-9a-f]+)", page.text)
    assert shown_key
    assert _live(nurse, f"{url}/live/alerts?shown={shown_key.group(1)}").status_code == 204

    assert (
        gateway.post(
            f"/api/sessions/{esketamine}/vitals/device", json=_device_bp(150, 88)
        ).status_code
        == 200
    )
    fresh = _live(nurse, f"{url}/live/alerts?shown={shown_key.group(1)}")
    assert fresh.status_code == 200
    assert "Systolic BP 150 mmHg is above 140 mmHg before dosing" in fresh.text
    assert 'hx-headers=\'{"X-Auto-Refresh": "true"}\'' in fresh.text
    alert = db.scalars(select(Alert).where(Alert.session_id == esketamine)).one()
    field = f"ack-{alert.id}"

    empty = _post(nurse, f"/alerts/{alert.id}/acknowledge", {field: "  "})
    assert empty.status_code == 422
    assert field_error(empty, field) == "Say what was done about the alert"
    done = _post(nurse, f"/alerts/{alert.id}/acknowledge", {field: "Rechecked after rest: 132/84"})
    assert done.status_code == 303
    db.refresh(alert)
    assert alert.action_taken == "Rechecked after rest: 132/84"
    after = nurse.get(done.headers["location"])
    assert "No open alerts for this session." in after.text
    assert "Acknowledged alerts (1)" in after.text


def test_the_vitals_fragment_carries_readings_and_threshold_bands_when_they_change(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, gateway: TestClient, db: Session
) -> None:
    nurse = as_user(eligible.nurse_a)
    url = f"/sessions/{esketamine}"
    _post(nurse, f"{url}/check-in")
    revision = db.get_one(TreatmentSession, esketamine).revision
    unchanged = _live(nurse, f"{url}/live/vitals?revision={revision}&page_status=checked_in")
    assert unchanged.status_code == 204
    gateway.post(f"/api/sessions/{esketamine}/vitals/device", json=_device_bp(128, 82))
    fresh = _live(nurse, f"{url}/live/vitals?revision={revision}&page_status=checked_in")
    assert fresh.status_code == 200
    raw = re.search(r'data-chart-data="([^"]*)"', fresh.text)
    assert raw
    data = json.loads(raw.group(1).replace("&#34;", '"').replace("&amp;", "&"))
    assert data["axis"] == "Minutes from check-in"
    systolic = next(v for v in data["vitals"] if v["id"] == "systolic_bp")
    assert [p["y"] for p in systolic["points"]] == [128]
    assert systolic["thresholds"][0]["value"] == 140
    assert systolic["thresholds"][0]["side"] == "above"
    assert 'data-latest="systolic_bp"' in fresh.text
    assert "changed on another screen" not in fresh.text
    elsewhere = _live(nurse, f"{url}/live/vitals?revision={revision}&page_status=scheduled")
    assert "changed on another screen" in elsewhere.text


def test_an_automatic_refresh_does_not_hold_off_the_idle_time_out(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    nurse = as_user(eligible.nurse_a)
    login = db.scalars(
        select(LoginSession).where(
            LoginSession.user_id == eligible.nurse_a.id, LoginSession.ended_at.is_(None)
        )
    ).one()
    ten_minutes_ago = utcnow() - timedelta(minutes=10)
    login.last_seen_at = ten_minutes_ago
    db.commit()
    assert _live(nurse, f"/sessions/{esketamine}/live/alerts").status_code == 200
    db.refresh(login)
    assert login.last_seen_at == ten_minutes_ago
    nurse.get(f"/sessions/{esketamine}")
    db.refresh(login)
    assert utcnow() - login.last_seen_at < timedelta(minutes=1)


def test_a_chair_side_form_needs_the_csrf_token(
    esketamine: uuid.UUID, eligible: Personas, as_user: Browse, db: Session
) -> None:
    nurse = as_user(eligible.nurse_a)
    refused = nurse.post(f"/sessions/{esketamine}/check-in", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert _status(db, esketamine) is SessionStatus.scheduled

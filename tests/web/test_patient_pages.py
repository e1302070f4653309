"""The staff patient pages over HTTP: the clinic's patient list and a patient's chart, built from a
real course (screening, a signed decision, a plan, a dose, check-ins, a dependence review and a
referral) through the services; who may see them; and every read audited as the API audits it."""

import html
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from ketaguard.checkins.outcomes import REMISSION_BELOW, RESPONSE_FALL
from ketaguard.dependence.models import DependenceReview, Referral, ReferralTo
from ketaguard.dependence.referrals import create_referral
from ketaguard.dependence.schemas import ReferralCreate
from ketaguard.screening.instruments import INSTRUMENTS
from ketaguard.screening.models import EligibilityDecision
from ketaguard.screening.schemas import ResponseCreate
from ketaguard.screening.service import administer
from ketaguard.sessions.models import TreatmentSession
from ketaguard.web.patient_view import DEPENDENCE_NOTICE, ELIGIBILITY_NOTICE
from tests.dependence.builders import CONTEXT, Course, enrol, ketamine_use, phq9, set_settings
from tests.factories import Personas
from tests.web.forms import BROWSER, Browse

BASELINE_PHQ9 = 20


@dataclass(frozen=True)
class Built:
    course: Course
    session: TreatmentSession
    review: DependenceReview
    referral: Referral


def build_course(db: Session, personas: Personas) -> Built:
    """Patient A: screened (PHQ-9 20), signed eligible, on an esketamine plan started 30 days ago,
    dosed on day 0, PHQ-9 check-ins reaching response then remission, a GAD-7, and a check-in
    reporting ketamine used outside the clinic: urgent, with a review and a referral."""
    set_settings(db, personas)
    course = enrol(db, personas, start_days_ago=30, phq9_total=BASELINE_PHQ9)
    session = course.dose(0, 56)
    course.check_in(7, phq9=9, craving=2)
    course.check_in(14, phq9=4, craving=3)
    gad7 = {f"gad7-{n}": 1 for n in range(1, 8)}
    administer(
        db,
        course.nurse,
        CONTEXT,
        course.patient.id,
        ResponseCreate(instrument="gad7", answers=gad7, completed_at=course.at(15)),
    )
    course.check_in(
        16,
        craving=4,
        substance_use=ketamine_use(course, 15),
    )
    [review] = course.reviews()
    referral = create_referral(
        db,
        course.prescriber,
        CONTEXT,
        course.patient.id,
        ReferralCreate(
            referred_to=ReferralTo.addiction_service,
            name="Harbour Recovery Service",
            next_follow_up_on=course.start + timedelta(days=44),
        ),
    )
    return Built(course, session, review, referral)


@pytest.fixture
def built(db: Session, personas: Personas) -> Built:
    return build_course(db, personas)


def _actions(db: Session, patient_id: uuid.UUID, after: int) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.patient_id == patient_id, AuditEvent.seq > after)
            .order_by(AuditEvent.seq)
        )
    )


def _last_seq(db: Session) -> int:
    return db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0


def _section(page: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}".*?</section>', page, re.DOTALL)
    assert found, f"the page has no #{section_id} section"
    return found.group(0)


def _trend(page: str, key: str) -> dict[str, Any]:
    figure = re.search(rf'id="trend-{key}".*?data-trend="([^"]*)"', page, re.DOTALL)
    assert figure, f"no drawn {key} trend"
    data: dict[str, Any] = json.loads(html.unescape(figure.group(1)))
    return data


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_the_clinics_patients_with_their_statuses_and_charts(
    built: Built, personas: Personas, as_user: Browse
) -> None:
    page = as_user(personas.nurse_a).get("/patients")
    assert page.status_code == 200
    assert '<a href="/patients" aria-current="page">Patients</a>' in page.text
    row = re.search(rf'<tr data-patient="{personas.patient_a.id}">.*?</tr>', page.text, re.DOTALL)
    assert row, "patient A is not listed"
    assert f'href="/patients/{personas.patient_a.id}">Pat Synthetic</a>' in row.group(0)
    assert personas.patient_a.record_number in row.group(0)
    assert "<td>Clinic A</td>" in row.group(0)
    assert "<td>Active</td>" in row.group(0)
    assert "data-dependence>Urgent</span>" in row.group(0)
    # Patient B is in Clinic B, which the nurse does not work in.
    assert str(personas.patient_b.id) not in page.text
    assert personas.patient_b.record_number not in page.text


def test_the_name_filter_lists_and_audits_only_the_matches(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    browser = as_user(personas.front_desk_a)
    before = _last_seq(db)
    found = browser.get("/patients", params={"q": personas.patient_a.record_number.upper()})
    assert f'data-patient="{personas.patient_a.id}"' in found.text
    assert "1 patient matching" in found.text
    none = browser.get("/patients", params={"q": "Nobody-by-this-name"})
    assert "data-patient=" not in none.text
    assert 'No patient matches "Nobody-by-this-name".' in none.text
    db.expire_all()
    events = list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "patient.list", AuditEvent.seq > before)
            .order_by(AuditEvent.seq)
        )
    )
    details = [json.loads(e.detail) if isinstance(e.detail, str) else e.detail for e in events]
    assert [d["patient_ids"] for d in details] == [[str(personas.patient_a.id)], []]
    assert details[1]["name"] == "Nobody-by-this-name"


# --- The chart ----------------------------------------------------------------------------------


def test_the_chart_shows_every_section_from_the_records(
    built: Built, personas: Personas, as_user: Browse, db: Session
) -> None:
    page = as_user(personas.prescriber_a).get(f"/patients/{personas.patient_a.id}")
    assert page.status_code == 200
    text = page.text

    intake = _section(text, "intake")
    assert "Version 1, recorded" in intake
    assert "Allergy to ketamine or esketamine: <strong>No</strong>" in intake
    assert "Treatment-resistant depression" in intake
    assert "sertraline" in intake

    decision = db.scalars(select(EligibilityDecision)).one()
    eligibility = _section(text, "eligibility")
    assert str(escape(ELIGIBILITY_NOTICE)) in eligibility
    assert f'data-decision="{decision.id}"' in eligibility
    assert "Signed off" in eligibility
    assert "Test Prescriber" in eligibility
    for finding in [*decision.eligibility_reasons, *decision.risk_reasons]:
        assert f'data-rule="{finding["rule_id"]}"' in eligibility
        assert str(escape(finding["source"])) in eligibility

    screenings = _section(text, "screenings")
    phq9_chart = _trend(text, "phq9")
    # Baseline, then the two check-ins' PHQ-9, in time order; the instrument's own range.
    assert [p["y"] for p in phq9_chart["points"]] == [BASELINE_PHQ9, 9, 4]
    assert phq9_chart["y_max"] == INSTRUMENTS["phq9"].total_range[1]
    response_at_most = BASELINE_PHQ9 * (1 - RESPONSE_FALL)
    assert [line["y"] for line in phq9_chart["lines"]] == [REMISSION_BELOW, response_at_most]
    assert [m["label"] for m in phq9_chart["marks"]] == ["Response", "Remission"]
    assert "data-outcome-status><strong>Remission</strong>" in screenings
    assert [p["y"] for p in _trend(text, "craving")["points"]] == [2, 3, 4]
    assert [p["y"] for p in _trend(text, "gad7")["points"]] == [7]
    assert 'id="trend-icsi"' in text
    assert "No scores yet." in text
    assert "/static/vendor/chart.umd.min.js" in text
    assert "/static/trend.js" in text
    assert 'data-screening="dast10"' in screenings

    plans = _section(text, "plans")
    plan_id = built.course.plan.id
    assert f'href="/plans/{plan_id}/book"' in plans
    assert "Now in week 5, phase <strong>" in plans
    assert f'href="/sessions/{built.session.id}"' in plans

    dependence = _section(text, "dependence")
    assert "data-dependence-status>Urgent</span>" in dependence
    assert str(escape(DEPENDENCE_NOTICE)) in dependence
    assert 'data-signal="outside_use.' in dependence
    assert "a bump" in text  # the check-in's evidence in the check-in list
    assert f'href="/dependence/reviews/{built.review.id}"' in dependence
    assert f'href="/dependence/referrals/{built.referral.id}"' in dependence
    assert "Harbour Recovery Service" in dependence

    access = _section(text, "access")
    # The course was built by services without an actor; this look is named, newest first.
    first, *rest = re.findall(r"<tr data-access .*?</tr>", access, re.DOTALL)
    assert "Test Prescriber" in first
    assert "(prescriber)" in first
    assert re.search(r'data-actions="patient.read intake.read [^"]*dependence.read', first)
    assert "Opened the record; read the intake;" in first
    assert "read PHQ-9 outcomes" in first
    assert any("recorded the intake" in row.lower() for row in rest)


def test_links_follow_what_the_viewers_role_may_do(
    built: Built, personas: Personas, as_user: Browse
) -> None:
    url = f"/patients/{personas.patient_a.id}"
    therapist = as_user(personas.therapist_a).get(url).text
    assert f'href="/sessions/{built.session.id}"' not in therapist
    assert f'href="/plans/{built.course.plan.id}/book"' not in therapist
    assert f'data-session="{built.session.id}"' in therapist
    front_desk = as_user(personas.front_desk_a).get(url).text
    assert f'href="/plans/{built.course.plan.id}/book"' in front_desk
    assert f'href="/sessions/{built.session.id}"' not in front_desk


def test_a_new_patient_has_an_empty_chart_that_says_so(personas: Personas, as_user: Browse) -> None:
    page = as_user(personas.prescriber_b).get(f"/patients/{personas.patient_b.id}")
    assert page.status_code == 200
    assert "No intake has been recorded for this patient yet." in page.text
    assert "Eligibility has not been worked out for this patient yet." in page.text
    assert "No treatment plan yet." in page.text
    assert "data-dependence-status>No open concern</span>" in page.text
    assert "No scores yet." in page.text
    assert "data-trend=" not in page.text


def test_reading_the_chart_is_audited_as_the_api_audits_its_reads(
    built: Built,
    personas: Personas,
    as_user: Browse,
    login: Callable[[User], TestClient],
    db: Session,
) -> None:
    patient_id = personas.patient_a.id
    page_start = _last_seq(db)
    assert as_user(personas.nurse_a).get(f"/patients/{patient_id}").status_code == 200
    from_page = _actions(db, patient_id, page_start)

    api = login(personas.nurse_a)
    api_start = _last_seq(db)
    base = f"/api/patients/{patient_id}"
    for path in (
        "",
        "/intake/versions",
        "/eligibility",
        "/screenings",
        "/checkins",
        "/checkins/outcomes",
        "/plans",
        "/dependence",
        "/dependence/reviews",
        "/dependence/referrals",
    ):
        assert api.get(base + path).status_code == 200, path
    from_api = _actions(db, patient_id, api_start)
    assert from_page == [*from_api, "audit.read"]
    assert from_page[0] == "patient.read"


# --- Who may see it -----------------------------------------------------------------------------


def test_a_patient_of_another_clinic_does_not_exist(
    built: Built, personas: Personas, as_user: Browse, db: Session
) -> None:
    before = _last_seq(db)
    page = as_user(personas.prescriber_b).get(f"/patients/{personas.patient_a.id}")
    assert page.status_code == 404
    assert "Pat Synthetic" not in page.text
    assert _actions(db, personas.patient_a.id, before) == []
    missing = as_user(personas.nurse_a).get(f"/patients/{uuid.uuid4()}")
    assert missing.status_code == 404


def test_an_account_without_patient_read_is_refused_and_the_refusal_audited(
    personas: Personas, as_user: Browse, db: Session
) -> None:
    patient = as_user(personas.patient_user_a)
    before = _last_seq(db)
    for url in ("/patients", f"/patients/{personas.patient_a.id}"):
        page = patient.get(url)
        assert page.status_code == 403, url
        assert "This page is not available to you" in page.text
    db.expire_all()
    refusals = db.scalars(
        select(AuditEvent).where(
            AuditEvent.seq > before, AuditEvent.action == "auth.permission_denied"
        )
    ).all()
    assert len(refusals) == 2
    assert _actions(db, personas.patient_a.id, before) == []


def test_an_anonymous_browser_is_sent_to_log_in(client: TestClient) -> None:
    for url in ("/patients", f"/patients/{uuid.uuid4()}"):
        page = client.get(url, headers=BROWSER, follow_redirects=False)
        assert (page.status_code, page.headers.get("location")) == (303, "/login"), url


def test_a_phq9_check_in_shows_as_a_check_in_in_the_history(
    built: Built, personas: Personas, as_user: Browse
) -> None:
    screenings = _section(
        as_user(personas.nurse_a).get(f"/patients/{personas.patient_a.id}").text, "screenings"
    )
    rows = re.findall(r'<tr data-screening="phq9">.*?</tr>', screenings, re.DOTALL)
    assert len(rows) == 3
    assert sum("(check-in)" in row for row in rows) == 2
    assert phq9(4)  # the builder's answers add up to the totals charted above

"""The staff home page over HTTP: today's sessions by state, open alerts, REMS forms near their
deadline, dependence reviews due and the top of the worklist, each for the roles that may see
it and only from the viewer's clinics."""

import re
from datetime import timedelta

from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import AlertSeverity
from ketaguard.alerts.service import raise_alert
from ketaguard.audit.models import AuditEvent
from ketaguard.sessions import run
from tests.dependence.builders import CONTEXT, set_settings
from tests.dependence.test_reviews_api import today
from tests.factories import Personas
from tests.web.forms import Browse
from tests.web.test_dependence_pages import rems_form, urgent

SECTIONS = ("sessions", "alerts", "reviews", "rems", "dependence")


def _section(page: Response, name: str) -> str | None:
    found = re.search(rf'data-dashboard="{name}">(.*?)</section>', page.text, re.DOTALL)
    return found.group(1) if found else None


def _shown(page: Response) -> set[str]:
    return {name for name in SECTIONS if _section(page, name) is not None}


def test_the_dashboard_shows_todays_work_in_the_viewers_clinics(
    db: Session, personas: Personas, as_user: Browse
) -> None:
    set_settings(db, personas)
    course, review = urgent(db, personas)
    booked = course.book(30)  # 09:00 today in the clinic
    run.check_in(db, course.nurse, CONTEXT, booked.id)
    later = course.book(38)
    raise_alert(
        db,
        clinic_id=personas.clinic_a.id,
        patient_id=course.patient.id,
        rule="phq9.item9",
        severity=AlertSeverity.same_day,
        message="PHQ-9 item 9 answered above 0",
        evidence={},
        source="clinical reference (test)",
    )
    overdue = rems_form(db, course, 8, today() - timedelta(days=1))
    pending = rems_form(db, course, 12, today() + timedelta(days=20))
    prescriber = as_user(personas.prescriber_a)
    worklist_reads = db.scalar(
        select(func.count()).where(AuditEvent.action == "dependence.worklist.read")
    )

    home = prescriber.get("/")
    assert home.status_code == 200
    assert _shown(home) == set(SECTIONS)
    sessions = _section(home, "sessions") or ""
    assert '<h4 class="dashboard-group">Checked in (1)</h4>' in sessions
    assert f'href="/sessions/{booked.id}"' in sessions
    assert str(later.id) not in sessions  # another day
    alerts = _section(home, "alerts") or ""
    assert "Open alerts (1)" in home.text
    assert "PHQ-9 item 9 answered above 0" in alerts
    reviews = _section(home, "reviews") or ""
    assert f'href="/dependence/reviews/{review.id}"' in reviews
    rems = _section(home, "rems") or ""
    assert f'data-rems-form="{overdue.id}"' in rems
    assert str(pending.id) not in rems  # not due soon yet
    watch = _section(home, "dependence") or ""
    assert "status-urgent" in watch
    assert f'href="/patients/{course.patient.id}"' in watch
    assert "you are signed out after" in home.text
    # The worklist is read as the API reads it: audited.
    assert (
        db.scalar(select(func.count()).where(AuditEvent.action == "dependence.worklist.read"))
        == (worklist_reads or 0) + 1
    )

    # Clinic B's prescriber sees the same parts, none of clinic A's data.
    other = as_user(personas.prescriber_b).get("/")
    assert _shown(other) == set(SECTIONS)
    assert str(course.patient.id) not in other.text
    assert "PHQ-9 item 9 answered above 0" not in other.text
    assert str(overdue.id) not in other.text
    assert "No sessions today." in (_section(other, "sessions") or "")


def test_each_role_sees_the_parts_it_may(db: Session, personas: Personas, as_user: Browse) -> None:
    set_settings(db, personas)
    urgent(db, personas)
    expected = {
        personas.nurse_a: {"sessions", "alerts", "rems", "dependence"},
        personas.front_desk_a: {"sessions", "alerts", "dependence"},
        personas.therapist_a: {"alerts", "dependence"},
        personas.admin_a: {"alerts", "dependence"},
    }
    for user, sections in expected.items():
        home = as_user(user).get("/")
        assert home.status_code == 200
        assert _shown(home) == sections, user.email
        assert "status-urgent" in (_section(home, "dependence") or ""), user.email

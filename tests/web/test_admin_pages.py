"""The admin pages over HTTP: who may see them, forms that change nothing when refused, tokens,
protocols, the audit report and its CSV export, and emergency-access reviews."""

import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.models import ApiToken, BreakGlassGrant, User
from ketaguard.auth.secrets import token_hash
from ketaguard.auth.service import principal_for_user
from ketaguard.clinics.models import Organisation
from ketaguard.kit.time import utcnow
from ketaguard.protocols.loader import load_builtin
from ketaguard.protocols.models import ProtocolVersion
from ketaguard.web.nav import nav_for
from tests.factories import PASSWORD, Personas, make_patient
from tests.web.forms import BROWSER, csrf_of, field_error, row_counts

Login = Callable[[User], TestClient]
REASON = "Patient arrived at our site in crisis; need medication history now"
ADMIN_PAGES = (
    "/admin/users",
    "/admin/users/new",
    "/admin/users/new-patient-account",
    "/admin/organisation",
    "/admin/tokens",
    "/admin/break-glass",
    "/admin/audit",
    "/protocols/new",
)


class _Controls(HTMLParser):
    """Every form control of a page, and whether a label names it."""

    def __init__(self) -> None:
        super().__init__()
        self.label_depth = 0
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if found.get("for"):
                self.label_for.add(found["for"] or "")
        elif tag in {"input", "select", "textarea"} and found.get("type") not in {
            "hidden",
            "submit",
            "button",
        }:
            self.controls.append(
                (found.get("id") or found.get("name") or tag, self.label_depth > 0)
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def unlabelled_controls(page: Response) -> list[str]:
    parser = _Controls()
    parser.feed(page.text)
    return [name for name, inside in parser.controls if not inside and name not in parser.label_for]


def _as_browser(client: TestClient) -> TestClient:
    client.headers.update(BROWSER)
    return client


@pytest.fixture
def admin(login: Login, personas: Personas) -> TestClient:
    return _as_browser(login(personas.admin_a))


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- Access ---------------------------------------------------------------------------------------


def test_each_admin_page_renders_for_an_admin_with_labelled_fields_and_no_inline_code(
    admin: TestClient, personas: Personas
) -> None:
    pages = (*ADMIN_PAGES, f"/admin/users/{personas.nurse_a.id}", "/protocols")
    for path in pages:
        page = admin.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "<h1>" in page.text, path
        assert unlabelled_controls(page) == [], path
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert ' style="' not in page.text, path
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None, path
        for form in re.findall(r'<form method="post".*?</form>', page.text, re.DOTALL):
            assert 'name="csrf_token"' in form, (path, form[:80])


def test_a_nurse_is_refused_every_admin_page_and_the_refusal_is_audited(
    login: Login, personas: Personas, db: Session
) -> None:
    nurse = _as_browser(login(personas.nurse_a))
    for path in ADMIN_PAGES:
        page = nurse.get(path)
        assert page.status_code == 403, path
        assert "This page is not available to you" in page.text
    refused = nurse.post("/admin/tokens", data={"name": "x"})
    assert refused.status_code == 403
    denied = _events(db, "auth.permission_denied")
    assert len(denied) == len(ADMIN_PAGES) + 1
    assert {event.actor_user_id for event in denied} == {personas.nurse_a.id}
    # Reading protocols needs only patient:read, as in the API: nurses follow them.
    assert nurse.get("/protocols").status_code == 200
    assert nurse.get("/protocols/esketamine-trd").status_code == 200


def test_the_navigation_shows_admin_links_only_to_roles_holding_their_permission(
    db: Session, personas: Personas
) -> None:
    def paths(user: User) -> set[str]:
        return {link.path for link in nav_for(principal_for_user(db, user, None))}

    admin_links = {
        "/admin/users",
        "/admin/organisation",
        "/admin/tokens",
        "/admin/audit",
        "/admin/break-glass",
    }
    assert admin_links | {"/protocols"} <= paths(personas.admin_a)
    for clinician in (personas.nurse_a, personas.prescriber_a, personas.front_desk_a):
        assert paths(clinician) & admin_links == set()
        assert "/protocols" in paths(clinician)
    assert "/protocols" not in paths(personas.patient_user_a)


# --- Users and roles ------------------------------------------------------------------------------


def test_the_user_list_shows_each_account_with_its_roles_per_clinic(
    admin: TestClient, personas: Personas
) -> None:
    page = admin.get("/admin/users")
    assert personas.nurse_a.email in page.text
    assert "Clinic A: nurse" in page.text
    assert personas.prescriber_b.email not in page.text, "clinic B is not the admin's"


def test_an_empty_new_user_form_names_each_field_and_creates_nothing(
    admin: TestClient, db: Session
) -> None:
    before = row_counts(db)
    page = admin.post("/admin/users", data={"csrf_token": csrf_of(admin.get("/admin/users/new"))})
    assert page.status_code == 422
    assert field_error(page, "full_name") == "Enter their full name"
    assert field_error(page, "password") == "Enter a first password of 12 to 128 characters"
    assert field_error(page, "clinic_id") == "Choose the clinic they work in"
    assert field_error(page, "role") == "Choose their role in that clinic"
    assert 'href="#full_name">Full name: Enter their full name' in page.text
    assert row_counts(db) == before


def test_a_taken_email_is_shown_next_to_the_email_and_nothing_changes(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    form = admin.get("/admin/users/new")
    before = row_counts(db)
    page = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(form),
            "full_name": "Second Nurse",
            "email": personas.nurse_a.email.upper(),
            "password": PASSWORD,
            "clinic_id": str(personas.clinic_a.id),
            "role": "nurse",
        },
    )
    assert page.status_code == 409
    assert (
        field_error(page, "email") == f"A user with e-mail {personas.nurse_a.email} already exists"
    )
    assert field_error(page, "full_name") is None
    assert 'value="Second Nurse"' in page.text
    assert PASSWORD not in page.text, "a password is never sent back"
    assert row_counts(db) == before


def test_an_admin_adds_a_staff_member_then_clears_a_lockout_resets_mfa_and_disables(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    form = admin.get("/admin/users/new")
    created = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(form),
            "full_name": "Nadia Nurse",
            "email": "nadia@clinic.example.org",
            "password": PASSWORD,
            "clinic_id": str(personas.clinic_a.id),
            "role": "nurse",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    user = db.scalars(select(User).where(User.email == "nadia@clinic.example.org")).one()
    assert created.headers["location"] == f"/admin/users/{user.id}?done=created"
    page = admin.get(created.headers["location"])
    assert "The account is created." in page.text
    assert "Clinic A: nurse" in page.text
    assert [e.resource_id for e in _events(db, "user.create")] == [str(user.id)]

    user.failed_login_count, user.locked_until = 5, utcnow() + timedelta(minutes=10)
    user.mfa_enabled_at = utcnow()
    db.commit()
    page = admin.get(f"/admin/users/{user.id}")
    assert "locked out until" in page.text
    token = csrf_of(page)
    for action, notice in (
        ("unlock", "The lockout is cleared"),
        ("reset-mfa", "Multi-factor authentication is reset"),
        ("disable", "The account is disabled"),
    ):
        done = admin.post(f"/admin/users/{user.id}/{action}", data={"csrf_token": token})
        assert done.status_code == 200, (action, done.text)
        assert notice in done.text
    db.refresh(user)
    assert (user.failed_login_count, user.locked_until, user.mfa_enabled_at) == (0, None, None)
    assert user.is_active is False
    assert {"user.unlock", "auth.mfa.reset", "user.disable"} <= {
        e.action
        for e in db.scalars(select(AuditEvent).where(AuditEvent.resource_id == str(user.id)))
    }


def test_an_admin_gives_a_patient_a_portal_account_but_never_a_second_one(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    form = admin.get("/admin/users/new-patient-account")
    assert f'<option value="{personas.patient_a.id}">Synthetic, Pat (record' in form.text
    assert str(personas.patient_b.id) not in form.text, "clinic B is not the admin's"
    second = admin.post(
        "/admin/patient-accounts",
        data={
            "csrf_token": csrf_of(form),
            "patient_id": str(personas.patient_a.id),
            "email": "pat.again@example.org",
            "password": PASSWORD,
        },
    )
    assert second.status_code == 409
    assert field_error(second, "patient_id") == "This patient already has an account"
    assert f'value="{personas.patient_a.id}" selected' in second.text

    patient = make_patient(db, personas.clinic_a)
    db.commit()
    created = admin.post(
        "/admin/patient-accounts",
        data={
            "csrf_token": csrf_of(form),
            "patient_id": str(patient.id),
            "email": "new.patient@example.org",
            "password": PASSWORD,
        },
    )
    assert "The patient&#39;s portal account is created." in created.text
    account = db.scalars(select(User).where(User.patient_id == patient.id)).one()
    assert account.email == "new.patient@example.org"
    assert len(_events(db, "patient.list")) == 2, "listing patients to choose from is audited"


def test_disabling_ones_own_account_is_refused_next_to_the_button(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    own = f"/admin/users/{personas.admin_a.id}"
    page = admin.post(f"{own}/disable", data={"csrf_token": csrf_of(admin.get(own))})
    assert page.status_code == 409
    assert field_error(page, "disable") == "You cannot disable your own account"
    db.refresh(personas.admin_a)
    assert personas.admin_a.is_active


def test_a_user_outside_the_admins_clinics_is_not_found(
    admin: TestClient, personas: Personas
) -> None:
    page = admin.get(f"/admin/users/{personas.prescriber_b.id}")
    assert page.status_code == 404
    assert "Page not found" in page.text


# --- Organisation security ------------------------------------------------------------------------


def test_the_security_settings_refuse_a_bad_time_out_and_save_a_good_one(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    organisation = db.get_one(Organisation, personas.admin_a.organisation_id)
    page = admin.get("/admin/organisation")
    assert 'value="15"' in page.text
    for typed in ("0", "481", "soon", ""):
        refused = admin.post(
            "/admin/organisation",
            data={"csrf_token": csrf_of(page), "idle_timeout_minutes": typed},
        )
        assert refused.status_code == 422, typed
        message = field_error(refused, "idle_timeout_minutes")
        assert message == "Enter a whole number of minutes from 1 to 480"
    db.refresh(organisation)
    assert (organisation.idle_timeout_minutes, organisation.require_mfa_for_all) == (15, False)
    assert _events(db, "organisation.policy") == []

    saved = admin.post(
        "/admin/organisation",
        data={
            "csrf_token": csrf_of(page),
            "idle_timeout_minutes": "10",
            "require_mfa_for_all": "on",
        },
    )
    assert "The security settings are saved." in saved.text
    assert 'value="10"' in saved.text
    db.refresh(organisation)
    assert (organisation.idle_timeout_minutes, organisation.require_mfa_for_all) == (10, True)
    [event] = _events(db, "organisation.policy")
    assert json.loads(event.detail)["after"] == {
        "idle_timeout_minutes": 10,
        "require_mfa_for_all": True,
    }


# --- API tokens -----------------------------------------------------------------------------------


def test_an_admin_issues_a_token_shown_once_then_revokes_it(
    admin: TestClient, client: TestClient, personas: Personas, db: Session
) -> None:
    page = admin.get("/admin/tokens")
    assert "No tokens yet." in page.text
    issued = admin.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_of(page),
            "name": "Chair 3 monitor",
            "clinic_id": str(personas.clinic_a.id),
            "scopes": ["patient:read"],
        },
    )
    assert issued.status_code == 201, issued.text
    assert "This is the only time it is shown." in issued.text
    secret = re.search(
        r'id="issued-secret" class="secret" type="text" value="([^"]+)"', issued.text
    )
    assert secret
    token = db.scalars(select(ApiToken).where(ApiToken.name == "Chair 3 monitor")).one()
    assert token.token_hash == token_hash(secret.group(1))
    assert issued.headers["cache-control"] == "no-store"
    listed = admin.get("/admin/tokens")
    assert "Chair 3 monitor" in listed.text
    assert secret.group(1) not in listed.text

    device = {"Authorization": f"Bearer {secret.group(1)}"}
    assert client.get("/api/patients", headers=device).status_code == 200
    revoked = admin.post(f"/admin/tokens/{token.id}/revoke", data={"csrf_token": csrf_of(listed)})
    assert "The token is revoked." in revoked.text
    assert "Revoked " in revoked.text
    assert client.get("/api/patients", headers=device).status_code == 401
    assert [
        e.action
        for e in db.scalars(select(AuditEvent).where(AuditEvent.resource_id == str(token.id)))
    ] == ["token.create", "token.revoke"]


def test_a_token_form_error_is_shown_next_to_its_field_and_issues_nothing(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    page = admin.get("/admin/tokens")
    refused = admin.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_of(page),
            "name": "Gateway",
            "clinic_id": str(personas.clinic_a.id),
        },
    )
    assert refused.status_code == 422
    assert field_error(refused, "scopes") == "Choose at least one thing the token may do"
    assert field_error(refused, "name") is None
    assert 'value="Gateway"' in refused.text
    too_broad = admin.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_of(page),
            "name": "Gateway",
            "clinic_id": str(personas.clinic_a.id),
            "scopes": ["user:manage"],
        },
    )
    assert too_broad.status_code == 422
    assert "cannot be given to a token" in (field_error(too_broad, "scopes") or "")
    other_clinic = admin.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_of(page),
            "name": "Gateway",
            "clinic_id": str(personas.clinic_b.id),
            "scopes": ["vitals:write"],
        },
    )
    assert other_clinic.status_code == 404
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0


# --- Protocols ------------------------------------------------------------------------------------


def _clinic_protocol_json(version: int) -> str:
    builtin = load_builtin()["ketamine-iv-0.5"].model_dump(mode="json")
    return json.dumps(
        {**builtin, "id": "northwind-iv", "version": version, "title": "Northwind IV"}
    )


def test_a_protocol_shows_each_number_with_its_source(admin: TestClient) -> None:
    listed = admin.get("/protocols")
    assert 'href="/protocols/ketamine-iv-0.5"' in listed.text
    page = admin.get("/protocols/ketamine-iv-0.5")
    assert page.status_code == 200
    row = re.search(
        r"<th scope=\"row\">Infusion time \(minutes\)</th>\s*<td>40</td>\s*<td[^>]*>([^<]+)",
        page.text,
    )
    assert row
    assert "[S50]" in row.group(1)
    assert "Default: review locally" in page.text
    assert "Heart rate below, before the dose: hold the dose" in page.text
    assert admin.get("/protocols/ketamine-iv-0.5?version=99").status_code == 404


def test_an_invalid_protocol_shows_every_problem_next_to_the_text_and_saves_nothing(
    admin: TestClient, db: Session
) -> None:
    form = admin.get("/protocols/new")
    before = db.scalar(select(func.count()).select_from(ProtocolVersion))
    invalid = admin.post(
        "/protocols",
        data={
            "csrf_token": csrf_of(form),
            "format": "toml",
            "text": 'id = "x"\nversion = 0\n',
            "action": "save",
        },
    )
    assert invalid.status_code == 422
    assert field_error(invalid, "text") == "The protocol is not valid"
    problems = re.search(
        r'<ul class="field-error-list" id="text-problems">(.*?)</ul>', invalid.text, re.DOTALL
    )
    assert problems
    assert "<code>version</code>: Input should be greater than or equal to 1" in problems.group(1)
    assert "<code>title</code>: required field is missing" in problems.group(1)
    assert "id = &#34;x&#34;" in invalid.text or 'id = "x"' in invalid.text.replace("&#34;", '"')
    empty = admin.post(
        "/protocols", data={"csrf_token": csrf_of(form), "format": "toml", "text": ""}
    )
    assert (
        field_error(empty, "text")
        == "Paste the protocol, or choose its file (at most 200,000 characters)"
    )
    builtin = admin.post(
        "/protocols",
        data={
            "csrf_token": csrf_of(form),
            "format": "json",
            "text": json.dumps(load_builtin()["esketamine-trd"].model_dump(mode="json")),
        },
    )
    assert builtin.status_code == 409
    assert "is a built-in protocol" in (field_error(builtin, "text") or "")
    assert db.scalar(select(func.count()).select_from(ProtocolVersion)) == before


def test_an_admin_checks_a_protocol_then_saves_it_and_uploads_the_next_version(
    admin: TestClient, db: Session
) -> None:
    form = admin.get("/protocols/new")
    text = _clinic_protocol_json(1)
    checked = admin.post(
        "/protocols",
        data={"csrf_token": csrf_of(form), "format": "json", "text": text, "action": "check"},
    )
    assert checked.status_code == 200, checked.text
    assert "No problems found." in checked.text
    assert "Infusion time (minutes)" in checked.text
    stored = select(ProtocolVersion).where(ProtocolVersion.protocol_key == "northwind-iv")
    assert db.scalars(stored).all() == []

    saved = admin.post(
        "/protocols",
        data={"csrf_token": csrf_of(form), "format": "json", "text": text, "action": "save"},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/protocols/northwind-iv?version=1&done=saved"
    uploaded = admin.post(
        "/protocols",
        data={"csrf_token": csrf_of(form), "format": "toml", "action": "save"},
        files={"file": ("northwind.json", _clinic_protocol_json(2).encode(), "application/json")},
        follow_redirects=False,
    )
    assert uploaded.headers["location"] == "/protocols/northwind-iv?version=2&done=saved"
    page = admin.get(uploaded.headers["location"])
    assert "The protocol version is saved." in page.text
    assert '<a href="/protocols/northwind-iv?version=1">Version 1</a>' in page.text
    assert [v.version for v in db.scalars(stored)] == [1, 2]
    assert [json.loads(e.detail)["version"] for e in _events(db, "protocol.save")] == [1, 2]


def test_an_uploaded_file_that_is_not_text_is_refused_next_to_the_file_field(
    admin: TestClient,
) -> None:
    form = admin.get("/protocols/new")
    page = admin.post(
        "/protocols",
        data={"csrf_token": csrf_of(form), "format": "toml", "action": "check"},
        files={"file": ("protocol.toml", b"\xff\xfe\x00garbage", "application/toml")},
    )
    assert page.status_code == 422
    assert "not text saved as UTF-8" in (field_error(page, "file") or "")


# --- Audit report ---------------------------------------------------------------------------------


def _rows(page: Response) -> list[str]:
    return re.findall(r"<td><code>([a-z0-9_.]+)</code></td>", page.text)


def test_the_audit_report_filters_by_user_and_action_and_reading_it_is_audited(
    admin: TestClient, login: Login, personas: Personas, db: Session
) -> None:
    nurse = login(personas.nurse_a)
    assert nurse.get(f"/api/patients/{personas.patient_a.id}").status_code == 200
    page = admin.get("/admin/audit", params={"user": personas.nurse_a.email, "action": "patient.*"})
    assert page.status_code == 200
    assert _rows(page) == ["patient.read"]
    assert "Events 1 to 1 of 1" in page.text
    by_patient = admin.get("/admin/audit", params={"patient": str(personas.patient_a.id)})
    assert set(_rows(by_patient)) == {"patient.read"}

    reads = _events(db, "audit.read")
    assert [r.actor_user_id for r in reads] == [personas.admin_a.id] * 2
    assert json.loads(reads[0].detail) == {
        "filters": {"action": "patient.*", "actor_user_id": str(personas.nurse_a.id)},
        "rows": 1,
    }


def test_audit_filter_errors_are_shown_next_to_their_fields_and_read_nothing(
    admin: TestClient, db: Session
) -> None:
    page = admin.get(
        "/admin/audit",
        params={"user": "nobody@example.org", "patient": "chart 7", "since": "2026-13-40"},
    )
    assert page.status_code == 422
    assert field_error(page, "user") == "No account in your organisation has this e-mail address"
    assert "not a patient ID" in (field_error(page, "patient") or "")
    assert field_error(page, "since") == "Enter a date like 2026-11-21"
    backwards = admin.get("/admin/audit", params={"since": "2026-11-21", "until": "2026-11-20"})
    assert field_error(backwards, "until") == "The end date must be on or after the start date"
    assert _events(db, "audit.read") == []


def test_the_audit_report_sorts_by_a_column_and_pages_through_events(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    context = AuditContext(organisation_id=personas.admin_a.organisation_id)
    for number in range(60):
        record(db, context, f"test.event{number % 3}", resource_id=str(number))
    db.commit()
    first = admin.get("/admin/audit", params={"action": "test.*"})
    assert "Events 1 to 50 of 60" in first.text
    assert 'aria-sort="descending"' in first.text
    assert 'rel="next"' in first.text
    second = admin.get("/admin/audit", params={"action": "test.*", "page": "2"})
    assert "Events 51 to 60 of 60" in second.text
    assert len(_rows(second)) == 10
    by_action = admin.get(
        "/admin/audit", params={"action": "test.*", "sort": "action", "order": "asc"}
    )
    actions = _rows(by_action)
    assert actions == sorted(actions)
    assert re.search(
        r'aria-sort="ascending">\s*<a href="\?[^"]*sort=action&amp;order=desc', by_action.text
    )


def test_the_csv_export_has_the_reports_filters_and_is_audited(
    admin: TestClient, personas: Personas, db: Session
) -> None:
    page = admin.get("/admin/audit", params={"action": "auth.*", "since": "2020-01-01"})
    link = re.search(r'href="(/admin/audit/export\.csv\?[^"]+)"', page.text)
    assert link
    export = admin.get(link.group(1).replace("&amp;", "&"))
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert export.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(export.text.removeprefix("\ufeff"))))
    assert rows
    assert {row["action"][:5] for row in rows} == {"auth."}
    assert {row["organisation_id"] for row in rows} == {str(personas.admin_a.organisation_id)}
    [exported] = _events(db, "audit.export")
    assert json.loads(exported.detail)["filters"]["action"] == "auth.*"
    assert json.loads(exported.detail)["rows"] == len(rows)


# --- Break-glass reviews --------------------------------------------------------------------------


def test_an_admin_reviews_emergency_access_with_a_note(
    admin: TestClient, login: Login, personas: Personas, db: Session
) -> None:
    prescriber_b = login(personas.prescriber_b)
    opened = prescriber_b.post(
        f"/api/patients/{personas.patient_a.id}/break-glass", json={"reason": REASON}
    )
    grant = db.get_one(BreakGlassGrant, uuid.UUID(opened.json()["id"]))
    page = admin.get("/admin/break-glass")
    assert REASON in page.text
    assert personas.prescriber_b.email in page.text
    key = f"note-{grant.id}"

    blank = admin.post(
        f"/admin/break-glass/{grant.id}/review", data={"csrf_token": csrf_of(page), "note": "  "}
    )
    assert blank.status_code == 422
    assert (field_error(blank, key) or "").startswith("Write what you found")
    db.refresh(grant)
    assert grant.reviewed_at is None

    done = admin.post(
        f"/admin/break-glass/{grant.id}/review",
        data={"csrf_token": csrf_of(page), "note": "Confirmed with Dr Hale"},
    )
    assert "The emergency access is marked as reviewed." in done.text
    assert "Nothing is waiting for review." in done.text
    db.refresh(grant)
    assert (grant.review_note, grant.reviewed_by_id) == (
        "Confirmed with Dr Hale",
        personas.admin_a.id,
    )
    again = admin.post(
        f"/admin/break-glass/{grant.id}/review", data={"csrf_token": csrf_of(page), "note": "again"}
    )
    assert again.status_code == 409
    assert field_error(again, key) == "This emergency access was already reviewed"
    assert "Confirmed with Dr Hale" in admin.get("/admin/break-glass?show=all").text

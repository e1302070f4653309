"""Password login, throttling, login sessions, CSRF and the idle time-out."""

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.deps import SESSION_COOKIE
from ketaguard.auth.models import LoginSession, User
from ketaguard.auth.service import LOGIN_FAILED
from ketaguard.clinics.models import Organisation
from ketaguard.kit.time import utcnow
from tests.factories import PASSWORD, Personas, current_totp


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _attempt(client: TestClient, email: str, password: str) -> tuple[int, str]:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json().get("detail", "")


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, personas: Personas, db: Session
) -> None:
    unknown = _attempt(client, "nobody@clinic.example.org", PASSWORD)
    wrong = _attempt(client, personas.therapist_a.email, "wrong-password-123")
    assert unknown == wrong == (401, LOGIN_FAILED)
    failures = _events(db, "auth.login")
    assert [e.outcome for e in failures] == ["failure", "failure"]
    assert failures[1].actor_user_id == personas.therapist_a.id


def test_success_sets_an_httponly_samesite_cookie_and_is_audited(
    client: TestClient, personas: Personas, db: Session
) -> None:
    response = client.post(
        "/api/auth/login", json={"email": personas.therapist_a.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["mfa"] == "none"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    [event] = [e for e in _events(db, "auth.login") if e.outcome == "success"]
    assert event.actor_user_id == personas.therapist_a.id
    assert event.address == "testclient"


def test_repeated_failures_lock_the_account_and_an_admin_sees_and_clears_it(
    client: TestClient, personas: Personas, login: Callable[[User], TestClient]
) -> None:
    nurse = personas.nurse_a
    for _ in range(5):
        assert _attempt(client, nurse.email, "wrong-password-123")[0] == 401
    # Locked: even the right password is refused, with the same answer as before.
    assert _attempt(client, nurse.email, PASSWORD) == (401, LOGIN_FAILED)

    admin = login(personas.admin_a)
    [row] = [u for u in admin.get("/api/admin/users").json() if u["id"] == str(nurse.id)]
    assert row["locked_until"] is not None
    assert row["failed_login_count"] >= 5
    assert admin.post(f"/api/admin/users/{nurse.id}/unlock").status_code == 200
    assert _attempt(client, nurse.email, PASSWORD)[0] == 200


def test_many_failures_from_one_address_are_throttled(
    client: TestClient, app: FastAPI, personas: Personas
) -> None:
    limit = app.state.settings.login_max_failures_per_address
    for n in range(limit):
        assert _attempt(client, f"guess{n}@clinic.example.org", "wrong-password-123")[0] == 401
    status, detail = _attempt(client, personas.therapist_a.email, PASSWORD)
    assert status == 429
    assert "Too many failed logins" in detail


def test_state_changes_need_the_csrf_token(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    client = login(personas.front_desk_a)
    token = client.headers.pop("X-CSRF-Token")
    change = {"care_status": "screening"}
    refused = client.patch(f"/api/patients/{personas.patient_a.id}", json=change)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert _events(db, "auth.csrf")
    client.headers["X-CSRF-Token"] = "not-the-token"
    assert client.patch(f"/api/patients/{personas.patient_a.id}", json=change).status_code == 403
    client.headers["X-CSRF-Token"] = token
    assert client.patch(f"/api/patients/{personas.patient_a.id}", json=change).status_code == 200


def test_idle_sessions_time_out_per_organisation_setting(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    client = login(personas.therapist_a)
    assert client.get("/api/auth/me").status_code == 200
    organisation = db.get_one(Organisation, personas.clinic_a.organisation_id)
    session = db.scalars(
        select(LoginSession).where(LoginSession.user_id == personas.therapist_a.id)
    ).one()
    idle = timedelta(minutes=organisation.idle_timeout_minutes)
    session.last_seen_at = utcnow() - idle + timedelta(seconds=30)
    db.commit()
    assert client.get("/api/auth/me").status_code == 200  # activity keeps it alive

    session.last_seen_at = utcnow() - idle
    db.commit()
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert "timed out" in response.json()["detail"]
    db.refresh(session)
    assert session.end_reason is not None
    assert session.end_reason.value == "timeout"
    assert _events(db, "auth.timeout")
    assert client.get("/api/auth/me").status_code == 401


def test_admin_can_set_the_idle_timeout(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    admin = login(personas.admin_a)
    response = admin.patch("/api/admin/organisation", json={"idle_timeout_minutes": 5})
    assert response.status_code == 200
    assert response.json()["idle_timeout_minutes"] == 5
    bad = admin.patch("/api/admin/organisation", json={"idle_timeout_minutes": 0})
    assert bad.status_code == 422
    assert db.get_one(Organisation, personas.clinic_a.organisation_id).idle_timeout_minutes == 5


def test_logout_and_admin_revocation_end_sessions(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    therapist = login(personas.therapist_a)
    assert therapist.post("/api/auth/logout").status_code == 204
    assert therapist.get("/api/auth/me").status_code == 401
    assert _events(db, "auth.logout")

    nurse = login(personas.nurse_a)
    admin = login(personas.admin_a)
    revoked = admin.post(f"/api/admin/users/{personas.nurse_a.id}/sessions/revoke")
    assert revoked.json() == {"revoked": 1}
    assert nurse.get("/api/auth/me").status_code == 401


def test_a_forged_cookie_is_refused(app: FastAPI, client: TestClient) -> None:
    forged = TestClient(app)
    forged.cookies.set(SESSION_COOKIE, "made-up-token.0000")
    response = forged.get("/api/auth/me")
    assert response.status_code == 401


def test_disabled_accounts_cannot_log_in_and_lose_their_sessions(
    personas: Personas, login: Callable[[User], TestClient], client: TestClient
) -> None:
    therapist = login(personas.therapist_a)
    admin = login(personas.admin_a)
    assert admin.post(f"/api/admin/users/{personas.therapist_a.id}/disable").status_code == 200
    assert therapist.get("/api/auth/me").status_code == 401
    assert _attempt(client, personas.therapist_a.email, PASSWORD) == (401, LOGIN_FAILED)


def test_mfa_is_required_for_prescribers_and_a_code_works_once(
    app: FastAPI, client: TestClient, personas: Personas, db: Session
) -> None:
    prescriber = TestClient(app)
    body = prescriber.post(
        "/api/auth/login", json={"email": personas.prescriber_a.email, "password": PASSWORD}
    ).json()
    assert body["mfa"] == "enrol"
    prescriber.headers["X-CSRF-Token"] = body["csrf_token"]
    # Until MFA is set up, the session reaches nothing but the MFA routes.
    assert prescriber.get("/api/patients").status_code == 401
    enrolment = prescriber.post("/api/auth/mfa/enrol").json()
    assert enrolment["qr_svg"].startswith("<svg")
    assert enrolment["provisioning_uri"].startswith("otpauth://totp/")
    db.refresh(personas.prescriber_a)
    key = app.state.settings.secret_key
    codes = prescriber.post(
        "/api/auth/mfa/enrol/confirm", json={"code": current_totp(personas.prescriber_a, key)}
    ).json()["recovery_codes"]
    assert len(codes) == 10
    assert prescriber.get("/api/patients").status_code == 200

    # A new login must verify, and a code already used is refused.
    again = TestClient(app)
    again.headers["X-CSRF-Token"] = again.post(
        "/api/auth/login", json={"email": personas.prescriber_a.email, "password": PASSWORD}
    ).json()["csrf_token"]
    db.refresh(personas.prescriber_a)
    used_step = personas.prescriber_a.mfa_last_step
    assert used_step is not None
    import pyotp

    from ketaguard.auth.mfa import decrypt_secret

    secret = decrypt_secret(personas.prescriber_a.mfa_secret_encrypted or "", key)
    reused = pyotp.TOTP(secret).at(used_step * 30)
    assert again.post("/api/auth/mfa/verify", json={"code": reused}).status_code == 401
    assert again.get("/api/patients").status_code == 401
    # A recovery code works once.
    assert again.post("/api/auth/mfa/verify", json={"recovery_code": codes[0]}).status_code == 204
    assert again.get("/api/patients").status_code == 200
    third = TestClient(app)
    third.headers["X-CSRF-Token"] = third.post(
        "/api/auth/login", json={"email": personas.prescriber_a.email, "password": PASSWORD}
    ).json()["csrf_token"]
    assert third.post("/api/auth/mfa/verify", json={"recovery_code": codes[0]}).status_code == 401
    assert {e.outcome for e in _events(db, "auth.mfa")} == {"success", "failure"}
    assert _events(db, "auth.mfa.enrol")

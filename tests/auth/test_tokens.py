"""API tokens for integrations and bedside devices."""

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.audit.service import AuditContext, record, record_token_use
from ketaguard.auth.models import ApiToken, User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.secrets import token_hash
from ketaguard.auth.service import principal_for_token
from ketaguard.kit.errors import Unauthenticated
from ketaguard.kit.time import utcnow
from tests.factories import Personas, issue_token


def test_admin_issues_a_scoped_token_shown_once_and_stored_hashed(
    app: FastAPI, personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    admin = login(personas.admin_a)
    response = admin.post(
        "/api/admin/tokens",
        json={
            "name": "Chair 3 monitor",
            "clinic_id": str(personas.clinic_a.id),
            "scopes": ["patient:read"],
        },
    )
    assert response.status_code == 201, response.text
    issued = response.json()
    secret = issued["token"]
    assert secret.startswith("kg_")
    stored = db.get_one(ApiToken, uuid.UUID(issued["id"]))
    assert stored.token_hash == token_hash(secret)
    assert secret not in {stored.token_hash, stored.prefix}
    listed = admin.get("/api/admin/tokens").json()
    assert [t["id"] for t in listed] == [issued["id"]]
    assert "token" not in listed[0]
    assert listed[0]["last_used_at"] is None

    device = TestClient(app)
    device.headers["Authorization"] = f"Bearer {secret}"
    assert device.get("/api/patients").status_code == 200
    db.refresh(stored)
    assert stored.last_used_at is not None
    uses = db.scalars(select(AuditEvent).where(AuditEvent.actor_token_id == stored.id)).all()
    # The request's own event names the token: that is the audit of this use.
    assert [e.action for e in uses] == ["patient.list"]

    assert admin.post(f"/api/admin/tokens/{issued['id']}/revoke").status_code == 200
    refused = device.get("/api/patients")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_tokens_are_limited_to_device_scopes_and_the_admins_clinics(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    admin = login(personas.admin_a)
    too_broad = admin.post(
        "/api/admin/tokens",
        json={"name": "x", "clinic_id": str(personas.clinic_a.id), "scopes": ["user:manage"]},
    )
    assert too_broad.status_code == 422
    assert "cannot be given to a token" in too_broad.json()["detail"]
    unknown_scope = admin.post(
        "/api/admin/tokens",
        json={"name": "x", "clinic_id": str(personas.clinic_a.id), "scopes": ["everything"]},
    )
    assert unknown_scope.status_code == 422
    other_clinic = admin.post(
        "/api/admin/tokens",
        json={"name": "x", "clinic_id": str(personas.clinic_b.id), "scopes": ["vitals:write"]},
    )
    assert other_clinic.status_code == 404


def test_a_made_up_token_is_refused_and_audited(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    stranger = TestClient(app)
    stranger.headers["Authorization"] = "Bearer kg_made-up"
    assert stranger.get("/api/patients").status_code == 401
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "auth.token")).all()
    assert event.outcome == "failure"


def test_a_token_request_that_audits_nothing_itself_gets_its_own_event(
    app: FastAPI, client: TestClient, personas: Personas, db: Session
) -> None:
    issued = issue_token(db, personas, "Ward display", Permission.patient_read)
    display = TestClient(app)
    display.headers["Authorization"] = f"Bearer {issued.secret}"
    # Listing open alerts records no event of its own.
    assert display.get("/api/alerts").status_code == 200
    [use] = db.scalars(select(AuditEvent).where(AuditEvent.actor_token_id == issued.token.id)).all()
    assert use.action == "auth.token"
    assert "GET /api/alerts" in use.detail


def test_a_rolled_back_savepoint_keeps_what_was_recorded_before_it(
    personas: Personas, db: Session
) -> None:
    issued = issue_token(db, personas, "Chair 2 monitor", Permission.vitals_write)
    context = AuditContext(
        organisation_id=personas.clinic_a.organisation_id, actor_token_id=issued.token.id
    )
    as_user = AuditContext(organisation_id=personas.clinic_a.organisation_id)
    record_token_use(db, context, clinic_id=personas.clinic_a.id, detail={"route": "POST /x"})
    record(db, as_user, "patient.list", detail={"before": "the savepoint"})
    with contextlib.suppress(RuntimeError), db.begin_nested():
        record(db, as_user, "patient.read", detail={"inside": "the savepoint"})
        raise RuntimeError("refused")
    db.commit()

    actions = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.action.in_(["auth.token", "patient.list", "patient.read"])
        )
    ).all()
    assert sorted(actions) == ["auth.token", "patient.list"]


def test_a_token_is_looked_up_once_per_transaction(db: Session, personas: Personas) -> None:
    """The requests of a group commit share a transaction; a gateway's share its token."""
    issued = issue_token(db, personas, "Chair 1 monitor", Permission.vitals_write)
    db.commit()
    lookups: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM api_token" in statement:
            lookups.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = principal_for_token(db, AuditContext(), issued.secret)
        again = principal_for_token(db, AuditContext(), issued.secret)
        assert again == first
        assert first.token_id == issued.token.id
        assert len(lookups) == 1
        db.commit()  # a new transaction looks again, and sees a revocation
        issued.token.revoked_at = utcnow()
        db.flush()
        with pytest.raises(Unauthenticated):
            principal_for_token(db, AuditContext(), issued.secret)
        assert len(lookups) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)

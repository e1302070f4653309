"""Clinic protocols: added by admins, every edit a new version, plans keep theirs."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ketaguard.auth.models import User
from ketaguard.cli import app
from ketaguard.clinics.models import Role
from ketaguard.protocols.loader import load_builtin
from tests.factories import Personas, make_clinic, make_staff


def _clinic_copy(version: int, title: str) -> str:
    definition: dict[str, Any] = load_builtin()["ketamine-iv-0.5"].model_dump(mode="json")
    definition.update(id="northwind-iv", version=version, title=title)
    return json.dumps(definition)


def test_an_admin_adds_a_protocol_and_each_edit_is_a_new_version(
    personas: Personas, login: Callable[[User], TestClient], db: Session
) -> None:
    admin = login(personas.admin_a)
    first = admin.post("/api/protocols", json={"format": "json", "text": _clinic_copy(1, "IV v1")})
    assert first.status_code == 201, first.text
    assert first.json()["builtin"] is False
    assert "phases.0.max_sessions_per_7_days" in first.json()["review_locally"]
    skipped = admin.post("/api/protocols", json={"format": "json", "text": _clinic_copy(3, "x")})
    assert skipped.status_code == 409
    assert "must be version 2" in skipped.json()["detail"]
    second = admin.post("/api/protocols", json={"format": "json", "text": _clinic_copy(2, "IV v2")})
    assert second.status_code == 201

    prescriber = login(personas.prescriber_a)
    listed = {p["id"]: p for p in prescriber.get("/api/protocols").json()}
    assert listed["northwind-iv"]["version"] == 2
    assert {"esketamine-trd", "esketamine-mdd-si", "ketamine-iv-0.5"} <= set(listed)
    old = prescriber.get("/api/protocols/northwind-iv", params={"version": 1}).json()
    assert old["title"] == "IV v1"
    # The organisation's other clinics share its protocols; another organisation never sees them.
    assert login(personas.prescriber_b).get("/api/protocols/northwind-iv").status_code == 200
    elsewhere = make_staff(db, make_clinic(db), Role.prescriber)
    assert login(elsewhere).get("/api/protocols/northwind-iv").status_code == 404


def test_bad_or_builtin_protocols_are_refused(
    personas: Personas, login: Callable[[User], TestClient]
) -> None:
    admin = login(personas.admin_a)
    invalid = admin.post(
        "/api/protocols", json={"format": "toml", "text": 'id = "x"\nversion = 0\n'}
    )
    assert invalid.status_code == 422
    assert any("version" in error for error in invalid.json()["details"]["errors"])
    builtin = load_builtin()["esketamine-trd"].model_dump(mode="json")
    clash = admin.post("/api/protocols", json={"format": "json", "text": json.dumps(builtin)})
    assert clash.status_code == 409
    assert "built-in" in clash.json()["detail"]
    nurse = login(personas.nurse_a)
    assert nurse.post("/api/protocols", json={"format": "json", "text": "{}"}).status_code == 403


def test_protocols_list_and_show_at_the_console(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", scratch_url)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    listed = runner.invoke(app, ["protocols", "list"])
    assert listed.exit_code == 0
    assert "esketamine-trd  v1  built-in" in listed.output
    shown = runner.invoke(app, ["protocols", "show", "ketamine-iv-0.5"])
    assert shown.exit_code == 0
    assert "dose.mg_per_kg = 0.5" in shown.output
    assert "(default, review locally)" in shown.output
    missing = runner.invoke(app, ["protocols", "show", "nope"])
    assert missing.exit_code == 1
    assert "No protocol nope" in missing.output

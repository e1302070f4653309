"""The console commands, run in-process against a real empty database of the kind under test."""

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import ketaguard
from ketaguard.audit.models import AuditEvent
from ketaguard.auth.models import User
from ketaguard.cli import ADMIN_PASSWORD_ENV, app
from ketaguard.clinics.models import Clinic, Membership, Organisation, Role
from ketaguard.config import Settings
from ketaguard.db.engine import build_engine, build_sessionmaker
from ketaguard.db.session import unit_of_work
from ketaguard.demo import DEMO_ORGANISATION

runner = CliRunner()

INIT_ARGS = [
    "init",
    "--organisation",
    "Maple Clinics",
    "--clinic",
    "Maple Central",
    "--timezone",
    "America/Toronto",
    "--admin-email",
    "Lead@Maple.example.org",
    "--admin-name",
    "Morgan Lead",
]


@pytest.fixture
def cli_env(scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", scratch_url)
    monkeypatch.delenv(ADMIN_PASSWORD_ENV, raising=False)
    return scratch_url


def _count(url: str, model: type[object]) -> int:
    engine = build_engine(Settings(database_url=url))
    try:
        with unit_of_work(build_sessionmaker(engine)) as db:
            return db.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ketaguard {ketaguard.__version__}"


def test_db_upgrade_reports_what_it_did(cli_env: str) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "Schema upgraded from empty to" in first.output
    second = runner.invoke(app, ["db", "upgrade"])
    assert "already at the latest revision" in second.output


def test_init_creates_organisation_clinic_and_admin(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, "a-long-enough-secret")
    result = runner.invoke(app, INIT_ARGS)
    assert result.exit_code == 0, result.output
    assert "admin lead@maple.example.org" in result.output
    engine = build_engine(Settings(database_url=cli_env))
    with unit_of_work(build_sessionmaker(engine)) as db:
        clinic = db.scalars(select(Clinic)).one()
        assert (clinic.name, clinic.timezone) == ("Maple Central", "America/Toronto")
        membership = db.scalars(select(Membership)).one()
        assert membership.role is Role.admin
        actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        assert actions == ["organisation.create", "user.create"]
    engine.dispose()

    again = runner.invoke(app, INIT_ARGS)
    assert again.exit_code == 1
    assert "already initialised" in again.output
    assert _count(cli_env, Organisation) == 1


@pytest.mark.parametrize(
    ("password", "change", "message"),
    [
        ("short", {}, "at least 12 characters"),
        ("a-long-enough-secret", {"--timezone": "Moon/Base"}, "not an IANA timezone"),
        ("a-long-enough-secret", {"--admin-email": "not-an-address"}, "not an e-mail address"),
    ],
)
def test_init_with_bad_input_says_why_and_changes_nothing(
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
    password: str,
    change: dict[str, str],
    message: str,
) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, password)
    args = list(INIT_ARGS)
    for flag, value in change.items():
        args[args.index(flag) + 1] = value
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert _count(cli_env, Organisation) == 0
    assert _count(cli_env, User) == 0


def test_init_without_a_terminal_or_password_variable_refuses(cli_env: str) -> None:
    result = runner.invoke(app, INIT_ARGS, input="")
    assert result.exit_code == 1
    assert ADMIN_PASSWORD_ENV in result.output


def test_password_is_never_a_flag() -> None:
    result = runner.invoke(app, [*INIT_ARGS, "--password", "a-long-enough-secret"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_demo_twice_builds_once_and_says_so(cli_env: str) -> None:
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo built." in first.output
    assert "admin@demo.example.org" in first.output
    users = _count(cli_env, User)
    assert users >= 10

    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0
    assert "already exists; nothing was added" in second.output
    assert _count(cli_env, User) == users
    assert _count(cli_env, Organisation) == 1


def test_serve_refuses_a_database_whose_schema_is_behind(cli_env: str) -> None:
    result = runner.invoke(app, ["serve", "--port", "8999"])
    assert result.exit_code == 1
    assert "run `ketaguard db upgrade`" in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://db.example.org/ketaguard", "supported: sqlite"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "Cannot use the database at"),
    ],
)
def test_a_bad_database_url_gives_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", url)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_demo_organisation_name_marks_it_as_a_demo() -> None:
    assert "demo" in DEMO_ORGANISATION.lower()

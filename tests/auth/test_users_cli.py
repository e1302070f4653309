import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.cli import USER_PASSWORD_ENV
from ketaguard.auth.models import User
from ketaguard.cli import app
from ketaguard.config import Settings
from ketaguard.db.engine import build_engine, build_sessionmaker
from ketaguard.db.session import unit_of_work

runner = CliRunner()


@pytest.fixture
def demo_database(scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", scratch_url)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    return scratch_url


def _user(url: str, email: str) -> User:
    engine = build_engine(Settings(database_url=url))
    with unit_of_work(build_sessionmaker(engine)) as db:
        user = db.scalars(select(User).where(User.email == email)).one()
    engine.dispose()
    return user


def _actions(url: str) -> list[str]:
    engine = build_engine(Settings(database_url=url))
    with unit_of_work(build_sessionmaker(engine)) as db:
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    engine.dispose()
    return actions


def test_create_list_disable_and_reset_mfa(
    demo_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(USER_PASSWORD_ENV, "another-long-password")
    created = runner.invoke(
        app,
        [
            "users", "create", "--email", "New.Nurse@demo.example.org", "--name", "New Nurse",
            "--clinic", "Northwind Harbor", "--role", "nurse",
        ],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Created new.nurse@demo.example.org as nurse in Northwind Harbor" in created.output

    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0
    assert "new.nurse@demo.example.org" in listed.output
    assert "nurse @ Northwind Harbor" in listed.output

    assert runner.invoke(app, ["users", "disable", "new.nurse@demo.example.org"]).exit_code == 0
    assert _user(demo_database, "new.nurse@demo.example.org").is_active is False

    reset = runner.invoke(app, ["users", "reset-mfa", "admin@demo.example.org"])
    assert reset.exit_code == 0
    assert _user(demo_database, "admin@demo.example.org").mfa_enabled_at is None
    assert _actions(demo_database)[-3:] == ["user.create", "user.disable", "auth.mfa.reset"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "disable", "ghost@demo.example.org"], "No account with e-mail"),
        (
            ["users", "create", "--email", "x@demo.example.org", "--name", "X", "--clinic",
             "Nowhere", "--role", "nurse"],
            "No clinic named 'Nowhere'",
        ),
    ],
)  # fmt: skip
def test_bad_input_names_the_problem(
    demo_database: str, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv(USER_PASSWORD_ENV, "another-long-password")
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output

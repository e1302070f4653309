import pytest

from ketaguard.config import DEFAULT_SECRET_KEY, ConfigurationError, Environment, load_settings


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("KETAGUARD_ENV", "test")
    settings = load_settings()
    assert settings.database_url == "sqlite:///elsewhere.db"
    assert settings.env is Environment.test


def test_default_database_is_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KETAGUARD_DATABASE_URL", raising=False)
    assert load_settings().database_url == "sqlite:///var/ketaguard.db"


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETAGUARD_ENV", "production")
    monkeypatch.delenv("KETAGUARD_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="KETAGUARD_SECRET_KEY must be set"):
        load_settings()
    monkeypatch.setenv("KETAGUARD_SECRET_KEY", "x" * 48)
    assert load_settings().secret_key != DEFAULT_SECRET_KEY


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETAGUARD_SQLITE_BUSY_TIMEOUT_SECONDS", "-3")
    with pytest.raises(ConfigurationError, match="KETAGUARD_SQLITE_BUSY_TIMEOUT_SECONDS"):
        load_settings()


@pytest.mark.parametrize("value", ["-1", "500", "soon"])
def test_a_group_gathering_wait_out_of_range_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("KETAGUARD_GROUP_GATHER_MS", value)
    with pytest.raises(ConfigurationError, match="KETAGUARD_GROUP_GATHER_MS"):
        load_settings()
    monkeypatch.setenv("KETAGUARD_GROUP_GATHER_MS", "0")
    assert load_settings().group_gather_ms == 0

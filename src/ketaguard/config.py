"""One settings object for the whole application, read from the environment or `.env`."""

from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public on purpose: production refuses to start with it (see Settings below).
DEFAULT_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105
DEFAULT_DATABASE_URL = f"sqlite:///{Path('var') / 'ketaguard.db'}"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class ConfigurationError(RuntimeError):
    """Settings that cannot be used; the message is shown to the operator as one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KETAGUARD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.development
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEFAULT_SECRET_KEY
    # Seconds a SQLite writer waits for the write lock before giving up with "database is locked".
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)
    # How long a group commit waits for the previous group's callers to come back (see
    # ketaguard.db.group_commit); 0 never waits. Measured with bench/ingest.py, 16 clients posting
    # single readings to 2 workers on PostgreSQL: 966 to 1,136 requests/s at 2 ms, 701 to 868
    # without waiting, and no better at 5 ms.
    group_gather_ms: float = Field(default=2.0, ge=0, le=50)
    log_sql: bool = False

    # Login protection (OWASP ASVS 5 V6.3): security defaults, not clinical numbers.
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # A login session ends this long after it began, however active (ASVS V7.3.2).
    session_max_hours: int = Field(default=12, ge=1)
    # How long emergency access to a patient outside one's clinics lasts (ONC (d)(6)).
    break_glass_minutes: int = Field(default=60, ge=5)

    # Minutes an alert may stay unacknowledged before the worker escalates it, and how late a
    # scheduled vital-sign check may be before it counts as missed. Neither is in the clinical
    # reference: both are local operating choices with deliberately short defaults.
    alert_escalation_minutes: int = Field(default=10, ge=1)
    missed_reading_grace_minutes: int = Field(default=5, ge=0)
    worker_interval_seconds: int = Field(default=30, ge=1)

    # The outbox (check-in reminders): how messages leave ("log", or "package.module:factory"
    # returning a checkins.outbox.Delivery for e-mail or SMS), how often and how far apart a
    # failing send is tried, and how long a worker's claim on a message lasts. Operating choices.
    outbox_delivery: str = "log"
    outbox_max_attempts: int = Field(default=5, ge=1)
    outbox_retry_minutes: int = Field(default=15, ge=1)
    outbox_claim_minutes: int = Field(default=5, ge=1)
    # Shown to a patient whose check-in answer signals suicide risk. Not from the clinical
    # reference: the US national numbers; a clinic elsewhere sets its own (a JSON list).
    crisis_contacts: list[str] = Field(
        default=[
            "988 Suicide & Crisis Lifeline: call or text 988",
            "Emergency services: call 911",
        ],
        min_length=1,
    )

    @property
    def secure_cookies(self) -> bool:
        return self.env is Environment.production

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.env is Environment.production and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "KETAGUARD_SECRET_KEY must be set to a long random value when "
                "KETAGUARD_ENV=production (the built-in development key is public)"
            )
        return self


def load_settings() -> Settings:
    """Read settings now (never at import time), turning validation errors into one clear line."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            (f"KETAGUARD_{'_'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "")
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}") from exc

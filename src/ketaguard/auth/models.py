"""Accounts, login sessions, API tokens and emergency-access grants."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum


class AccountKind(StrEnum):
    staff = "staff"
    patient = "patient"


class User(IdMixin, CreatedAtMixin, Base):
    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "user_account"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[AccountKind] = mapped_column(
        str_enum(AccountKind, "account_kind"), default=AccountKind.staff
    )
    # Set for patient accounts only: the one record that account may see.
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"), unique=True)
    # Stored lower-cased so look-ups and the unique constraint ignore case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # TOTP secret, encrypted with a key derived from KETAGUARD_SECRET_KEY (ONC (d)(12)).
    mfa_secret_encrypted: Mapped[str | None] = mapped_column(String(500))
    mfa_enabled_at: Mapped[datetime | None]
    # The last accepted TOTP time step: a code for this step or an earlier one is refused.
    mfa_last_step: Mapped[int | None]


class RecoveryCode(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "recovery_code"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime | None]


class SessionEnd(StrEnum):
    logout = "logout"
    timeout = "timeout"
    revoked = "revoked"


class LoginSession(IdMixin, CreatedAtMixin, Base):
    """Server-side record behind the session cookie, so logout and an admin can end it."""

    __tablename__ = "login_session"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    # SHA-256 of the cookie's random token: a stolen database cannot be replayed as cookies.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    mfa_satisfied: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[SessionEnd | None] = mapped_column(str_enum(SessionEnd, "session_end"))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))


class LoginFailure(IdMixin, Base):
    """One failed login, kept for throttling by client address."""

    __tablename__ = "login_failure"

    address: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)


class ApiToken(IdMixin, CreatedAtMixin, Base):
    """A credential for an integration or bedside device, limited to one clinic and some scopes."""

    __tablename__ = "api_token"

    name: Mapped[str] = mapped_column(String(200))
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    # Space-separated scope names, e.g. "vitals:write".
    scopes: Mapped[str] = mapped_column(String(400))
    # The first characters of the token, shown in lists so an admin can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class BreakGlassGrant(IdMixin, CreatedAtMixin, Base):
    """Time-limited emergency access to one patient outside the user's clinics (ONC (d)(6))."""

    __tablename__ = "break_glass_grant"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    review_note: Mapped[str | None] = mapped_column(Text)

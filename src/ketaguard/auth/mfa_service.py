"""Enrolling in and using TOTP multi-factor authentication (ONC 170.315(d)(13))."""

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import Outcome
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth import mfa
from ketaguard.auth.models import LoginSession, RecoveryCode, User
from ketaguard.auth.service import record_failed_attempt, revoke_sessions
from ketaguard.config import Settings
from ketaguard.db.session import discard_work
from ketaguard.kit.errors import Conflict, Unauthenticated, kept
from ketaguard.kit.time import utcnow

WRONG_CODE = "That code is not right, or the account is locked after repeated failures"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    provisioning_uri: str
    qr_svg: str


def _enrolment(secret: str, user: User) -> Enrolment:
    uri = mfa.provisioning_uri(secret, user.email)
    return Enrolment(secret=secret, provisioning_uri=uri, qr_svg=mfa.qr_svg(uri))


def start_enrolment(db: Session, settings: Settings, user: User) -> Enrolment:
    if user.mfa_enabled_at is not None:
        raise Conflict("Multi-factor authentication is already set up; an admin can reset it")
    secret = mfa.new_totp_secret()
    user.mfa_secret_encrypted = mfa.encrypt_secret(secret, settings.secret_key)
    user.mfa_last_step = None
    return _enrolment(secret, user)


def enrolment_in_progress(settings: Settings, user: User) -> Enrolment | None:
    """The enrolment started but not yet confirmed, so a page can show its QR code again."""
    if user.mfa_enabled_at is not None or user.mfa_secret_encrypted is None:
        return None
    return _enrolment(mfa.decrypt_secret(user.mfa_secret_encrypted, settings.secret_key), user)


def _wrong_code(
    db: Session, settings: Settings, context: AuditContext, user: User, action: str
) -> Unauthenticated:
    """Count a wrong code like a wrong password, keep its audit event, and return the error."""
    user_id = user.id
    discard_work(db)
    fresh = db.get_one(User, user_id)
    record_failed_attempt(db, settings, fresh, context.address or "unknown", utcnow())
    record(db, context, action, outcome=Outcome.failure, resource_type="user", resource_id=user_id)
    return kept(Unauthenticated(WRONG_CODE))


def confirm_enrolment(
    db: Session,
    settings: Settings,
    context: AuditContext,
    login: LoginSession,
    user: User,
    code: str,
) -> list[str]:
    """Turn MFA on once the first code checks out; returns recovery codes, shown only now."""
    if user.mfa_enabled_at is not None:
        raise Conflict("Multi-factor authentication is already set up")
    if user.mfa_secret_encrypted is None:
        raise Conflict("Start enrolment first")
    now = utcnow()
    secret = mfa.decrypt_secret(user.mfa_secret_encrypted, settings.secret_key)
    step = mfa.match_totp(secret, code, last_step=None, at=now)
    if step is None:
        raise _wrong_code(db, settings, context, user, "auth.mfa.enrol")
    user.mfa_enabled_at = now
    user.mfa_last_step = step
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = mfa.new_recovery_codes()
    db.add_all(RecoveryCode(user_id=user.id, code_hash=mfa.hash_recovery_code(c)) for c in codes)
    login.mfa_satisfied = True
    record(db, context, "auth.mfa.enrol", resource_type="user", resource_id=user.id)
    return codes


def verify_second_factor(
    db: Session,
    settings: Settings,
    context: AuditContext,
    login: LoginSession,
    user: User,
    *,
    code: str | None,
    recovery_code: str | None,
) -> None:
    if user.mfa_enabled_at is None or user.mfa_secret_encrypted is None:
        raise Conflict("Multi-factor authentication is not set up for this account")
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise _wrong_code(db, settings, context, user, "auth.mfa")
    method = "totp"
    if code is not None:
        secret = mfa.decrypt_secret(user.mfa_secret_encrypted, settings.secret_key)
        step = mfa.match_totp(secret, code, last_step=user.mfa_last_step, at=now)
        if step is None:
            raise _wrong_code(db, settings, context, user, "auth.mfa")
        user.mfa_last_step = step
    else:
        method = "recovery_code"
        unused = db.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        match = next(
            (c for c in unused if mfa.recovery_code_matches(recovery_code or "", c.code_hash)),
            None,
        )
        if match is None:
            raise _wrong_code(db, settings, context, user, "auth.mfa")
        match.used_at = now
    user.failed_login_count = 0
    login.mfa_satisfied = True
    record(
        db,
        context,
        "auth.mfa",
        resource_type="login_session",
        resource_id=login.id,
        detail={"method": method},
    )


def reset_mfa(db: Session, context: AuditContext, user: User) -> None:
    """An admin's reset for a lost device: MFA off, recovery codes gone, sessions ended."""
    user.mfa_secret_encrypted = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    revoke_sessions(db, context, user.id)
    record(db, context, "auth.mfa.reset", resource_type="user", resource_id=user.id)

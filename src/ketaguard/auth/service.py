"""Accounts, password login with throttling, login sessions and API tokens."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NoReturn

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from ketaguard.audit.models import Outcome
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.models import (
    AccountKind,
    ApiToken,
    LoginFailure,
    LoginSession,
    SessionEnd,
    User,
)
from ketaguard.auth.passwords import hash_password, verify_password
from ketaguard.auth.permissions import MFA_REQUIRED_ROLES, TOKEN_SCOPES, Permission
from ketaguard.auth.principal import Principal, PrincipalKind
from ketaguard.auth.secrets import new_api_token, new_token, token_hash
from ketaguard.clinics.models import Clinic, Membership, Organisation, Role
from ketaguard.config import Settings
from ketaguard.db.session import discard_work
from ketaguard.kit.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    TooManyRequests,
    Unauthenticated,
    kept,
)
from ketaguard.kit.time import utcnow

# How stale an API token's "last used" time may be before a request refreshes it: a gateway's
# concurrent posts would otherwise all queue on the token's row.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)
# One answer for every failed login, so it never tells whether an account exists (ASVS V6.3.8).
LOGIN_FAILED = "Wrong e-mail or password, or the account is locked after repeated failures"
# Verifying against this keeps a login for an unknown e-mail as slow as one for a real account.
_DUMMY_HASH = hash_password("not-a-real-password-for-timing")


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    local, _, domain = cleaned.partition("@")
    if not local or "." not in domain or " " in cleaned:
        raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    return cleaned


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    db: Session,
    *,
    organisation_id: uuid.UUID,
    email: str,
    full_name: str,
    password: str,
    kind: AccountKind = AccountKind.staff,
    patient_id: uuid.UUID | None = None,
) -> User:
    if not full_name.strip():
        raise InvalidInput("Full name must not be empty", field="full_name")
    address = normalise_email(email)
    if find_user_by_email(db, address) is not None:
        raise Conflict(f"A user with e-mail {address} already exists", field="email")
    user = User(
        organisation_id=organisation_id,
        email=address,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        kind=kind,
        patient_id=patient_id,
    )
    db.add(user)
    db.flush()
    return user


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def refuse(
    db: Session,
    context: AuditContext,
    action: str,
    error: DomainError,
    *,
    outcome: Outcome = Outcome.denied,
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    resource_type: str | None = None,
    resource_id: str | uuid.UUID | None = None,
    detail: dict[str, object] | None = None,
) -> NoReturn:
    """Drop the request's work, keep an audit event of the refusal, and raise it."""
    discard_work(db)
    record(
        db,
        context,
        action,
        outcome=outcome,
        patient_id=patient_id,
        clinic_id=clinic_id,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
    )
    raise kept(error)


# --- who is calling -------------------------------------------------------------------------


def memberships(db: Session, user_id: uuid.UUID) -> dict[uuid.UUID, Role]:
    rows = db.execute(
        select(Membership.clinic_id, Membership.role).where(Membership.user_id == user_id)
    )
    return {clinic_id: role for clinic_id, role in rows}


def principal_for_user(db: Session, user: User, session_id: uuid.UUID | None) -> Principal:
    if user.kind is AccountKind.patient:
        return Principal(
            kind=PrincipalKind.patient,
            organisation_id=user.organisation_id,
            user_id=user.id,
            session_id=session_id,
            patient_id=user.patient_id,
        )
    return Principal(
        kind=PrincipalKind.staff,
        organisation_id=user.organisation_id,
        user_id=user.id,
        session_id=session_id,
        roles=memberships(db, user.id),
    )


def mfa_required(db: Session, user: User) -> bool:
    if any(role in MFA_REQUIRED_ROLES for role in memberships(db, user.id).values()):
        return True
    organisation = db.get_one(Organisation, user.organisation_id)
    return organisation.require_mfa_for_all


# --- password login -------------------------------------------------------------------------


class MfaStep(StrEnum):
    """What a login still needs before the session may be used."""

    none = "none"
    verify = "verify"
    enrol = "enrol"


@dataclass(frozen=True)
class Login:
    session: LoginSession
    cookie_token: str
    mfa: MfaStep


def _recent_failures_from(db: Session, address: str, since: datetime) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.address == address, LoginFailure.occurred_at >= since)
        )
        or 0
    )


def record_failed_attempt(
    db: Session, settings: Settings, user: User | None, address: str, now: datetime
) -> None:
    db.add(LoginFailure(address=address, occurred_at=now))
    if user is None:
        return
    user.failed_login_count += 1
    if user.failed_login_count >= settings.login_max_failures_per_account:
        user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)


def login_with_password(
    db: Session, settings: Settings, context: AuditContext, *, email: str, password: str
) -> Login:
    now = utcnow()
    address = context.address or "unknown"
    window_start = now - timedelta(minutes=settings.login_lockout_minutes)
    if _recent_failures_from(db, address, window_start) >= settings.login_max_failures_per_address:
        refuse(
            db,
            context,
            "auth.login",
            TooManyRequests("Too many failed logins from this address; try again later"),
            detail={"reason": "address throttled"},
        )
    user = find_user_by_email(db, email)
    password_ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    if user is None or not user.is_active or locked or not password_ok:
        reason = (
            "unknown account"
            if user is None
            else "disabled"
            if not user.is_active
            else "locked"
            if locked
            else "wrong password"
        )
        discard_work(db)
        user = find_user_by_email(db, email)
        record_failed_attempt(db, settings, user, address, now)
        failed = AuditContext(
            actor_user_id=user.id if user else None,
            organisation_id=user.organisation_id if user else None,
            address=context.address,
            user_agent=context.user_agent,
        )
        record(db, failed, "auth.login", outcome=Outcome.failure, detail={"reason": reason})
        raise kept(Unauthenticated(LOGIN_FAILED))

    user.failed_login_count = 0
    user.locked_until = None
    if user.mfa_enabled_at is not None:
        step = MfaStep.verify
    elif mfa_required(db, user):
        step = MfaStep.enrol
    else:
        step = MfaStep.none
    cookie_token = new_token()
    session = LoginSession(
        user_id=user.id,
        token_hash=token_hash(cookie_token),
        csrf_token=new_token(),
        mfa_satisfied=step is MfaStep.none,
        last_seen_at=now,
        address=context.address,
        user_agent=context.user_agent[:400] if context.user_agent else None,
    )
    db.add(session)
    db.flush()
    record(
        db,
        _context_for(user, context),
        "auth.login",
        resource_type="login_session",
        resource_id=session.id,
        detail={"mfa": step.value},
    )
    return Login(session=session, cookie_token=cookie_token, mfa=step)


def _context_for(user: User, context: AuditContext) -> AuditContext:
    return AuditContext(
        actor_user_id=user.id,
        actor_role=user.kind.value,
        organisation_id=user.organisation_id,
        address=context.address,
        user_agent=context.user_agent,
    )


# --- login sessions -------------------------------------------------------------------------


def end_session(session: LoginSession, reason: SessionEnd, now: datetime | None = None) -> None:
    session.ended_at = now or utcnow()
    session.end_reason = reason


def resolve_session(
    db: Session,
    settings: Settings,
    context: AuditContext,
    cookie_token: str,
    *,
    activity: bool = True,
) -> tuple[LoginSession, User]:
    """The live session behind a cookie, or an audited 401 (unknown, ended or timed out).

    `activity` off: the request shows the page is open, not that someone is using it (a page's
    automatic refresh), so it does not hold off the idle time-out.
    """
    now = utcnow()
    session = db.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_hash(cookie_token))
    )
    if session is None or session.ended_at is not None:
        raise Unauthenticated("Your session has ended; please log in again")
    user = db.get_one(User, session.user_id)
    organisation = db.get_one(Organisation, user.organisation_id)
    idle_limit = timedelta(minutes=organisation.idle_timeout_minutes)
    too_old = session.created_at + timedelta(hours=settings.session_max_hours) <= now
    if now - session.last_seen_at >= idle_limit or too_old or not user.is_active:
        discard_work(db)
        session = db.get_one(LoginSession, session.id)
        end_session(session, SessionEnd.timeout if user.is_active else SessionEnd.revoked, now)
        record(
            db,
            _context_for(user, context),
            "auth.timeout" if user.is_active else "auth.session_revoked",
            resource_type="login_session",
            resource_id=session.id,
        )
        raise kept(Unauthenticated("Your session timed out; please log in again"))
    if activity:
        session.last_seen_at = now
    return session, user


def logout(db: Session, context: AuditContext, session: LoginSession) -> None:
    end_session(session, SessionEnd.logout)
    record(db, context, "auth.logout", resource_type="login_session", resource_id=session.id)


def revoke_sessions(
    db: Session, context: AuditContext, user_id: uuid.UUID, *, session_id: uuid.UUID | None = None
) -> int:
    conditions = [LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)]
    if session_id is not None:
        conditions.append(LoginSession.id == session_id)
    ended = db.execute(
        update(LoginSession)
        .where(*conditions)
        .values(ended_at=utcnow(), end_reason=SessionEnd.revoked)
        .returning(LoginSession.id)
    ).all()
    if ended:
        record(
            db,
            context,
            "auth.session_revoked",
            resource_type="user",
            resource_id=user_id,
            detail={"sessions": len(ended)},
        )
    return len(ended)


def disable_account(db: Session, context: AuditContext, user: User) -> int:
    """Stop an account from logging in and end its sessions; returns how many were ended."""
    user.is_active = False
    ended = revoke_sessions(db, context, user.id)
    record(db, context, "user.disable", resource_type="user", resource_id=user.id)
    return ended


# --- API tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def create_api_token(
    db: Session,
    context: AuditContext,
    *,
    clinic: Clinic,
    name: str,
    scopes: list[Permission],
    created_by: uuid.UUID,
) -> IssuedToken:
    if not name.strip():
        raise InvalidInput("A token needs a name, e.g. the device it is for", field="name")
    if not scopes:
        raise InvalidInput("A token needs at least one scope", field="scopes")
    not_allowed = sorted(scope.value for scope in scopes if scope not in TOKEN_SCOPES)
    if not_allowed:
        allowed = ", ".join(sorted(scope.value for scope in TOKEN_SCOPES))
        raise InvalidInput(
            f"Scopes {', '.join(not_allowed)} cannot be given to a token ({allowed})",
            field="scopes",
        )
    secret = new_api_token()
    token = ApiToken(
        name=name.strip(),
        clinic_id=clinic.id,
        scopes=" ".join(sorted({scope.value for scope in scopes})),
        prefix=secret[:10],
        token_hash=token_hash(secret),
        created_by_id=created_by,
    )
    db.add(token)
    db.flush()
    record(
        db,
        context,
        "token.create",
        clinic_id=clinic.id,
        resource_type="api_token",
        resource_id=token.id,
        detail={"name": token.name, "scopes": token.scopes},
    )
    return IssuedToken(token=token, secret=secret)


# Built once: a bedside gateway presents its token many times a second.
_TOKEN_BY_HASH = (
    select(
        ApiToken.id,
        ApiToken.clinic_id,
        ApiToken.scopes,
        ApiToken.last_used_at,
        ApiToken.revoked_at,
        Clinic.organisation_id,
    )
    .join(Clinic, Clinic.id == ApiToken.clinic_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
_TOKEN_USED = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now"))
)


# The tokens already looked up in the session's current transaction: the requests of a group
# commit (ketaguard.db.group_commit) share one, and a gateway's share its token.
_LOOKED_UP = "ketaguard.auth.tokens_looked_up"


def principal_for_token(db: Session, context: AuditContext, secret: str) -> Principal:
    digest, connection = token_hash(secret), db.connection()  # begins the transaction
    looked_up: dict[str, Principal]
    transaction, looked_up = db.info.get(_LOOKED_UP, (None, {}))
    if transaction is not db.get_transaction():
        transaction, looked_up = db.get_transaction(), {}
        db.info[_LOOKED_UP] = (transaction, looked_up)
    if (known := looked_up.get(digest)) is not None:
        return known
    token = connection.execute(_TOKEN_BY_HASH, {"token_hash": digest}).one_or_none()
    if token is None or token.revoked_at is not None:
        refuse(
            db,
            context,
            "auth.token",
            Unauthenticated("Unknown or revoked API token"),
            outcome=Outcome.failure,
            detail={"prefix": secret[:10]},
        )
    now = utcnow()
    # Every use is in the audit trail with its time; the column only answers "still in use?".
    # Writing it on every request would make a gateway's concurrent posts queue on its row.
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_LAST_USED_RESOLUTION:
        connection.execute(_TOKEN_USED, {"token_id": token.id, "now": now})
    principal = looked_up[digest] = Principal(
        kind=PrincipalKind.token,
        organisation_id=token.organisation_id,
        token_id=token.id,
        token_clinic_id=token.clinic_id,
        token_scopes=frozenset(Permission(scope) for scope in token.scopes.split()),
    )
    return principal

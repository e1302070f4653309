"""Logging in and out on the web: password, then the second factor (enrolment or a code).

The same service functions as /api/auth. A refusal the service keeps a record of (a failed login,
a wrong code) is shown next to the field; returning normally lets the request's transaction
commit that record, as the API's error path does.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from ketaguard.auth import mfa_service
from ketaguard.auth.deps import (
    PendingLogin,
    audit_context,
    clear_session_cookie,
    client_context,
    set_session_cookie,
    settings_of,
)
from ketaguard.auth.models import LoginSession, User
from ketaguard.auth.service import MfaStep, login_with_password, logout, principal_for_user
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import TooManyRequests, Unauthenticated
from ketaguard.web.errors import ENDED_NOTICE, LOGIN_PAGE, MFA_PAGE
from ketaguard.web.pages import render

router = APIRouter(include_in_schema=False)

ENROL_PAGE = "/login/mfa/enrol"
SIGNED_OUT_NOTICE = "signed-out"
NOTICES = {
    SIGNED_OUT_NOTICE: "You are signed out.",
    ENDED_NOTICE: (
        "You were signed out because the page was left without activity, or your session "
        "was ended. Log in again to continue."
    ),
}
MISSING = {"email": "Enter your e-mail address", "password": "Enter your password"}
FormText = Annotated[str, Form()]


def _after_password(step: MfaStep) -> str:
    return {MfaStep.none: "/", MfaStep.verify: MFA_PAGE, MfaStep.enrol: ENROL_PAGE}[step]


def _see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


@router.get("/login")
def login_page(request: Request, notice: str | None = None) -> Response:
    return render(request, "login.html", notice=NOTICES.get(notice or ""), email="", errors={})


@router.post("/login")
def log_in(
    request: Request, db: DbSession, email: FormText = "", password: FormText = ""
) -> Response:
    given = {"email": email.strip(), "password": password}
    errors = {field: MISSING[field] for field, value in given.items() if not value}
    if errors:
        return render(
            request, "login.html", status_code=422, notice=None, email=email, errors=errors
        )
    settings = settings_of(request)
    try:
        result = login_with_password(
            db, settings, client_context(request), email=email, password=password
        )
    except (Unauthenticated, TooManyRequests) as exc:
        return render(
            request,
            "login.html",
            status_code=exc.status_code,
            notice=None,
            email=email,
            errors={"password": exc.message},
        )
    response = _see_other(_after_password(result.mfa))
    set_session_cookie(response, settings, result.cookie_token)
    return response


def _mfa_page(
    request: Request, login: LoginSession, *, errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request,
        "mfa_verify.html",
        status_code=status_code,
        csrf_token=login.csrf_token,
        errors=errors,
    )


@router.get("/login/mfa")
def mfa_page(request: Request, current: PendingLogin) -> Response:
    login, user = current
    if login.mfa_satisfied:
        return _see_other("/")
    if user.mfa_enabled_at is None:
        return _see_other(ENROL_PAGE)
    return _mfa_page(request, login, errors={})


@router.post("/login/mfa")
def verify_mfa(
    request: Request,
    db: DbSession,
    current: PendingLogin,
    code: FormText = "",
    recovery_code: FormText = "",
) -> Response:
    login, user = current
    field = "recovery_code" if recovery_code.strip() and not code.strip() else "code"
    if not code.strip() and not recovery_code.strip():
        message = "Enter the 6-digit code from your authenticator app"
        return _mfa_page(request, login, errors={field: message}, status_code=422)
    try:
        mfa_service.verify_second_factor(
            db,
            settings_of(request),
            audit_context(request, principal_for_user(db, user, login.id)),
            login,
            user,
            code=code if field == "code" else None,
            recovery_code=recovery_code if field == "recovery_code" else None,
        )
    except Unauthenticated as exc:
        return _mfa_page(request, login, errors={field: exc.message}, status_code=401)
    return _see_other("/")


def _enrol_page(
    request: Request,
    login: LoginSession,
    user: User,
    *,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    enrolment = mfa_service.enrolment_in_progress(settings_of(request), user)
    return render(
        request,
        "mfa_enrol.html",
        status_code=status_code,
        csrf_token=login.csrf_token,
        # Segno's SVG, built from our own URI: nothing in it comes from a request.
        qr_svg=Markup(enrolment.qr_svg) if enrolment else None,  # noqa: S704
        secret_groups=_groups(enrolment.secret) if enrolment else (),
        errors=errors,
    )


def _groups(secret: str) -> tuple[str, ...]:
    # Typed by hand from the screen, the key is easier to copy in groups of four.
    return tuple(secret[i : i + 4] for i in range(0, len(secret), 4))


@router.get("/login/mfa/enrol")
def enrol_page(request: Request, current: PendingLogin) -> Response:
    login, user = current
    if user.mfa_enabled_at is not None:
        return _see_other(MFA_PAGE)
    return _enrol_page(request, login, user, errors={})


@router.post("/login/mfa/enrol")
def start_enrolment(request: Request, db: DbSession, current: PendingLogin) -> Response:
    _, user = current
    mfa_service.start_enrolment(db, settings_of(request), user)
    # Redirect, so reloading the page shows the same key instead of making a new one.
    return _see_other(ENROL_PAGE)


@router.post("/login/mfa/enrol/confirm")
def confirm_enrolment(
    request: Request, db: DbSession, current: PendingLogin, code: FormText = ""
) -> Response:
    login, user = current
    if not code.strip():
        errors = {"code": "Enter the 6-digit code your authenticator app shows"}
        return _enrol_page(request, login, user, errors=errors, status_code=422)
    try:
        codes = mfa_service.confirm_enrolment(
            db,
            settings_of(request),
            audit_context(request, principal_for_user(db, user, login.id)),
            login,
            user,
            code,
        )
    except Unauthenticated as exc:
        return _enrol_page(request, login, user, errors={"code": exc.message}, status_code=401)
    return render(request, "recovery_codes.html", recovery_codes=codes)


@router.post("/logout")
def log_out(request: Request, db: DbSession, current: PendingLogin) -> Response:
    login, user = current
    logout(db, audit_context(request, principal_for_user(db, user, login.id)), login)
    response = _see_other(f"{LOGIN_PAGE}?notice={SIGNED_OUT_NOTICE}")
    clear_session_cookie(response, settings_of(request))
    return response

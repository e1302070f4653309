"""Admin pages: staff accounts and their roles, the organisation's security policy, API tokens, and
the review of emergency (break-glass) access. The same service calls and permissions as /api/admin.

A refusal from a service is shown next to the field it concerns and changes nothing; a page that
changes something redirects to itself with a notice key, so reloading it does not repeat the change.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from ketaguard.auth import admin_service, mfa_service
from ketaguard.auth.deps import audit_context
from ketaguard.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from ketaguard.auth.permissions import MFA_REQUIRED_ROLES, TOKEN_SCOPES, Permission
from ketaguard.auth.schemas import (
    BreakGlassReviewIn,
    OrganisationPolicy,
    PatientAccountCreate,
    TokenCreate,
    UserCreate,
)
from ketaguard.auth.service import IssuedToken, memberships, revoke_sessions
from ketaguard.clinics.models import Organisation, Role
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import Conflict, InvalidInput
from ketaguard.kit.time import utcnow
from ketaguard.patients.service import list_patients
from ketaguard.web.deps import Viewer, require_page
from ketaguard.web.display import time_formatter, viewer_zone
from ketaguard.web.forms import (
    FieldErrors,
    number_bounds,
    schema_errors,
    service_errors,
    text_limit,
    undone_if_refused,
)
from ketaguard.web.pages import render

router = APIRouter(prefix="/admin", include_in_schema=False)

UserManager = Annotated[Viewer, require_page(Permission.user_manage)]
TokenManager = Annotated[Viewer, require_page(Permission.token_manage)]
OrganisationManager = Annotated[Viewer, require_page(Permission.organisation_manage)]
BreakGlassReviewer = Annotated[Viewer, require_page(Permission.break_glass_review)]
FormText = Annotated[str, Form()]

USERS_PAGE = "/admin/users"
TOKENS_PAGE = "/admin/tokens"
ORGANISATION_PAGE = "/admin/organisation"
BREAK_GLASS_PAGE = "/admin/break-glass"

# What a page says after a change; the address carries only the key, so a link cannot inject text.
NOTICES = {
    "created": "The account is created. Give them their first password in person; they set up "
    "multi-factor authentication at their first log-in if their role needs it.",
    "patient-created": "The patient's portal account is created. Give them their first "
    "password in person.",
    "disabled": "The account is disabled and all its sessions have ended.",
    "unlocked": "The lockout is cleared: they can log in again.",
    "mfa-reset": "Multi-factor authentication is reset and their sessions have ended. They set "
    "up their authenticator app again at their next log-in.",
    "signed-out": "Every session of this account has ended.",
    "policy-saved": "The security settings are saved. A new idle time-out applies from each "
    "person's next request.",
    "revoked": "The token is revoked. Devices using it are refused from now on.",
    "reviewed": "The emergency access is marked as reviewed.",
}
ROLE_CHOICES = tuple((role.value, role.value.replace("_", " ").capitalize()) for role in Role)
SCOPE_LABELS = {
    Permission.patient_read: "Read the clinic's patient list (for an integration)",
    Permission.vitals_write: "Send vital signs (for a bedside monitor or gateway)",
}
IDLE_MINUTES = number_bounds(OrganisationPolicy, "idle_timeout_minutes")

NEW_USER_PROBLEMS = {
    "full_name": "Enter their full name",
    "email": "Enter their e-mail address, like name@clinic.example.org",
    "password": (
        f"Enter a first password of {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
    ),
    "clinic_id": "Choose the clinic they work in",
    "role": "Choose their role in that clinic",
}
NEW_USER_LABELS = {
    "full_name": "Full name",
    "email": "E-mail address",
    "password": "First password",
    "clinic_id": "Clinic",
    "role": "Role",
}
PATIENT_ACCOUNT_PROBLEMS = {
    "patient_id": "Choose the patient the account is for",
    "email": "Enter the patient's e-mail address, like name@example.org",
    "password": NEW_USER_PROBLEMS["password"],
}
PATIENT_ACCOUNT_LABELS = {
    "patient_id": "Patient",
    "email": "Their e-mail address",
    "password": "First password",
}
TOKEN_PROBLEMS = {
    "name": 'Enter a name that says what the token is for, like "Chair 3 monitor"',
    "clinic_id": "Choose the clinic the token works in",
    "scopes": "Choose at least one thing the token may do",
}
TOKEN_LABELS = {"name": "Name", "clinic_id": "Clinic", "scopes": "What it may do"}
POLICY_PROBLEMS = {
    "idle_timeout_minutes": (
        f"Enter a whole number of minutes from {IDLE_MINUTES[0]} to {IDLE_MINUTES[1]}"
    ),
}
POLICY_LABELS = {
    "idle_timeout_minutes": "Idle time-out",
    "require_mfa_for_all": "Multi-factor authentication",
}
REVIEW_PROBLEM = (
    f"Write what you found, in at most {text_limit(BreakGlassReviewIn, 'note')} characters: "
    "e.g. who you asked and why the access was needed"
)


def _see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


def _page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        template,
        viewer=viewer,
        status_code=status_code,
        when=time_formatter(viewer_zone(db, viewer)),
        **context,
    )


# --- Users and roles ----------------------------------------------------------------------------


@router.get("/users")
def users_page(
    request: Request, db: DbSession, viewer: UserManager, done: str | None = None
) -> Response:
    return _page(
        request,
        db,
        viewer,
        "admin/users.html",
        users=admin_service.list_users(db, viewer.principal),
        clinic_names=admin_service.clinic_names(db, viewer.principal),
        now=utcnow(),
        notice=_notice(done),
    )


def _new_user_page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    *,
    values: dict[str, str],
    errors: FieldErrors,
    status_code: int = 200,
) -> Response:
    clinics = admin_service.clinics_with(db, viewer.principal, Permission.user_manage)
    return _page(
        request,
        db,
        viewer,
        "admin/user_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
        labels=NEW_USER_LABELS,
        clinics=[(str(clinic.id), clinic.name) for clinic in clinics],
        roles=ROLE_CHOICES,
        min_password_length=MIN_PASSWORD_LENGTH,
    )


@router.get("/users/new")
def new_user_page(request: Request, db: DbSession, viewer: UserManager) -> Response:
    values = {"full_name": "", "email": "", "clinic_id": "", "role": ""}
    return _new_user_page(request, db, viewer, values=values, errors={})


@router.post("/users")
def create_user(
    request: Request,
    db: DbSession,
    viewer: UserManager,
    full_name: FormText = "",
    email: FormText = "",
    password: FormText = "",
    clinic_id: FormText = "",
    role: FormText = "",
) -> Response:
    # The password is never sent back into the form.
    values = {"full_name": full_name, "email": email, "clinic_id": clinic_id, "role": role}
    try:
        body = UserCreate.model_validate({**values, "password": password})
    except ValidationError as exc:
        errors = schema_errors(exc, NEW_USER_PROBLEMS)
        return _new_user_page(request, db, viewer, values=values, errors=errors, status_code=422)
    principal = viewer.principal
    try:
        with undone_if_refused(db):
            user = admin_service.create_staff(
                db, principal, audit_context(request, principal), **body.model_dump()
            )
    except (InvalidInput, Conflict) as exc:
        errors = service_errors(exc, "email")
        return _new_user_page(
            request, db, viewer, values=values, errors=errors, status_code=exc.status_code
        )
    return _see_other(f"{USERS_PAGE}/{user.id}?done=created")


def _new_patient_account_page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    *,
    values: dict[str, str],
    errors: FieldErrors,
    status_code: int = 200,
) -> Response:
    principal = viewer.principal
    # Listing the patients to choose from is a read of their names: audited as the API's list is.
    patients = list_patients(db, principal, audit_context(request, principal))
    clinic_names = admin_service.clinic_names(db, principal)
    choices = [
        (
            str(patient.id),
            f"{patient.family_name}, {patient.given_name} (record {patient.record_number}, "
            f"{clinic_names.get(patient.clinic_id, 'another clinic')})",
        )
        for patient in patients
        if principal.can(Permission.user_manage, patient.clinic_id)
    ]
    return _page(
        request,
        db,
        viewer,
        "admin/patient_account_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
        labels=PATIENT_ACCOUNT_LABELS,
        patients=choices,
        min_password_length=MIN_PASSWORD_LENGTH,
    )


@router.get("/users/new-patient-account")
def new_patient_account_page(request: Request, db: DbSession, viewer: UserManager) -> Response:
    values = {"patient_id": "", "email": ""}
    return _new_patient_account_page(request, db, viewer, values=values, errors={})


@router.post("/patient-accounts")
def create_patient_account(
    request: Request,
    db: DbSession,
    viewer: UserManager,
    patient_id: FormText = "",
    email: FormText = "",
    password: FormText = "",
) -> Response:
    values = {"patient_id": patient_id, "email": email}
    try:
        body = PatientAccountCreate.model_validate({**values, "password": password})
    except ValidationError as exc:
        errors = schema_errors(exc, PATIENT_ACCOUNT_PROBLEMS)
        return _new_patient_account_page(
            request, db, viewer, values=values, errors=errors, status_code=422
        )
    principal = viewer.principal
    try:
        with undone_if_refused(db):
            user = admin_service.create_patient_account(
                db, principal, audit_context(request, principal), **body.model_dump()
            )
    except (InvalidInput, Conflict) as exc:
        errors = service_errors(exc, "email")
        return _new_patient_account_page(
            request, db, viewer, values=values, errors=errors, status_code=exc.status_code
        )
    return _see_other(f"{USERS_PAGE}/{user.id}?done=patient-created")


def _user_page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    user_id: uuid.UUID,
    *,
    errors: FieldErrors,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    user = admin_service.managed_user(db, viewer.principal, user_id)
    return _page(
        request,
        db,
        viewer,
        "admin/user.html",
        status_code=status_code,
        user=user,
        roles=memberships(db, user.id),
        clinic_names=admin_service.clinic_names(db, viewer.principal),
        sessions=admin_service.sessions_of(db, user),
        is_self=user.id == viewer.user.id,
        now=utcnow(),
        errors=errors,
        notice=notice,
    )


@router.get("/users/{user_id}")
def user_page(
    request: Request,
    db: DbSession,
    viewer: UserManager,
    user_id: uuid.UUID,
    done: str | None = None,
) -> Response:
    return _user_page(request, db, viewer, user_id, errors={}, notice=_notice(done))


@router.post("/users/{user_id}/disable")
def disable_user(
    request: Request, db: DbSession, viewer: UserManager, user_id: uuid.UUID
) -> Response:
    principal = viewer.principal
    user = admin_service.managed_user(db, principal, user_id)
    try:
        with undone_if_refused(db):
            admin_service.disable_user(db, principal, audit_context(request, principal), user)
    except Conflict as exc:
        errors = service_errors(exc, "disable")
        return _user_page(request, db, viewer, user_id, errors=errors, status_code=409)
    return _see_other(f"{USERS_PAGE}/{user_id}?done=disabled")


@router.post("/users/{user_id}/unlock")
def unlock_user(
    request: Request, db: DbSession, viewer: UserManager, user_id: uuid.UUID
) -> Response:
    principal = viewer.principal
    user = admin_service.managed_user(db, principal, user_id)
    admin_service.unlock_user(db, audit_context(request, principal), user)
    return _see_other(f"{USERS_PAGE}/{user_id}?done=unlocked")


@router.post("/users/{user_id}/reset-mfa")
def reset_mfa(request: Request, db: DbSession, viewer: UserManager, user_id: uuid.UUID) -> Response:
    principal = viewer.principal
    user = admin_service.managed_user(db, principal, user_id)
    mfa_service.reset_mfa(db, audit_context(request, principal), user)
    return _see_other(f"{USERS_PAGE}/{user_id}?done=mfa-reset")


@router.post("/users/{user_id}/sessions/revoke")
def revoke_user_sessions(
    request: Request, db: DbSession, viewer: UserManager, user_id: uuid.UUID
) -> Response:
    principal = viewer.principal
    user = admin_service.managed_user(db, principal, user_id)
    revoke_sessions(db, audit_context(request, principal), user.id)
    return _see_other(f"{USERS_PAGE}/{user_id}?done=signed-out")


# --- Organisation security ----------------------------------------------------------------------


def _organisation_page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    *,
    values: dict[str, Any] | None = None,
    errors: FieldErrors,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    organisation = db.get_one(Organisation, viewer.principal.organisation_id)
    current = {
        "idle_timeout_minutes": str(organisation.idle_timeout_minutes),
        "require_mfa_for_all": organisation.require_mfa_for_all,
    }
    return _page(
        request,
        db,
        viewer,
        "admin/organisation.html",
        status_code=status_code,
        organisation=organisation,
        values=values or current,
        errors=errors,
        labels=POLICY_LABELS,
        idle_minutes=IDLE_MINUTES,
        mfa_roles=sorted(role.value.replace("_", " ") for role in MFA_REQUIRED_ROLES),
        notice=notice,
    )


@router.get("/organisation")
def organisation_page(
    request: Request, db: DbSession, viewer: OrganisationManager, done: str | None = None
) -> Response:
    return _organisation_page(request, db, viewer, errors={}, notice=_notice(done))


@router.post("/organisation")
def update_policy(
    request: Request,
    db: DbSession,
    viewer: OrganisationManager,
    idle_timeout_minutes: FormText = "",
    require_mfa_for_all: FormText = "",
) -> Response:
    # An unticked checkbox sends nothing: on this form that means "not required".
    values = {
        "idle_timeout_minutes": idle_timeout_minutes.strip(),
        "require_mfa_for_all": require_mfa_for_all == "on",
    }
    try:
        policy = OrganisationPolicy.model_validate(values)
    except ValidationError as exc:
        errors = schema_errors(exc, POLICY_PROBLEMS)
        return _organisation_page(
            request, db, viewer, values=values, errors=errors, status_code=422
        )
    principal = viewer.principal
    admin_service.update_policy(
        db, principal, audit_context(request, principal), **policy.model_dump()
    )
    return _see_other(f"{ORGANISATION_PAGE}?done=policy-saved")


# --- API tokens ---------------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    *,
    values: dict[str, Any],
    errors: FieldErrors,
    issued: IssuedToken | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = viewer.principal
    clinics = admin_service.clinics_with(db, principal, Permission.token_manage)
    return _page(
        request,
        db,
        viewer,
        "admin/tokens.html",
        status_code=status_code,
        tokens=admin_service.list_tokens(db, principal),
        clinic_names=admin_service.clinic_names(db, principal),
        clinics=[(str(clinic.id), clinic.name) for clinic in clinics],
        scopes=[(scope.value, SCOPE_LABELS[scope]) for scope in sorted(TOKEN_SCOPES)],
        values=values,
        errors=errors,
        labels=TOKEN_LABELS,
        issued=issued,
        notice=notice,
    )


def _empty_token_form() -> dict[str, Any]:
    return {"name": "", "clinic_id": "", "scopes": ()}


@router.get("/tokens")
def tokens_page(
    request: Request, db: DbSession, viewer: TokenManager, done: str | None = None
) -> Response:
    return _tokens_page(
        request, db, viewer, values=_empty_token_form(), errors={}, notice=_notice(done)
    )


@router.post("/tokens")
def issue_token(
    request: Request,
    db: DbSession,
    viewer: TokenManager,
    name: FormText = "",
    clinic_id: FormText = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    values: dict[str, Any] = {"name": name, "clinic_id": clinic_id, "scopes": tuple(scopes or ())}
    try:
        body = TokenCreate.model_validate({**values, "scopes": list(values["scopes"])})
    except ValidationError as exc:
        errors = schema_errors(exc, TOKEN_PROBLEMS)
        return _tokens_page(request, db, viewer, values=values, errors=errors, status_code=422)
    principal = viewer.principal
    try:
        with undone_if_refused(db):
            issued = admin_service.issue_token(
                db, principal, audit_context(request, principal), **body.model_dump()
            )
    except InvalidInput as exc:
        errors = service_errors(exc, "name")
        return _tokens_page(
            request, db, viewer, values=values, errors=errors, status_code=exc.status_code
        )
    # Shown on this response only: the page is not cached, and only the token's hash is stored.
    return _tokens_page(
        request,
        db,
        viewer,
        values=_empty_token_form(),
        errors={},
        issued=issued,
        status_code=201,
    )


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, db: DbSession, viewer: TokenManager, token_id: uuid.UUID
) -> Response:
    principal = viewer.principal
    admin_service.revoke_token(db, principal, audit_context(request, principal), token_id)
    return _see_other(f"{TOKENS_PAGE}?done=revoked")


# --- Break-glass reviews ------------------------------------------------------------------------


def _break_glass_page(
    request: Request,
    db: DbSession,
    viewer: Viewer,
    *,
    show_all: bool,
    errors: FieldErrors,
    notes: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = viewer.principal
    grants = admin_service.break_glass_grants(db, principal, pending_only=not show_all)
    people = admin_service.organisation_users(
        db, principal, [g.user_id for g in grants] + [g.reviewed_by_id for g in grants]
    )
    return _page(
        request,
        db,
        viewer,
        "admin/break_glass.html",
        status_code=status_code,
        grants=grants,
        people=people,
        show_all=show_all,
        now=utcnow(),
        errors=errors,
        labels=dict.fromkeys(errors, "Review note"),
        notes=notes or {},
        notice=notice,
    )


@router.get("/break-glass")
def break_glass_page(
    request: Request,
    db: DbSession,
    viewer: BreakGlassReviewer,
    show: str | None = None,
    done: str | None = None,
) -> Response:
    return _break_glass_page(
        request, db, viewer, show_all=show == "all", errors={}, notice=_notice(done)
    )


@router.post("/break-glass/{grant_id}/review")
def review_break_glass(
    request: Request,
    db: DbSession,
    viewer: BreakGlassReviewer,
    grant_id: uuid.UUID,
    note: FormText = "",
) -> Response:
    key = f"note-{grant_id}"
    notes = {key: note}
    try:
        body = BreakGlassReviewIn.model_validate({"note": note.strip()})
    except ValidationError as exc:
        errors = schema_errors(exc, {"note": REVIEW_PROBLEM}, fields={"note": key})
        return _break_glass_page(
            request, db, viewer, show_all=False, errors=errors, notes=notes, status_code=422
        )
    principal = viewer.principal
    try:
        with undone_if_refused(db):
            admin_service.review_break_glass(
                db, principal, audit_context(request, principal), grant_id, body.note
            )
    except Conflict as exc:
        errors = {key: exc.message}
        return _break_glass_page(
            request, db, viewer, show_all=True, errors=errors, notes=notes, status_code=409
        )
    return _see_other(f"{BREAK_GLASS_PAGE}?done=reviewed")

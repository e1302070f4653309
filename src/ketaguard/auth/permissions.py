"""The one permission vocabulary and the role -> permissions map (ONC 170.315(d)(1))."""

from enum import StrEnum

from ketaguard.clinics.models import Role


class Permission(StrEnum):
    patient_read = "patient:read"
    patient_create = "patient:create"
    patient_update = "patient:update"
    vitals_write = "vitals:write"
    intake_write = "intake:write"
    screening_administer = "screening:administer"
    eligibility_sign = "eligibility:sign"
    alert_acknowledge = "alert:acknowledge"
    protocol_manage = "protocol:manage"
    plan_write = "plan:write"
    plan_approve = "plan:approve"
    session_book = "session:book"
    schedule_override = "schedule:override"
    request_record = "request:record"
    request_decide = "request:decide"
    session_run = "session:run"
    rems_submit = "rems:submit"
    # The dependence watch: a prescriber's review decision, the clinic's numbers, referrals.
    dependence_review = "dependence:review"
    dependence_settings = "dependence:settings"
    referral_manage = "referral:manage"
    break_glass = "break_glass:use"
    break_glass_review = "break_glass:review"
    audit_read = "audit:read"
    user_manage = "user:manage"
    token_manage = "token:manage"  # noqa: S105  (a permission name)
    organisation_manage = "organisation:manage"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(
        {
            Permission.patient_read,
            Permission.patient_create,
            Permission.patient_update,
            Permission.break_glass_review,
            Permission.audit_read,
            Permission.user_manage,
            Permission.token_manage,
            Permission.organisation_manage,
            Permission.protocol_manage,
            Permission.dependence_settings,
        }
    ),
    Role.prescriber: frozenset(
        {
            Permission.patient_read,
            Permission.patient_create,
            Permission.patient_update,
            Permission.break_glass,
            Permission.intake_write,
            Permission.screening_administer,
            Permission.eligibility_sign,
            Permission.alert_acknowledge,
            Permission.plan_write,
            Permission.plan_approve,
            Permission.session_book,
            Permission.schedule_override,
            Permission.request_record,
            Permission.request_decide,
            Permission.session_run,
            Permission.rems_submit,
            Permission.dependence_review,
            Permission.dependence_settings,
            Permission.referral_manage,
            # A prescriber is on site for every esketamine session (REMS, §1.9) and may take
            # the readings themselves.
            Permission.vitals_write,
        }
    ),
    Role.nurse: frozenset(
        {
            Permission.patient_read,
            Permission.vitals_write,
            Permission.intake_write,
            Permission.screening_administer,
            Permission.alert_acknowledge,
            Permission.session_book,
            Permission.request_record,
            Permission.session_run,
            Permission.rems_submit,
            Permission.referral_manage,
        }
    ),
    Role.therapist: frozenset(
        {Permission.patient_read, Permission.screening_administer, Permission.request_record}
    ),
    Role.front_desk: frozenset(
        {
            Permission.patient_read,
            Permission.patient_create,
            Permission.patient_update,
            Permission.session_book,
            Permission.request_record,
        }
    ),
}

# What an API token may be granted: integrations read patient lists, bedside gateways post vitals.
TOKEN_SCOPES: frozenset[Permission] = frozenset({Permission.vitals_write, Permission.patient_read})

# Roles whose accounts must use MFA whatever the organisation decides (ONC (d)(13)).
MFA_REQUIRED_ROLES: frozenset[Role] = frozenset({Role.admin, Role.prescriber})

"""The one answer to "which patients may this principal see": every patient query goes through it.

Outside your scope a patient does not exist (404), so a record's existence never leaks.
"""

import uuid

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from ketaguard.auth.models import BreakGlassGrant
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal, PrincipalKind
from ketaguard.kit.errors import Forbidden, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient

# Emergency access is for reading a chart in an emergency, not for changing it.
BREAK_GLASS_PERMISSIONS = frozenset({Permission.patient_read})


def active_grant_patient_ids(principal: Principal) -> ColumnElement[bool] | None:
    if principal.kind is not PrincipalKind.staff or principal.user_id is None:
        return None
    grants = select(BreakGlassGrant.patient_id).where(
        BreakGlassGrant.user_id == principal.user_id, BreakGlassGrant.expires_at > utcnow()
    )
    return Patient.id.in_(grants)


def patient_scope(principal: Principal, permission: Permission) -> ColumnElement[bool]:
    """A WHERE clause matching exactly the patients the principal may act on with `permission`."""
    if principal.kind is PrincipalKind.patient:
        # Patient accounts see their own record through the patient-facing routes only.
        return false()
    clauses: list[ColumnElement[bool]] = []
    clinics = principal.clinics_with(permission)
    if clinics:
        clauses.append(Patient.clinic_id.in_(clinics))
    if permission in BREAK_GLASS_PERMISSIONS:
        granted = active_grant_patient_ids(principal)
        if granted is not None:
            clauses.append(granted)
    return or_(*clauses) if clauses else false()


def get_patient(
    db: Session, principal: Principal, patient_id: uuid.UUID, permission: Permission
) -> Patient:
    patient = db.scalar(
        select(Patient).where(Patient.id == patient_id, patient_scope(principal, permission))
    )
    if patient is not None:
        return patient
    if permission is not Permission.patient_read:
        visible = db.scalar(
            select(Patient.id).where(
                Patient.id == patient_id, patient_scope(principal, Permission.patient_read)
            )
        )
        if visible is not None:
            raise Forbidden(f"Your role does not allow {permission.value} for this patient")
    raise NotFound("No such patient")


def via_break_glass(principal: Principal, patient: Patient) -> bool:
    return patient.clinic_id not in principal.clinics_with(Permission.patient_read)

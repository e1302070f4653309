"""Who is calling: a staff member, a patient, or an API token, with what they may do where."""

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from ketaguard.auth.permissions import ROLE_PERMISSIONS, Permission
from ketaguard.clinics.models import Role


class PrincipalKind(StrEnum):
    staff = "staff"
    patient = "patient"
    token = "token"  # noqa: S105  (a kind of caller)


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    organisation_id: uuid.UUID
    user_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    # Staff: their role in each clinic they work in.
    roles: dict[uuid.UUID, Role] = field(default_factory=dict)
    # Tokens: the single clinic and the scopes granted.
    token_clinic_id: uuid.UUID | None = None
    token_scopes: frozenset[Permission] = frozenset()
    # Patients: the one record their account belongs to.
    patient_id: uuid.UUID | None = None

    def clinics_with(self, permission: Permission) -> frozenset[uuid.UUID]:
        """The clinics in which this principal holds the permission."""
        if self.kind is PrincipalKind.token:
            if self.token_clinic_id is not None and permission in self.token_scopes:
                return frozenset({self.token_clinic_id})
            return frozenset()
        return frozenset(
            clinic_id
            for clinic_id, role in self.roles.items()
            if permission in ROLE_PERMISSIONS[role]
        )

    def can(self, permission: Permission, clinic_id: uuid.UUID | None = None) -> bool:
        clinics = self.clinics_with(permission)
        return bool(clinics) if clinic_id is None else clinic_id in clinics

    @property
    def role_label(self) -> str:
        """How the audit trail names the actor's role."""
        if self.kind is not PrincipalKind.staff:
            return self.kind.value
        return ",".join(sorted({role.value for role in self.roles.values()})) or "staff"

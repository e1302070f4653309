"""What demo steps share: the records built so far, so each domain's step can build on them."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.auth.models import User
from ketaguard.auth.principal import Principal
from ketaguard.clinics.models import Clinic, Organisation
from ketaguard.patients.models import Patient


@dataclass
class DemoContext:
    organisation: Organisation | None = None
    clinics: dict[str, Clinic] = field(default_factory=dict)
    # By record number, e.g. "DT-0003".
    patients: dict[str, Patient] = field(default_factory=dict)
    # By the local part of the e-mail, e.g. "nurse.downtown".
    staff: dict[str, User] = field(default_factory=dict)


DemoStep = Callable[[Session, DemoContext], None]


def acting_as(principal: Principal) -> AuditContext:
    """How the audit trail names a demo step done in a staff member's name."""
    return AuditContext(
        actor_user_id=principal.user_id,
        actor_role=principal.role_label,
        organisation_id=principal.organisation_id,
        address="demo",
        user_agent="ketaguard demo",
    )

"""Reading a patient's records the one way it is done: in scope, and audited."""

import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.patients.models import Patient

Row = TypeVar("Row")


def audited_records(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    query: Callable[[Patient], Select[Row]],
    *,
    action: str,
    resource_type: str,
) -> list[Row]:
    """The rows `query` selects for a patient the principal may read, with a read event."""
    patient = get_patient(db, principal, patient_id, Permission.patient_read)
    rows = list(db.scalars(query(patient)))
    record(
        db,
        context,
        action,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type=resource_type,
        detail={"count": len(rows)},
    )
    return rows

"""Finding a session the caller may act on, locked against concurrent writers."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.kit.errors import NotFound
from ketaguard.patients.models import Patient
from ketaguard.sessions.models import TreatmentSession


def locked_session(
    db: Session,
    principal: Principal,
    session_id: uuid.UUID,
    permission: Permission,
    *,
    lock: bool = True,
) -> tuple[TreatmentSession, Patient]:
    """The session, its row locked for the rest of the transaction (unless only reading).

    Two nurses and a device gateway write to one session at once (vitals against a status
    change, two status changes): the lock makes each see the other's result instead of
    overwriting it.
    """
    # populate_existing: a copy loaded earlier in this transaction is refreshed by the same query.
    query = (
        select(TreatmentSession)
        .where(TreatmentSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    session = db.scalar(query.with_for_update() if lock else query)
    if session is None:
        raise NotFound("No such session")
    return session, session_patient(db, principal, session.patient_id, permission)


def session_patient(
    db: Session, principal: Principal, patient_id: uuid.UUID, permission: Permission
) -> Patient:
    """The session's patient, decided as every patient lookup decides it (refused, or let in by
    emergency access); a session the caller may not see is one that does not exist."""
    try:
        return get_patient(db, principal, patient_id, permission)
    except NotFound:
        raise NotFound("No such session") from None

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.dependence.evaluation import reevaluate
from ketaguard.intake.models import IntakeVersion
from ketaguard.intake.schemas import IntakeData
from ketaguard.kit.errors import NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.patients.records import audited_records


def current_intake(db: Session, patient_id: uuid.UUID) -> IntakeVersion | None:
    return db.scalar(
        select(IntakeVersion).where(
            IntakeVersion.patient_id == patient_id, IntakeVersion.superseded_at.is_(None)
        )
    )


def current_intake_data(db: Session, patient_id: uuid.UUID) -> IntakeData | None:
    version = current_intake(db, patient_id)
    return IntakeData.model_validate(version.data) if version else None


def _changed_sections(before: dict[str, object] | None, after: dict[str, object]) -> list[str]:
    if before is None:
        return sorted(after)
    return sorted(key for key in after.keys() | before.keys() if before.get(key) != after.get(key))


def record_intake(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    data: IntakeData,
    change_note: str | None,
) -> IntakeVersion:
    patient = get_patient(db, principal, patient_id, Permission.intake_write)
    # Two people saving the same patient's intake at once would both pick the same next version;
    # the row lock makes the second wait and number after the first.
    db.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update())
    previous = current_intake(db, patient.id)
    document = data.model_dump(mode="json")
    if previous is not None:
        previous.superseded_at = utcnow()
    assert principal.user_id is not None
    version = IntakeVersion(
        patient_id=patient.id,
        version=(previous.version + 1) if previous else 1,
        data=document,
        recorded_by_id=principal.user_id,
        change_note=change_note.strip() if change_note and change_note.strip() else None,
    )
    db.add(version)
    db.flush()
    record(
        db,
        context,
        "intake.update",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="intake_version",
        resource_id=version.id,
        detail={
            "version": version.version,
            "changed": _changed_sections(previous.data if previous else None, document),
        },
    )
    # The substance history weighs the dependence signals (baseline risk).
    reevaluate(db, patient.id, context)
    return version


def read_intake(
    db: Session, principal: Principal, context: AuditContext, patient_id: uuid.UUID
) -> list[IntakeVersion]:
    """Every version, newest first; the first is the current intake."""
    versions = audited_records(
        db,
        principal,
        context,
        patient_id,
        lambda patient: (
            select(IntakeVersion)
            .where(IntakeVersion.patient_id == patient.id)
            .order_by(IntakeVersion.version.desc())
        ),
        action="intake.read",
        resource_type="intake_version",
    )
    if not versions:
        raise NotFound("No intake has been recorded for this patient yet")
    return versions

import uuid
from typing import Annotated

from fastapi import APIRouter, Request

from ketaguard.auth.deps import audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession
from ketaguard.intake import service
from ketaguard.intake.schemas import IntakeOut, IntakeWrite

router = APIRouter(prefix="/api/patients/{patient_id}/intake", tags=["intake"])


@router.get("", response_model=IntakeOut)
def current_intake(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> IntakeOut:
    versions = service.read_intake(db, principal, audit_context(request, principal), patient_id)
    return IntakeOut.model_validate(versions[0])


@router.get("/versions", response_model=list[IntakeOut])
def intake_versions(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> list[IntakeOut]:
    versions = service.read_intake(db, principal, audit_context(request, principal), patient_id)
    return [IntakeOut.model_validate(v) for v in versions]


@router.put("", response_model=IntakeOut)
def record_intake(
    patient_id: uuid.UUID,
    body: IntakeWrite,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.intake_write)],
) -> IntakeOut:
    version = service.record_intake(
        db, principal, audit_context(request, principal), patient_id, body.data, body.change_note
    )
    return IntakeOut.model_validate(version)

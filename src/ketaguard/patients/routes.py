import uuid
from typing import Annotated

from fastapi import APIRouter, Request

from ketaguard.auth.deps import PatientAccount, audit_context, require, settings_of
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession
from ketaguard.patients import service
from ketaguard.patients.schemas import (
    BreakGlassOut,
    BreakGlassRequest,
    PatientCreate,
    PatientOut,
    PatientUpdate,
)

router = APIRouter(prefix="/api", tags=["patients"])


@router.get("/patients", response_model=list[PatientOut])
def list_patients(
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> list[PatientOut]:
    patients = service.list_patients(db, principal, audit_context(request, principal))
    return [PatientOut.model_validate(p) for p in patients]


@router.post("/patients", response_model=PatientOut, status_code=201)
def create_patient(
    body: PatientCreate,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_create)],
) -> PatientOut:
    patient = service.register_patient(
        db, principal, audit_context(request, principal), **body.model_dump()
    )
    return PatientOut.model_validate(patient)


@router.get("/patients/{patient_id}", response_model=PatientOut)
def read_patient(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> PatientOut:
    patient = service.read_patient(db, principal, audit_context(request, principal), patient_id)
    return PatientOut.model_validate(patient)


@router.patch("/patients/{patient_id}", response_model=PatientOut)
def update_patient(
    patient_id: uuid.UUID,
    body: PatientUpdate,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_update)],
) -> PatientOut:
    patient = service.update_patient(
        db, principal, audit_context(request, principal), patient_id, body
    )
    return PatientOut.model_validate(patient)


@router.post("/patients/{patient_id}/break-glass", response_model=BreakGlassOut, status_code=201)
def break_glass(
    patient_id: uuid.UUID,
    body: BreakGlassRequest,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.break_glass)],
) -> BreakGlassOut:
    grant = service.open_break_glass(
        db,
        principal,
        audit_context(request, principal),
        patient_id=patient_id,
        reason=body.reason,
        minutes=settings_of(request).break_glass_minutes,
    )
    return BreakGlassOut.model_validate(grant)


@router.get("/me/patient", response_model=PatientOut, tags=["patient portal"])
def my_record(request: Request, db: DbSession, principal: PatientAccount) -> PatientOut:
    assert principal.patient_id is not None
    patient = service.read_own_record(db, audit_context(request, principal), principal.patient_id)
    return PatientOut.model_validate(patient)

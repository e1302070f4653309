import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request

from ketaguard.alerts.schemas import AlertOut
from ketaguard.auth.deps import CurrentPrincipal, PatientAccount, audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession
from ketaguard.screening import decisions, service
from ketaguard.screening.instruments import INSTRUMENTS
from ketaguard.screening.schemas import (
    DecisionOut,
    ResponseCreate,
    ResponseCreated,
    ResponseHistory,
    ResponseOut,
    SignOff,
)

router = APIRouter(prefix="/api", tags=["screening"])


@router.get("/instruments")
def instruments(_: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every instrument's items, answer options and skip logic, to render a form from."""
    return [
        {
            "id": instrument.id,
            "title": instrument.title,
            "licence": instrument.licence,
            "sources": list(instrument.sources),
            "patient_reported": instrument.id in service.PATIENT_REPORTED,
            "items": [
                {
                    "id": item.id,
                    "text": item.text,
                    "loinc": item.loinc,
                    "options": [{"value": o.value, "label": o.label} for o in item.options],
                    "enable_when": (
                        {"item_id": item.enable_when.item_id, "answer": item.enable_when.answer}
                        if item.enable_when
                        else None
                    ),
                }
                for item in instrument.items
            ],
        }
        for instrument in INSTRUMENTS.values()
    ]


def _created(response: Any, alerts: list[Any]) -> ResponseCreated:
    return ResponseCreated(
        **ResponseOut.model_validate(response).model_dump(),
        alerts=[AlertOut.model_validate(a) for a in alerts],
    )


@router.post("/patients/{patient_id}/screenings", response_model=ResponseCreated, status_code=201)
def administer(
    patient_id: uuid.UUID,
    body: ResponseCreate,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.screening_administer)],
) -> ResponseCreated:
    response, alerts = service.administer(
        db, principal, audit_context(request, principal), patient_id, body
    )
    return _created(response, alerts)


@router.get("/patients/{patient_id}/screenings", response_model=ResponseHistory)
def history(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
    instrument: str | None = None,
) -> ResponseHistory:
    responses, trends = service.history(
        db, principal, audit_context(request, principal), patient_id, instrument
    )
    return ResponseHistory(
        responses=[ResponseOut.model_validate(r) for r in responses], trends=trends
    )


@router.post(
    "/me/screenings",
    response_model=ResponseCreated,
    status_code=201,
    tags=["patient portal"],
)
def complete_my_screening(
    body: ResponseCreate, request: Request, db: DbSession, principal: PatientAccount
) -> ResponseCreated:
    assert principal.patient_id is not None
    response, alerts = service.administer(
        db, principal, audit_context(request, principal), principal.patient_id, body
    )
    return _created(response, alerts)


@router.get("/me/screenings", response_model=ResponseHistory, tags=["patient portal"])
def my_history(
    request: Request, db: DbSession, principal: PatientAccount, instrument: str | None = None
) -> ResponseHistory:
    assert principal.patient_id is not None
    responses, trends = service.history(
        db, principal, audit_context(request, principal), principal.patient_id, instrument
    )
    return ResponseHistory(
        responses=[ResponseOut.model_validate(r) for r in responses], trends=trends
    )


@router.post(
    "/patients/{patient_id}/eligibility",
    response_model=DecisionOut,
    status_code=201,
    tags=["eligibility"],
)
def compute_eligibility(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.intake_write)],
) -> DecisionOut:
    decision = decisions.compute(db, principal, audit_context(request, principal), patient_id)
    return DecisionOut.model_validate(decision)


@router.get(
    "/patients/{patient_id}/eligibility", response_model=list[DecisionOut], tags=["eligibility"]
)
def eligibility_decisions(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
) -> list[DecisionOut]:
    found = decisions.decisions(db, principal, audit_context(request, principal), patient_id)
    return [DecisionOut.model_validate(d) for d in found]


@router.post(
    "/patients/{patient_id}/eligibility/{decision_id}/sign-off",
    response_model=DecisionOut,
    tags=["eligibility"],
)
def sign_off(
    patient_id: uuid.UUID,
    decision_id: uuid.UUID,
    body: SignOff,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.eligibility_sign)],
) -> DecisionOut:
    decision = decisions.sign_off(
        db, principal, audit_context(request, principal), patient_id, decision_id, body
    )
    return DecisionOut.model_validate(decision)

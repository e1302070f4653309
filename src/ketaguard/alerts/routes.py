import uuid
from typing import Annotated

from fastapi import APIRouter, Request

from ketaguard.alerts import service
from ketaguard.alerts.schemas import Acknowledgement, AlertOut
from ketaguard.auth.deps import audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


@router.get("", response_model=list[AlertOut])
def open_alerts(
    db: DbSession, principal: Annotated[Principal, require(Permission.patient_read)]
) -> list[AlertOut]:
    return [AlertOut.model_validate(a) for a in service.open_alerts(db, principal)]


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(
    alert_id: uuid.UUID,
    body: Acknowledgement,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.alert_acknowledge)],
) -> AlertOut:
    alert = service.acknowledge(
        db, principal, audit_context(request, principal), alert_id, body.action
    )
    return AlertOut.model_validate(alert)

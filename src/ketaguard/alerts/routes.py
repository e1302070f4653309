import time
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from ketaguard.alerts import service
from ketaguard.alerts.schemas import Acknowledgement, AlertOut
from ketaguard.audit.service import record
from ketaguard.auth.deps import audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.engine import READ_ONLY_OPTION
from ketaguard.db.session import DbSession
from ketaguard.kit.time import utcnow

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


# How often the stream looks for new alerts, and how long one connection lasts before the
# client reconnects with `after` (EventSource does so by itself).
STREAM_POLL_SECONDS = 1.0


@router.get("/stream", response_class=StreamingResponse)
def stream(
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
    after: AwareDatetime | None = None,
    seconds: Annotated[int, Query(ge=1, le=3600)] = 300,
) -> StreamingResponse:
    """Server-sent events: each new alert of the caller's clinics as `event: alert`."""
    clinics = principal.clinics_with(Permission.patient_read)
    record(db, audit_context(request, principal), "alert.stream", resource_type="alert")
    factory = request.app.state.sessionmaker
    start = after or utcnow()

    def events() -> Iterator[str]:
        cursor, deadline = start, time.monotonic() + seconds
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline:
            with factory() as reader:
                # Read-only: on SQLite the stream must not queue behind writers for a lock.
                reader.connection(execution_options={READ_ONLY_OPTION: True})
                fresh = list(reader.scalars(service.alerts_since(clinics, cursor)))
            for alert in fresh:
                cursor = max(cursor, alert.raised_at)
                data = AlertOut.model_validate(alert).model_dump_json()
                yield f"id: {alert.raised_at.isoformat()}\nevent: alert\ndata: {data}\n\n"
            if not fresh:
                yield ": waiting\n\n"
            time.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream")

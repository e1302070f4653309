"""The audit report for admins and the access history for patients; reading either is audited."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, ValidationError

from ketaguard.audit import service
from ketaguard.audit.models import AuditEvent
from ketaguard.audit.schemas import AccessHistoryEntry, AuditEventOut, AuditFilter, AuditPage
from ketaguard.auth.deps import PatientAccount, audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import InvalidInput

router = APIRouter(prefix="/api", tags=["audit"])

AuditReader = Annotated[Principal, require(Permission.audit_read)]


def audit_filter(
    actor_user_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(description='Exact, or a family: "auth.*"')] = None,
    since: Annotated[AwareDatetime | None, Query(description="Inclusive")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Exclusive")] = None,
) -> AuditFilter:
    try:
        return AuditFilter(
            actor_user_id=actor_user_id,
            patient_id=patient_id,
            action=action,
            since=since,
            until=until,
        )
    except ValidationError as exc:
        raise InvalidInput("; ".join(error["msg"] for error in exc.errors())) from exc


Filters = Annotated[AuditFilter, Depends(audit_filter)]


def csv_response(events: list[AuditEvent]) -> StreamingResponse:
    """The events as a downloaded CSV file; the web's report exports through this too."""
    return StreamingResponse(
        service.csv_document(events),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ketaguard-audit.csv"'},
    )


@router.get("/audit/events", response_model=AuditPage)
def audit_events(
    request: Request,
    db: DbSession,
    principal: AuditReader,
    filters: Filters,
    sort: str = "seq",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    report = service.read_report(
        db,
        audit_context(request, principal),
        organisation_id=principal.organisation_id,
        filters=filters,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return AuditPage(
        total=report.total, items=[AuditEventOut.model_validate(e) for e in report.events]
    )


@router.get("/audit/events.csv", response_class=StreamingResponse)
def export_audit_events(
    request: Request,
    db: DbSession,
    principal: AuditReader,
    filters: Filters,
    sort: str = "seq",
    order: Literal["asc", "desc"] = "asc",
) -> StreamingResponse:
    events = service.export_report(
        db,
        audit_context(request, principal),
        organisation_id=principal.organisation_id,
        filters=filters,
        sort=sort,
        descending=order == "desc",
    )
    return csv_response(events)


@router.get("/me/access-history", response_model=list[AccessHistoryEntry], tags=["patient portal"])
def my_access_history(
    request: Request, db: DbSession, principal: PatientAccount
) -> list[AccessHistoryEntry]:
    assert principal.patient_id is not None
    entries = service.access_history(db, principal.patient_id)
    service.record(
        db,
        audit_context(request, principal),
        "audit.read",
        patient_id=principal.patient_id,
        resource_type="access_history",
    )
    return entries

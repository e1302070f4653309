"""The audit report page: the API's report with filters a person can type, sortable columns, pages
and a CSV export. Reading a page or exporting is audited by the same service calls as the API's.

People filter by what they know: a colleague's e-mail address and calendar dates in their clinic's
time zone. This module turns those into the API's filter (an account id and UTC instants).
"""

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from ketaguard.audit import service as audit_service
from ketaguard.audit.routes import csv_response
from ketaguard.audit.schemas import AuditFilter
from ketaguard.auth import admin_service
from ketaguard.auth.deps import audit_context
from ketaguard.auth.permissions import Permission
from ketaguard.db.session import DbSession
from ketaguard.web.deps import Viewer, require_page
from ketaguard.web.display import time_formatter, viewer_zone
from ketaguard.web.forms import FieldErrors, schema_errors
from ketaguard.web.pages import render

router = APIRouter(prefix="/admin/audit", include_in_schema=False)

AuditReader = Annotated[Viewer, require_page(Permission.audit_read)]

REPORT_PAGE = "/admin/audit"
PAGE_SIZE = 50
# Sortable columns: the service's column name -> the heading, and the order a first click gives.
COLUMNS = {
    "seq": ("#", "desc"),
    "occurred_at": ("Time", "desc"),
    "action": ("Action", "asc"),
    "outcome": ("Outcome", "asc"),
    "actor_user_id": ("User", "asc"),
    "actor_role": ("Role", "asc"),
    "patient_id": ("Patient", "asc"),
}
DEFAULT_SORT = "seq"
FILTER_FIELDS = ("user", "patient", "action", "since", "until")
LABELS = {
    "user": "User's e-mail address",
    "patient": "Patient ID",
    "action": "Action",
    "since": "From",
    "until": "To",
}
FILTER_PROBLEMS = {
    "": "The end date must be on or after the start date",
    "action": 'Enter an action such as "auth.login", or a family such as "auth.*"',
}
SCHEMA_FIELDS = {"": "until", "actor_user_id": "user", "patient_id": "patient"}


@dataclass(frozen=True)
class ReportQuery:
    """The report's address as typed, and what it asks the service for."""

    values: dict[str, str]
    sort: str
    descending: bool
    page: int
    filters: AuditFilter | None = None
    errors: FieldErrors = field(default_factory=dict)

    def link(self, **changes: str | int) -> str:
        """This report's address with some parameters changed, leaving out empty ones."""
        params: dict[str, str | int] = {
            **self.values,
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "page": self.page,
            **changes,
        }
        if params["page"] == 1:
            del params["page"]
        return "?" + urlencode({name: value for name, value in params.items() if value != ""})

    def sort_link(self, column: str) -> str:
        """Sorts by `column`; on the column already sorted, turns the order round."""
        if column != self.sort:
            return self.link(sort=column, order=COLUMNS[column][1], page=1)
        return self.link(sort=column, order="asc" if self.descending else "desc", page=1)

    def aria_sort(self, column: str) -> str:
        if column != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


def _day(text: str, name: str, errors: FieldErrors) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Enter a date like 2026-11-21"
        return None


def _start_of(day: date | None, zone: ZoneInfo) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=zone) if day is not None else None


def _read_query(
    db: DbSession,
    viewer: Viewer,
    zone: ZoneInfo,
    params: dict[str, str],
) -> ReportQuery:
    values = {name: params.get(name, "").strip() for name in FILTER_FIELDS}
    sort = params.get("sort", "")
    sort = sort if sort in COLUMNS else DEFAULT_SORT
    order = params.get("order", "")
    descending = order == "desc" or (order != "asc" and COLUMNS[sort][1] == "desc")
    page_text = params.get("page", "")
    page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
    errors: FieldErrors = {}

    actor_user_id = None
    if values["user"]:
        user = admin_service.organisation_user_by_email(db, viewer.principal, values["user"])
        if user is None:
            errors["user"] = "No account in your organisation has this e-mail address"
        else:
            actor_user_id = user.id
    patient_id = None
    if values["patient"]:
        try:
            patient_id = uuid.UUID(values["patient"])
        except ValueError:
            errors["patient"] = (
                "That is not a patient ID. Copy it from the patient's record or from this report"
            )
    since = _day(values["since"], "since", errors)
    until = _day(values["until"], "until", errors)
    query = ReportQuery(values=values, sort=sort, descending=descending, page=page, errors=errors)
    if errors:
        return query
    try:
        filters = AuditFilter(
            actor_user_id=actor_user_id,
            patient_id=patient_id,
            action=values["action"] or None,
            since=_start_of(since, zone),
            # The form's "to" date is inclusive: the filter ends as the next day starts.
            until=_start_of(until + timedelta(days=1) if until else None, zone),
        )
    except ValidationError as exc:
        errors.update(schema_errors(exc, FILTER_PROBLEMS, fields=SCHEMA_FIELDS))
        return query
    return ReportQuery(values=values, sort=sort, descending=descending, page=page, filters=filters)


@router.get("")
def report_page(request: Request, db: DbSession, viewer: AuditReader) -> Response:
    zone = viewer_zone(db, viewer)
    query = _read_query(db, viewer, zone, dict(request.query_params))
    report = None
    people = {}
    if query.filters is not None:
        report = audit_service.read_report(
            db,
            audit_context(request, viewer.principal),
            organisation_id=viewer.principal.organisation_id,
            filters=query.filters,
            sort=query.sort,
            descending=query.descending,
            limit=PAGE_SIZE,
            offset=(query.page - 1) * PAGE_SIZE,
        )
        people = admin_service.organisation_users(
            db, viewer.principal, (event.actor_user_id for event in report.events)
        )
    total = report.total if report else 0
    return render(
        request,
        "admin/audit.html",
        viewer=viewer,
        status_code=422 if query.errors else 200,
        query=query,
        report=report,
        people=people,
        columns=COLUMNS,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        first_row=(query.page - 1) * PAGE_SIZE + 1,
        page_size=PAGE_SIZE,
        errors=query.errors,
        labels=LABELS,
        zone=zone.key,
        when=time_formatter(zone),
        export_link=f"{REPORT_PAGE}/export.csv{query.link(page=1)}",
    )


@router.get("/export.csv")
def export_report(request: Request, db: DbSession, viewer: AuditReader) -> Response:
    query = _read_query(db, viewer, viewer_zone(db, viewer), dict(request.query_params))
    if query.filters is None:
        # The export link comes from a report without errors; a hand-edited one gets the report.
        return report_page(request, db, viewer)
    events = audit_service.export_report(
        db,
        audit_context(request, viewer.principal),
        organisation_id=viewer.principal.organisation_id,
        filters=query.filters,
        sort=query.sort,
        descending=query.descending,
    )
    return csv_response(events)

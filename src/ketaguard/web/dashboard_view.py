"""The staff home page: what needs doing today in the viewer's clinics.

Each part is there only for a viewer whose role may see it (None otherwise), and reads through the
same service as its API or page: today's sessions (`sessions/queries`), open alerts
(`alerts/service`), REMS forms near or past their deadline (`sessions/rems`), and the dependence
worklist with the reviews due (`dependence/service`, audited as the API audits it).
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.alerts import service as alerts
from ketaguard.alerts.models import Alert
from ketaguard.audit.service import AuditContext
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import patient_scope
from ketaguard.clinics.models import Clinic
from ketaguard.dependence import service as dependence
from ketaguard.patients.models import Patient
from ketaguard.sessions import queries, rems
from ketaguard.sessions.models import RemsForm, SessionStatus, TreatmentSession
from ketaguard.web.session_view import Clock, status_label

# How many worklist entries the home page shows before linking to the whole list: a layout
# choice, not a clinical number.
WORKLIST_TOP = 5


@dataclass(frozen=True)
class SessionGroup:
    status: SessionStatus
    label: str
    sessions: list[tuple[TreatmentSession, Patient]]


@dataclass(frozen=True)
class ClinicDay:
    clinic: Clinic
    clock: Clock
    day: date
    groups: list[SessionGroup]
    can_run: bool


@dataclass(frozen=True)
class ShownAlert:
    alert: Alert
    patient: Patient | None
    clock: Clock


@dataclass(frozen=True)
class Dashboard:
    today: list[ClinicDay] | None
    alerts: list[ShownAlert] | None
    rems_due: list[tuple[RemsForm, str]] | None
    reviews_due: list[dependence.WorklistRow] | None
    worklist: list[dependence.WorklistRow] | None
    worklist_total: int
    clocks: dict[uuid.UUID, Clock]
    now: datetime


def _today(db: Session, principal: Principal, now: datetime) -> list[ClinicDay]:
    days = []
    for clinic in queries.clinics_for(db, principal, Permission.patient_read):
        clock = Clock(clinic.timezone)
        day = clock.today(now)
        rows = queries.sessions_on(db, principal, clinic, day)
        groups = [
            SessionGroup(status, status_label(status), [r for r in rows if r[0].status is status])
            for status in SessionStatus
        ]
        days.append(
            ClinicDay(
                clinic=clinic,
                clock=clock,
                day=day,
                groups=[g for g in groups if g.sessions],
                can_run=principal.can(Permission.session_run, clinic.id),
            )
        )
    return days


def _alerts(db: Session, principal: Principal, clocks: dict[uuid.UUID, Clock]) -> list[ShownAlert]:
    found = alerts.open_alerts(db, principal)
    ids = {a.patient_id for a in found}
    patients = (
        {
            p.id: p
            for p in db.scalars(
                select(Patient).where(
                    Patient.id.in_(ids), patient_scope(principal, Permission.patient_read)
                )
            )
        }
        if ids
        else {}
    )
    return [ShownAlert(a, patients.get(a.patient_id), clocks[a.clinic_id]) for a in found]


def dashboard(db: Session, principal: Principal, context: AuditContext, now: datetime) -> Dashboard:
    clinics = queries.clinics_for(db, principal, Permission.patient_read)
    clocks = {c.id: Clock(c.timezone) for c in clinics}
    reads = principal.can(Permission.patient_read)
    sees_sessions = principal.can(Permission.session_run) or principal.can(Permission.session_book)
    rems_due: list[tuple[RemsForm, str]] | None = None
    if principal.can(Permission.rems_submit):
        rems_due = [
            (form, state)
            for form, state in rems.forms(db, principal, now, None)
            if state in ("overdue", "due_soon")
        ]
    rows = dependence.worklist(db, principal, context, None) if reads else None
    reviews_due = None
    if rows is not None and principal.can(Permission.dependence_review):
        reviews_due = sorted(
            (
                r
                for r in rows
                if r.review is not None
                and principal.can(Permission.dependence_review, r.patient.clinic_id)
            ),
            key=lambda r: r.review.due_at if r.review else now,
        )
    return Dashboard(
        today=_today(db, principal, now) if sees_sessions else None,
        alerts=_alerts(db, principal, clocks) if reads else None,
        rems_due=rems_due,
        reviews_due=reviews_due,
        worklist=rows[:WORKLIST_TOP] if rows is not None else None,
        worklist_total=len(rows) if rows is not None else 0,
        clocks=clocks,
        now=now,
    )

"""Read-only questions the pages ask about sessions: a clinic's day, the plans that can be booked,
and what a session has recorded so far.

The list queries go through the principal's scope. The per-session ones take a session the caller
already found through `access.locked_session`, which is where its scope was checked.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import patient_scope
from ketaguard.clinics.models import Clinic
from ketaguard.kit.errors import NotFound
from ketaguard.patients.models import Patient
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.sessions.models import (
    AdverseEvent,
    RemsForm,
    SessionRating,
    TreatmentSession,
    VitalReading,
)


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants where a local calendar day starts and the next one starts (23 or 25
    hours apart across a daylight-saving change)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def clinics_for(db: Session, principal: Principal, permission: Permission) -> list[Clinic]:
    """The clinics where the principal holds `permission`, by name."""
    ids = principal.clinics_with(permission)
    if not ids:
        return []
    return list(db.scalars(select(Clinic).where(Clinic.id.in_(ids)).order_by(Clinic.name)))


def sessions_on(
    db: Session, principal: Principal, clinic: Clinic, day: date
) -> list[tuple[TreatmentSession, Patient]]:
    """A clinic's sessions on one of its local days, in time order, cancelled ones included."""
    if clinic.id not in principal.clinics_with(Permission.patient_read):
        raise NotFound("No such clinic")
    start, end = local_day_bounds(day, clinic.timezone)
    rows = db.execute(
        select(TreatmentSession, Patient)
        .join(Patient, Patient.id == TreatmentSession.patient_id)
        .where(
            TreatmentSession.clinic_id == clinic.id,
            TreatmentSession.scheduled_at >= start,
            TreatmentSession.scheduled_at < end,
            patient_scope(principal, Permission.patient_read),
        )
        .order_by(TreatmentSession.scheduled_at, Patient.family_name)
    )
    return [(session, patient) for session, patient in rows]


def bookable_plans(
    db: Session, principal: Principal, search: str = ""
) -> list[tuple[TreatmentPlan, Patient]]:
    """Active plans of the patients the principal may book for, by patient name; `search`
    narrows them to a name or record number containing it."""
    query = (
        select(TreatmentPlan, Patient)
        .join(Patient, Patient.id == TreatmentPlan.patient_id)
        .where(
            TreatmentPlan.status == PlanStatus.active,
            patient_scope(principal, Permission.session_book),
        )
        .order_by(Patient.family_name, Patient.given_name, TreatmentPlan.start_date)
    )
    term = search.strip()
    if term:
        query = query.where(
            or_(
                Patient.given_name.icontains(term, autoescape=True),
                Patient.family_name.icontains(term, autoescape=True),
                Patient.record_number.icontains(term, autoescape=True),
            )
        )
    return [(plan, patient) for plan, patient in db.execute(query)]


def readings_of(db: Session, session: TreatmentSession) -> list[VitalReading]:
    return list(
        db.scalars(
            select(VitalReading)
            .where(VitalReading.session_id == session.id)
            .order_by(VitalReading.measured_at, VitalReading.vital)
        )
    )


def ratings_of(db: Session, session: TreatmentSession) -> list[SessionRating]:
    return list(
        db.scalars(
            select(SessionRating)
            .where(SessionRating.session_id == session.id)
            .order_by(SessionRating.measured_at)
        )
    )


def adverse_events_of(db: Session, session: TreatmentSession) -> list[AdverseEvent]:
    return list(
        db.scalars(
            select(AdverseEvent)
            .where(AdverseEvent.session_id == session.id)
            .order_by(AdverseEvent.onset_at)
        )
    )


def alerts_of(db: Session, session: TreatmentSession) -> list[Alert]:
    """The session's alerts, oldest first, acknowledged or not."""
    return list(
        db.scalars(select(Alert).where(Alert.session_id == session.id).order_by(Alert.raised_at))
    )


def rems_form_of(db: Session, session: TreatmentSession) -> RemsForm | None:
    return db.scalar(select(RemsForm).where(RemsForm.session_id == session.id))


def session_in_plan(
    db: Session, plan_id: uuid.UUID, session_id: uuid.UUID
) -> TreatmentSession | None:
    """A session of the plan (e.g. the one just booked), or None if it belongs to another."""
    return db.scalar(
        select(TreatmentSession).where(
            TreatmentSession.id == session_id, TreatmentSession.plan_id == plan_id
        )
    )

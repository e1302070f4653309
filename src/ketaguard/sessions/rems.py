"""The REMS Patient Monitoring Form of an esketamine session: filled from the session record,
complete before the session is signed off, tracked to its 7-day deadline ([S5][S8], §1.9)."""

import uuid
from dataclasses import asdict, fields
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.clinics.models import Clinic
from ketaguard.intake.service import current_intake_data
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.patients.models import Patient
from ketaguard.protocols.definition import ProtocolDefinition
from ketaguard.rems.form import (
    BloodPressure,
    DeadlineState,
    RemsFormInput,
    build_form,
    deadline_state,
    due_date,
    missing_fields,
)
from ketaguard.rems.form import (
    RemsForm as BuiltForm,
)
from ketaguard.sessions.models import (
    AdverseEvent,
    AdverseEventType,
    RemsForm,
    SessionRating,
    SessionStatus,
    TreatmentSession,
    VitalReading,
)
from ketaguard.sessions.schemas_run import DischargeIn

# How close to the protocol's "about 40 minutes" a BP counts as that check ([S3][S12]); a
# display tolerance for filling the form, not a clinical number.
NEAR_40_MINUTES = timedelta(minutes=15)


def _bp_near(readings: list[VitalReading], when: datetime | None) -> BloodPressure | None:
    if when is None:
        return None
    pairs: dict[datetime, dict[str, float]] = {}
    for r in readings:
        if r.vital in ("systolic_bp", "diastolic_bp"):
            pairs.setdefault(r.measured_at, {})[r.vital] = r.value
    complete = [(t, v) for t, v in pairs.items() if len(v) == 2]
    if not complete:
        return None
    _at, values = min(complete, key=lambda item: abs(item[0] - when))
    return BloodPressure(int(values["systolic_bp"]), int(values["diastolic_bp"]))


def _form_input(
    db: Session,
    session: TreatmentSession,
    patient: Patient,
    definition: ProtocolDefinition,
    body: DischargeIn,
    provider_name: str,
    end: datetime,
) -> RemsFormInput:
    clinic = db.get_one(Clinic, session.clinic_id)
    intake = current_intake_data(db, patient.id)
    classes = {c.value for m in (intake.medications if intake else []) for c in m.classes}
    pre_dose: dict[str, Any] = session.pre_dose or {}
    for medication in pre_dose.get("new_medications", []):
        classes.update(medication.get("classes", []))
    events = list(db.scalars(select(AdverseEvent).where(AdverseEvent.session_id == session.id)))
    event_types = {e.type for e in events}
    ratings = list(db.scalars(select(SessionRating).where(SessionRating.session_id == session.id)))
    readings = list(db.scalars(select(VitalReading).where(VitalReading.session_id == session.id)))
    dosed = session.dosed_at
    before = [r for r in readings if dosed is None or r.measured_at <= dosed]
    forty = next(
        (c.minutes.value for c in definition.monitoring.vitals_schedule
         if c.at == "minutes_after_dose" and c.minutes is not None),
        None,
    )  # fmt: skip
    at_forty = dosed + timedelta(minutes=forty) if dosed and forty else None
    near_forty = [
        r for r in readings if at_forty and abs(r.measured_at - at_forty) <= NEAR_40_MINUTES
    ]
    earlier_sessions = db.scalar(
        select(TreatmentSession.id).where(
            TreatmentSession.patient_id == patient.id,
            TreatmentSession.status == SessionStatus.discharged,
            TreatmentSession.id != session.id,
        )
    )
    checks: dict[str, bool] = pre_dose.get("checks", {})
    return RemsFormInput(
        patient_name=f"{patient.given_name} {patient.family_name}",
        date_of_birth=patient.date_of_birth,
        sex=intake.sex.value if intake else None,
        first_treatment=earlier_sessions is None,
        enrolled=checks.get("rems_enrolment"),
        benzodiazepines="benzodiazepine" in classes,
        non_benzodiazepine_sedative_hypnotics="cns_depressant" in classes,
        psychostimulants="psychostimulant" in classes,
        maois="maoi" in classes,
        opioids="opioid" in classes,
        respiratory_status_change=AdverseEventType.respiratory_depression in event_types,
        monitoring_provider_name=provider_name,
        setting_name=clinic.name,
        treatment_date=dosed.astimezone(ZoneInfo(clinic.timezone)).date() if dosed else None,
        dose_mg=int(session.given_dose_mg) if session.given_dose_mg else None,
        lot_number=session.lot_number,
        first_device_at=dosed,
        monitoring_end_at=end,
        ready_to_leave_minutes=body.rems_ready_to_leave_minutes,
        vitals_acceptable_before_dosing=session.prescriber_decision is None,
        # Discharge is refused unless the vitals are within the protocol's thresholds.
        vitals_acceptable_before_end=True,
        bp_before_dosing=_bp_near(before, dosed),
        bp_at_40_minutes=_bp_near(near_forty, at_forty),
        bp_before_end=_bp_near(readings, end),
        sedation=any(
            r.scale == "moaas"
            and session.pre_dose_moaas is not None
            and r.total < session.pre_dose_moaas
            for r in ratings
        ),
        dissociation=any(r.scale == "cadss6" and r.total > 0 for r in ratings)
        or AdverseEventType.dissociation in event_types,
        respiratory_depression=AdverseEventType.respiratory_depression in event_types,
        adverse_events=bool(events),
    )


def _encode(data: RemsFormInput) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for name, value in asdict(data).items():
        encoded[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return encoded


def _decode(stored: dict[str, Any]) -> RemsFormInput:
    values: dict[str, Any] = {}
    for spec in fields(RemsFormInput):
        value = stored.get(spec.name)
        if isinstance(value, dict):
            value = BloodPressure(**value)
        elif isinstance(value, str) and spec.name in ("date_of_birth", "treatment_date"):
            value = date.fromisoformat(value)
        elif isinstance(value, str) and spec.name.endswith("_at"):
            value = datetime.fromisoformat(value)
        values[spec.name] = value
    return RemsFormInput(**values)


def built(form: RemsForm) -> BuiltForm:
    return build_form(_decode(form.fields))


def create_rems_form(
    db: Session,
    session: TreatmentSession,
    patient: Patient,
    definition: ProtocolDefinition,
    body: DischargeIn,
    provider_name: str,
    end: datetime,
) -> RemsForm:
    data = _form_input(db, session, patient, definition, body, provider_name, end)
    form = build_form(data, definition.monitoring.min_observation_minutes.value)
    missing = missing_fields(form)
    if missing:
        raise Conflict(
            "The session cannot be signed off: the REMS monitoring form is missing "
            + "; ".join(missing),
            missing=missing,
        )
    assert data.treatment_date is not None
    stored = RemsForm(
        session_id=session.id,
        clinic_id=session.clinic_id,
        fields=_encode(data),
        due_on=due_date(data.treatment_date),
    )
    db.add(stored)
    db.flush()
    return stored


def clinic_today(db: Session, clinic_id: uuid.UUID, now: datetime) -> date:
    return now.astimezone(ZoneInfo(db.get_one(Clinic, clinic_id).timezone)).date()


def forms(
    db: Session, principal: Principal, now: datetime, state: DeadlineState | None
) -> list[tuple[RemsForm, DeadlineState]]:
    clinics = principal.clinics_with(Permission.patient_read)
    found = db.scalars(
        select(RemsForm).where(RemsForm.clinic_id.in_(clinics)).order_by(RemsForm.due_on)
    )
    listed = []
    for form in found:
        current = deadline_state(
            form.due_on, clinic_today(db, form.clinic_id, now), form.submitted_on
        )
        if state is None or current == state:
            listed.append((form, current))
    return listed


def get_form(db: Session, principal: Principal, form_id: uuid.UUID) -> RemsForm:
    form = db.get(RemsForm, form_id)
    session = db.get(TreatmentSession, form.session_id) if form else None
    if form is None or session is None:
        raise NotFound("No such REMS form")
    try:
        get_patient(db, principal, session.patient_id, Permission.patient_read)
    except NotFound:
        raise NotFound("No such REMS form") from None
    return form


def mark_submitted(
    db: Session,
    principal: Principal,
    context: AuditContext,
    form_id: uuid.UUID,
    submitted_on: date,
    method: Literal["online", "fax"],
    now: datetime,
) -> RemsForm:
    form = get_form(db, principal, form_id)
    if not principal.can(Permission.rems_submit, form.clinic_id):
        raise NotFound("No such REMS form")
    if form.submitted_on is not None:
        raise Conflict(f"Already recorded as submitted on {form.submitted_on.isoformat()}")
    if submitted_on > clinic_today(db, form.clinic_id, now):
        raise InvalidInput("submitted_on cannot be in the future", field="submitted_on")
    form.submitted_on = submitted_on
    form.submission_method = method
    form.submitted_by_id = principal.user_id
    session = db.get_one(TreatmentSession, form.session_id)
    record(
        db,
        context,
        "rems.submitted",
        patient_id=session.patient_id,
        clinic_id=form.clinic_id,
        resource_type="rems_form",
        resource_id=form.id,
        detail={"submitted_on": submitted_on.isoformat(), "method": method},
    )
    return form

"""Running a supervised session, from check-in to discharge (reference §1.4, §1.5, §1.9)."""

import itertools
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert, AlertSeverity
from ketaguard.alerts.service import raise_alert
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.checkins.dues import sync_session_dues
from ketaguard.db.plain_insert import PlainInsert, stored_uuids
from ketaguard.dependence.evaluation import reevaluate
from ketaguard.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from ketaguard.kit.ids import new_uuid7_run, uuids_of
from ketaguard.kit.time import utcnow
from ketaguard.monitoring.discharge import DischargeFacts, unmet_discharge_criteria
from ketaguard.monitoring.rules import (
    AlertFinding,
    sedation_findings,
    threshold_findings,
)
from ketaguard.monitoring.vitals import Reading, check_readings
from ketaguard.patients.models import Patient
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.protocols.definition import FixedDose, ProtocolDefinition
from ketaguard.protocols.service import definition_by_id
from ketaguard.screening.instruments import AnswerError, ScoringContext, get_instrument
from ketaguard.sessions import lifecycle
from ketaguard.sessions.access import locked_session, session_patient
from ketaguard.sessions.models import (
    AdverseEvent,
    ReadingSource,
    SessionRating,
    SessionStatus,
    TreatmentSession,
    VitalReading,
)
from ketaguard.sessions.rems import create_rems_form
from ketaguard.sessions.schemas_run import (
    AdverseEventIn,
    DischargeIn,
    DoseComplete,
    DoseStart,
    PreDoseIn,
    RatingIn,
)

DOSE_TOLERANCE_MG = 0.001


def protocol_of(db: Session, session: TreatmentSession) -> ProtocolDefinition:
    version_id = db.scalar(
        select(TreatmentPlan.protocol_version_id).where(TreatmentPlan.id == session.plan_id)
    )
    assert version_id is not None, "a session's plan exists (foreign key)"
    return definition_by_id(db, version_id)


def _changed(
    db: Session,
    context: AuditContext,
    session: TreatmentSession,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    session.revision += 1
    _record_session_event(db, context, _Target.of(session), action, detail or {})


@dataclass(frozen=True)
class _Target:
    """What recording to a session needs to know of it."""

    id: uuid.UUID
    status: SessionStatus
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    protocol_version_id: uuid.UUID | None = None

    @classmethod
    def of(cls, session: TreatmentSession) -> "_Target":
        return cls(session.id, session.status, session.patient_id, session.clinic_id)


def _record_session_event(
    db: Session, context: AuditContext, target: _Target, action: str, detail: dict[str, Any]
) -> None:
    record(
        db,
        context,
        action,
        patient_id=target.patient_id,
        clinic_id=target.clinic_id,
        resource_type="treatment_session",
        resource_id=target.id,
        detail={"status": target.status.value, **detail},
    )


def _move(session: TreatmentSession, target: SessionStatus) -> None:
    lifecycle.require_transition(session.status, target)
    session.status = target


def raise_findings(
    db: Session, session: TreatmentSession, findings: list[AlertFinding]
) -> list[Alert]:
    """Alerts for the findings, one open alert per rule and session (a BP that stays high is one
    alert to act on, not one per reading)."""
    open_rules = set(
        db.scalars(
            select(Alert.rule).where(
                Alert.session_id == session.id, Alert.acknowledged_at.is_(None)
            )
        )
    )
    raised = []
    for finding in findings:
        if finding.rule_id in open_rules:
            continue
        alert = raise_alert(
            db,
            clinic_id=session.clinic_id,
            patient_id=session.patient_id,
            rule=finding.rule_id,
            severity=AlertSeverity(finding.severity),
            message=finding.message,
            evidence={**finding.evidence, "session_id": str(session.id)},
            source=finding.source,
        )
        alert.session_id = session.id
        open_rules.add(finding.rule_id)
        raised.append(alert)
    return raised


def _require_active_plan(db: Session, session: TreatmentSession, doing: str) -> None:
    """A pause or stop decided after a session was booked holds every step up to the dose.

    The plan row is locked, as booking locks it: a pause committed first refuses the dose, and a
    dose committed first was given before the pause.
    """
    plan = db.scalars(
        select(TreatmentPlan).where(TreatmentPlan.id == session.plan_id).with_for_update()
    ).one()
    if plan.status is not PlanStatus.active:
        raise Conflict(
            f"The treatment plan is {plan.status.value}: {doing} is refused until a prescriber "
            "makes it active again",
            plan_status=plan.status.value,
        )


def check_in(
    db: Session, principal: Principal, context: AuditContext, session_id: uuid.UUID
) -> TreatmentSession:
    session, _ = locked_session(db, principal, session_id, Permission.session_run)
    lifecycle.require_transition(session.status, SessionStatus.checked_in)
    _require_active_plan(db, session, "checking in")
    _move(session, SessionStatus.checked_in)
    session.checked_in_at = utcnow()
    _changed(db, context, session, "session.check_in")
    return session


def _refuse_problems(readings: Sequence[Reading]) -> None:
    problems = check_readings(readings, utcnow())
    if problems:
        raise InvalidInput(
            "Some readings are not possible; nothing was stored",
            problems=[
                {"index": p.index, "vital": p.vital, "code": p.code, "message": p.message}
                for p in problems
            ],
        )


def clear_pre_dose(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    body: PreDoseIn,
) -> TreatmentSession:
    session, patient = locked_session(db, principal, session_id, Permission.session_run)
    lifecycle.require_transition(session.status, SessionStatus.pre_dose_cleared)
    _require_active_plan(db, session, "clearing the patient to dose")
    definition = protocol_of(db, session)
    required = {check.id for check in definition.pre_dose_checks}
    missing, unknown = sorted(required - body.checks.keys()), sorted(body.checks.keys() - required)
    if missing or unknown:
        raise InvalidInput(
            "The pre-dose checklist must answer exactly the protocol's checks",
            missing=missing,
            unknown=unknown,
        )
    unconfirmed = sorted(check for check, done in body.checks.items() if not done)
    if unconfirmed:
        raise Conflict(
            "Not cleared: these pre-dose checks are not confirmed: " + ", ".join(unconfirmed),
            unconfirmed=unconfirmed,
        )
    readings = body.vitals
    _refuse_problems(readings)
    findings = threshold_findings(definition, readings, phase="pre_dose")
    decision = (body.prescriber_decision or "").strip()
    if findings and not decision:
        raise Conflict(
            "A prescriber must document a decision before dosing: "
            + " ".join(f.message for f in findings),
            findings=[
                {"rule": f.rule_id, "message": f.message, "source": f.source} for f in findings
            ],
        )
    if decision and not principal.can(Permission.plan_approve, patient.clinic_id):
        raise Forbidden("Only a prescriber can document a decision to dose")
    _store_readings(
        db, [VitalsBatch(principal, context, session.id, readings, ReadingSource.staff)]
    )
    flagged = [m.model_dump(mode="json") for m in body.new_medications if m.classes]
    session.pre_dose = {
        "checks": body.checks,
        "craving": body.craving,
        "substance_use_since_last_session": body.substance_use_since_last_session,
        "new_medications": [m.model_dump(mode="json") for m in body.new_medications],
        "flagged_medications": flagged,
        "pregnant": body.pregnant,
    }
    if decision:
        session.prescriber_decision = {
            "by": str(principal.user_id),
            "at": utcnow().isoformat(),
            "decision": decision,
            "findings": [f.rule_id for f in findings],
        }
    session.pre_dose_moaas = body.moaas
    session.pre_dose_cleared_at = utcnow()
    session.cleared_by_id = principal.user_id
    _move(session, SessionStatus.pre_dose_cleared)
    _changed(
        db,
        context,
        session,
        "session.pre_dose",
        {"findings": [f.rule_id for f in findings], "flagged_medications": len(flagged)},
    )
    # Craving and use since the last session are the dependence watch's to judge before the dose.
    reevaluate(db, session.patient_id, context)
    return session


def start_dose(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    body: DoseStart,
) -> TreatmentSession:
    session, _ = locked_session(db, principal, session_id, Permission.session_run)
    lifecycle.require_transition(session.status, SessionStatus.dosed)
    _require_active_plan(db, session, "dosing")
    if body.dose_mg > session.planned_dose_mg + DOSE_TOLERANCE_MG:
        raise Conflict(
            f"{body.dose_mg:g} mg is above the {session.planned_dose_mg:g} mg planned for this "
            "session; a higher dose needs a new booking"
        )
    definition = protocol_of(db, session)
    dose = definition.dose
    if isinstance(dose, FixedDose) and body.dose_mg % dose.device_mg.value > DOSE_TOLERANCE_MG:
        raise InvalidInput(
            f"{body.dose_mg:g} mg is not a whole number of {dose.device_mg.value} mg devices "
            f"({dose.device_mg.source})",
            field="dose_mg",
        )
    if body.started_at > utcnow() + timedelta(minutes=5):
        raise InvalidInput("started_at cannot be in the future", field="started_at")
    session.given_dose_mg = body.dose_mg
    session.lot_number = body.lot_number.strip()
    session.given_by_id = principal.user_id
    session.dosed_at = body.started_at
    session.device_times = [body.started_at.isoformat()]
    if definition.monitoring.observation_starts_at in ("first_device", "dose_start"):
        session.observation_started_at = body.started_at
    _move(session, SessionStatus.dosed)
    sync_session_dues(db, session)
    _changed(
        db, context, session, "session.dose", {"dose_mg": body.dose_mg, "lot": body.lot_number}
    )
    return session


def complete_dose(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    body: DoseComplete,
) -> TreatmentSession:
    session, _ = locked_session(db, principal, session_id, Permission.session_run)
    lifecycle.require_transition(session.status, SessionStatus.monitoring)
    definition = protocol_of(db, session)
    dose = definition.dose
    assert session.dosed_at is not None
    assert session.given_dose_mg is not None
    if isinstance(dose, FixedDose):
        times = sorted(body.device_times or [])
        expected = round(session.given_dose_mg / dose.device_mg.value)
        if len(times) != expected:
            raise InvalidInput(
                f"{session.given_dose_mg:g} mg is {expected} devices of {dose.device_mg.value} mg; "
                f"{len(times)} device times were given",
                field="device_times",
            )
        if times[0] != session.dosed_at:
            raise InvalidInput("The first device time must be the dose start", field="device_times")
        gap = timedelta(minutes=dose.device_interval_minutes.value)
        for n, (earlier, later) in enumerate(itertools.pairwise(times), start=2):
            if later - earlier < gap:
                raise InvalidInput(
                    f"Device {n} came {(later - earlier).total_seconds() / 60:.1f} minutes after "
                    f"device {n - 1}; the protocol needs {dose.device_interval_minutes.value} "
                    f"({dose.device_interval_minutes.source})",
                    field="device_times",
                )
        session.device_times = [t.isoformat() for t in times]
    else:
        ended = body.infusion_ended_at
        if ended is None or ended <= session.dosed_at:
            raise InvalidInput(
                "infusion_ended_at is required and must be after the start",
                field="infusion_ended_at",
            )
        session.infusion_ended_at = ended
        if definition.monitoring.observation_starts_at == "infusion_end":
            session.observation_started_at = ended
    _move(session, SessionStatus.monitoring)
    _changed(db, context, session, "session.dose_complete")
    reevaluate(db, session.patient_id, context)
    return session


@dataclass(frozen=True)
class Ingested:
    added: int
    duplicates: int
    alerts: list[Alert]


@dataclass(frozen=True)
class VitalsBatch:
    """One sender's readings for one session, from one device (or from none, entered by staff)."""

    principal: Principal
    context: AuditContext
    session_id: uuid.UUID
    readings: Sequence[Reading]
    source: ReadingSource
    device_key: str = ""


# The vitals hot path's statements, built once: a gateway posts many times a second, and building
# a statement (and its cache key) costs more than running it.
_RECORDING_TARGETS = (
    select(
        TreatmentSession.id,
        TreatmentSession.status,
        TreatmentSession.patient_id,
        TreatmentSession.clinic_id,
        TreatmentPlan.protocol_version_id,
        Patient.clinic_id.label("patient_clinic_id"),
    )
    .join(TreatmentPlan, TreatmentPlan.id == TreatmentSession.plan_id)
    .join(Patient, Patient.id == TreatmentSession.patient_id)
    .where(TreatmentSession.id.in_(bindparam("target_ids", expanding=True)))
    # Locked in one order by every writer, so that two groups never wait for each other.
    .order_by(TreatmentSession.id)
    .with_for_update(of=TreatmentSession)
)
_RAISE_REVISIONS = (
    update(TreatmentSession)
    .where(TreatmentSession.id.in_(bindparam("target_ids", expanding=True)))
    .values(revision=TreatmentSession.revision + bindparam("by"))
)
_READINGS_WITH_IDS = select(VitalReading.id).where(
    VitalReading.id.in_(bindparam("ids", expanding=True))
)
# The unique key skips readings stored already: a resent batch adds nothing.
_INSERT_READINGS = PlainInsert(
    cast(Table, VitalReading.__table__), ["session_id", "device_key", "measured_at", "vital"]
)


def _recording_targets(db: Session, batches: list[VitalsBatch]) -> dict[uuid.UUID, _Target]:
    """The batches' sessions, their rows locked as `locked_session` locks them, read in one
    query without loading the sessions and their patients. Refuses a batch whose session does
    not exist, or not for its sender."""
    # Plain statements skip the session's autoflush: what an earlier request of the same group
    # changed through the ORM (a session it moved, its revision) must reach the database first.
    db.flush()
    wanted = sorted({batch.session_id for batch in batches})
    rows = {
        row.id: row for row in db.connection().execute(_RECORDING_TARGETS, {"target_ids": wanted})
    }
    for batch in batches:
        row = rows.get(batch.session_id)
        if row is None:
            raise NotFound("No such session")
        if row.patient_clinic_id not in batch.principal.clinics_with(Permission.vitals_write):
            session_patient(db, batch.principal, row.patient_id, Permission.vitals_write)
    return {
        row.id: _Target(row.id, row.status, row.patient_id, row.clinic_id, row.protocol_version_id)
        for row in rows.values()
    }


def _store_readings(db: Session, batches: list[VitalsBatch]) -> list[list[Reading]]:
    """Insert what is new and skip exact repeats; returns each batch's readings that were new.

    All go in as one plain insert, the driver's fastest path (RETURNING would force a slower
    one), and the unique key skips what is stored already: by an earlier batch, by an earlier
    batch of the group, or earlier in the same batch. Only when the count that went in falls
    short (a gateway resending a batch) does a second query ask which did.
    """
    of_batches = [
        {
            "session_id": batch.session_id,
            "source": batch.source.value,
            "device_key": batch.device_key,
            "recorded_by_id": batch.principal.user_id,
            "recorded_by_token_id": batch.principal.token_id,
        }
        for batch in batches
    ]
    # A value every batch has is sent once, not once per row: most groups are one sender's.
    shared: dict[str, Any] = {"created_at": utcnow()}
    columns: dict[str, list[Any]] = {"vital": [], "value": [], "measured_at": []}
    varying: list[str] = []
    for column in of_batches[0] if of_batches else ():
        if len(values := {of_batch[column] for of_batch in of_batches}) == 1:
            shared[column] = values.pop()
        else:
            varying.append(column)
            columns[column] = []
    for batch, of_batch in zip(batches, of_batches, strict=True):
        readings = batch.readings
        columns["vital"] += [r.vital for r in readings]
        columns["value"] += [float(r.value) for r in readings]
        columns["measured_at"] += [r.measured_at for r in readings]
        for column in varying:
            columns[column] += itertools.repeat(of_batch[column], len(readings))
    ids, connection = new_uuid7_run(len(columns["vital"])), db.connection()
    stored = {"id": stored_uuids(ids, connection.dialect)}
    if _INSERT_READINGS.execute(connection, columns, shared, stored) == len(ids):
        return [list(batch.readings) for batch in batches]
    asked = {"ids": uuids_of(ids)}
    went_in = {made.int for made in connection.execute(_READINGS_WITH_IDS, asked).scalars()}
    numbered = iter(ids)
    return [[r for r in batch.readings if next(numbered) in went_in] for batch in batches]


def ingest_vitals(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    readings: Sequence[Reading],
    *,
    source: ReadingSource,
    device_key: str = "",
) -> Ingested:
    """Store a batch all-or-nothing; judge the new readings against the protocol in the same
    transaction, so an alert exists exactly when its reading does."""
    batch = VitalsBatch(principal, context, session_id, readings, source, device_key)
    return ingest_batches(db, [batch])[0]


def ingest_batches(db: Session, batches: list[VitalsBatch]) -> list[Ingested]:
    """`ingest_vitals` for each batch in turn, with one statement of each kind for them all.

    Every batch is checked before anything is written: if one is refused, the error is raised
    and the caller must roll back (what the others would have stored is not written yet, but an
    audit event of the refusal may be).
    """
    targets = _recording_targets(db, batches)
    for batch in batches:
        status = targets[batch.session_id].status
        lifecycle.require_state(status, lifecycle.RECORDING_STATES, "recording vital signs")
        _refuse_problems(batch.readings)
    new_by_batch = _store_readings(db, batches)
    # Each batch raises its session's revision by one.
    by_session = Counter(batch.session_id for batch in batches)
    for by in sorted(set(by_session.values())):
        ids = sorted(session_id for session_id, n in by_session.items() if n == by)
        db.connection().execute(_RAISE_REVISIONS, {"target_ids": ids, "by": by})
    results = []
    for batch, new in zip(batches, new_by_batch, strict=True):
        target = targets[batch.session_id]
        after_dose = target.status in lifecycle.AFTER_DOSE_STATES
        assert target.protocol_version_id is not None
        definition = definition_by_id(db, target.protocol_version_id)
        findings = threshold_findings(definition, new, phase="during" if after_dose else "pre_dose")
        duplicates = len(batch.readings) - len(new)
        detail = {"added": len(new), "duplicates": duplicates, "device": batch.device_key or None}
        alerts: list[Alert] = []
        if findings:
            # Rare: only now is the session loaded, to raise its alerts and perhaps move it.
            session, _ = locked_session(db, batch.principal, target.id, Permission.vitals_write)
            alerts = raise_findings(db, session, findings)
            if session.status is SessionStatus.ready_for_discharge:
                _move(session, SessionStatus.monitoring)
            target = targets[target.id] = replace(target, status=session.status)
        _record_session_event(db, batch.context, target, "session.vitals", detail)
        results.append(Ingested(added=len(new), duplicates=duplicates, alerts=alerts))
    return results


def rate(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    body: RatingIn,
) -> tuple[SessionRating, list[Alert]]:
    session, _ = locked_session(db, principal, session_id, Permission.session_run)
    lifecycle.require_state(session.status, lifecycle.RECORDING_STATES, "rating sedation")
    try:
        score = get_instrument(body.scale).score(body.answers, ScoringContext())
    except AnswerError as exc:
        raise InvalidInput(str(exc), field=exc.item_id) from exc
    assert score.total is not None
    assert principal.user_id is not None
    rating = SessionRating(
        session_id=session.id,
        scale=body.scale,
        answers=body.answers,
        total=score.total,
        measured_at=body.measured_at,
        recorded_by_id=principal.user_id,
    )
    db.add(rating)
    db.flush()
    alerts: list[Alert] = []
    if body.scale == "moaas" and session.status in lifecycle.AFTER_DOSE_STATES:
        source = "[S94][S30][S2] MOAA/S, any drop from the pre-dose score is sedation"
        alerts = raise_findings(
            db, session, sedation_findings(session.pre_dose_moaas, score.total, source)
        )
    _changed(db, context, session, "session.rating", {"scale": body.scale, "total": score.total})
    return rating, alerts


def record_adverse_event(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    body: AdverseEventIn,
) -> AdverseEvent:
    session, _ = locked_session(db, principal, session_id, Permission.session_run)
    assert principal.user_id is not None
    event = AdverseEvent(
        session_id=session.id,
        patient_id=session.patient_id,
        recorded_by_id=principal.user_id,
        **body.model_dump(),
    )
    db.add(event)
    db.flush()
    _changed(
        db,
        context,
        session,
        "session.adverse_event",
        {"type": body.type.value, "severity": body.severity, "serious": body.serious},
    )
    return event


def _latest_readings(db: Session, session: TreatmentSession) -> dict[str, Reading]:
    latest: dict[str, Reading] = {}
    since = session.observation_started_at
    query = select(VitalReading).where(VitalReading.session_id == session.id)
    if since is not None:
        query = query.where(VitalReading.measured_at >= since)
    for row in db.scalars(query.order_by(VitalReading.measured_at)):
        latest[row.vital] = Reading(vital=row.vital, value=row.value, measured_at=row.measured_at)  # type: ignore[arg-type]
    return latest


def _latest_moaas(db: Session, session: TreatmentSession) -> int | None:
    return db.scalar(
        select(SessionRating.total)
        .where(SessionRating.session_id == session.id, SessionRating.scale == "moaas")
        .order_by(SessionRating.measured_at.desc())
        .limit(1)
    )


def clear_for_discharge(
    db: Session, principal: Principal, context: AuditContext, session_id: uuid.UUID
) -> TreatmentSession:
    """A prescriber's judgement that the patient is clinically stable (reference §1.5)."""
    session, patient = locked_session(db, principal, session_id, Permission.session_run)
    if not principal.can(Permission.plan_approve, patient.clinic_id):
        raise Forbidden("Only a prescriber can clear a patient to leave")
    lifecycle.require_state(
        session.status, lifecycle.AFTER_DOSE_STATES, "clearing the patient to leave"
    )
    session.prescriber_cleared_at = utcnow()
    _changed(db, context, session, "session.prescriber_cleared")
    return session


def discharge(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    body: DischargeIn,
    patient_name: str,
) -> TreatmentSession:
    session, patient = locked_session(db, principal, session_id, Permission.session_run)
    lifecycle.require_state(
        session.status,
        frozenset({SessionStatus.monitoring, SessionStatus.ready_for_discharge}),
        "discharge",
    )
    definition = protocol_of(db, session)
    now = body.ended_at or utcnow()
    if now > utcnow() + timedelta(minutes=5):
        raise InvalidInput("ended_at cannot be in the future", field="ended_at")
    facts = DischargeFacts(
        observation_started_at=session.observation_started_at,
        latest_readings=_latest_readings(db, session),  # type: ignore[arg-type]
        pre_dose_moaas=session.pre_dose_moaas,
        latest_moaas=_latest_moaas(db, session),
        transport_present=body.transport_present,
        prescriber_cleared=session.prescriber_cleared_at is not None,
    )
    unmet = unmet_discharge_criteria(definition, facts, now)
    if unmet:
        raise Conflict(
            "Not ready to leave: " + " ".join(c.message for c in unmet),
            unmet=[{"id": c.id, "message": c.message, "source": c.source} for c in unmet],
        )
    session.transport_present = True
    session.status = SessionStatus.ready_for_discharge
    session.ready_at = now
    if definition.rems_required:
        create_rems_form(db, session, patient, definition, body, patient_name, now)
    session.discharged_at = now
    session.discharged_by_id = principal.user_id
    _move(session, SessionStatus.discharged)
    sync_session_dues(db, session)
    _changed(db, context, session, "session.discharge")
    reevaluate(db, session.patient_id, context)
    return session


def end_early(
    db: Session,
    principal: Principal,
    context: AuditContext,
    session_id: uuid.UUID,
    target: SessionStatus,
    reason: str,
) -> TreatmentSession:
    """Abort (after arrival) or mark a no-show, with the reason."""
    session, _ = locked_session(db, principal, session_id, Permission.session_run)
    _move(session, target)
    session.aborted_reason = reason.strip()
    sync_session_dues(db, session)
    _changed(db, context, session, f"session.{target.value}", {"reason": session.aborted_reason})
    return session

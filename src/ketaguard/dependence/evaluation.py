"""Keeping a patient's dependence signals, status and review current: ``reevaluate``.

Every service that stores what the detectors read (a check-in, a pre-dose report, a dose, a
discharge, a session request or its answer, a booking past the plan's limits, a screening
response, an intake) calls ``reevaluate`` in its own transaction, so a signal exists exactly when
the record behind it does. It reads the timeline (``sources``), runs the detectors with the
clinic's numbers, and then:

- **keeps signals by key** (``Signal.key``): a new key is a new signal; a known open one is
  refreshed (its severity can change as baseline risk comes and goes); one a clinician closed
  stays closed, as the prescriber has seen exactly those records;
- **resolves trend signals no longer given** (``detectors.JUDGED_AT_LATEST``), recorded as
  resolved automatically; one that comes back is reopened. Event signals stay until a decision;
- **derives the status** from the open signals (``status.derive_status``);
- **opens the patient's one review** when the status is review_needed or urgent, or raises the
  open one to urgent, due by the clinic's setting (at once when it has none, and it says so).

Everything it changes is audited in the same transaction.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.clinics.models import Clinic
from ketaguard.dependence.detectors import JUDGED_AT_LATEST, evaluate
from ketaguard.dependence.models import (
    Closure,
    DependenceReview,
    DependenceSettings,
    DependenceSignal,
    ReviewStatus,
    SignalState,
)
from ketaguard.dependence.settings import review_due, settings_of, thresholds_of
from ketaguard.dependence.signals import Evidence, Severity, Signal
from ketaguard.dependence.sources import build_timeline
from ketaguard.dependence.status import DependenceStatus, StatusAssessment, derive_status
from ketaguard.dependence.thresholds import switched_off
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans.models import TreatmentPlan

# The statuses a prescriber must review, and the review's severity for each.
REVIEWED: dict[DependenceStatus, Severity] = {
    DependenceStatus.review_needed: Severity.review_needed,
    DependenceStatus.urgent: Severity.urgent,
}
AUTO_RESOLVED = (
    "Resolved automatically: judged at the latest record, and the latest evaluation no longer "
    "gives it."
)


@dataclass(frozen=True)
class Evaluation:
    assessment: StatusAssessment
    raised: list[DependenceSignal]
    resolved: list[DependenceSignal]
    review: DependenceReview | None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def evidence_json(evidence: Evidence) -> dict[str, object]:
    return {
        "kind": evidence.kind,
        "record_id": evidence.record_id,
        "at": evidence.at.isoformat() if evidence.at is not None else None,
        "description": evidence.description,
    }


def evidence_of(stored: dict[str, Any]) -> Evidence:
    at = stored.get("at")
    return Evidence(
        kind=stored["kind"],
        record_id=str(stored["record_id"]),
        at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        description=str(stored["description"]),
    )


def signal_of(row: DependenceSignal) -> Signal:
    """The stored signal as the pure ``Signal`` the status is derived from."""
    return Signal(
        detector=row.detector,  # type: ignore[arg-type]  # written from a Signal's own detector
        rule_id=row.rule_id,
        severity=row.severity,
        summary=row.summary,
        evidence=tuple(evidence_of(e) for e in row.evidence),
        source=row.source,
        raised_from=row.raised_from,
        raised_by=tuple(evidence_of(e) for e in row.raised_by),
    )


def lock_patient(db: Session, patient_id: uuid.UUID) -> Patient:
    """Hold the patient's row for the rest of the transaction.

    Two writers judging one patient at once (a check-in sent while a dose is recorded) would each
    add the same new signal, or each open a review; the lock makes the second wait and see the
    first. Callers holding a plan's lock take it before this one, never after.
    """
    return db.scalars(select(Patient).where(Patient.id == patient_id).with_for_update()).one()


def open_signals(db: Session, patient_id: uuid.UUID) -> list[DependenceSignal]:
    return list(
        db.scalars(
            select(DependenceSignal)
            .where(
                DependenceSignal.patient_id == patient_id,
                DependenceSignal.state == SignalState.open,
            )
            .order_by(DependenceSignal.first_raised_at, DependenceSignal.rule_id)
        )
    )


def open_review(db: Session, patient_id: uuid.UUID) -> DependenceReview | None:
    return db.scalar(
        select(DependenceReview).where(
            DependenceReview.patient_id == patient_id,
            DependenceReview.status == ReviewStatus.open,
        )
    )


def assess(db: Session, patient: Patient) -> StatusAssessment:
    """The patient's status from the signals open now, naming what the clinic's unset numbers
    switch off today."""
    clinic = db.get_one(Clinic, patient.clinic_id)
    thresholds = thresholds_of(clinic, settings_of(db, clinic.id))
    signals = [signal_of(row) for row in open_signals(db, patient.id)]
    return derive_status(signals, switched_off(thresholds))


def _write(row: DependenceSignal, signal: Signal) -> bool:
    """Bring a stored signal in line with the detector's; True when its severity changed."""
    changed = row.severity != signal.severity
    row.severity = signal.severity
    row.summary = signal.summary
    row.source = signal.source
    row.raised_from = signal.raised_from
    evidence = [evidence_json(e) for e in signal.evidence]
    if row.evidence != evidence:
        row.evidence = evidence
    raised_by = [evidence_json(e) for e in signal.raised_by]
    if row.raised_by != raised_by:
        row.raised_by = raised_by
    return changed


def _new_row(
    patient: Patient, plan: TreatmentPlan, signal: Signal, digest: str, now: datetime
) -> DependenceSignal:
    row = DependenceSignal(
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        plan_id=plan.id,
        key=signal.key,
        key_hash=digest,
        detector=signal.detector,
        rule_id=signal.rule_id,
        trend=signal.rule_id in JUDGED_AT_LATEST,
        first_raised_at=now,
        last_seen_at=now,
        state=SignalState.open,
    )
    _write(row, signal)
    return row


def _brief(rows: list[DependenceSignal]) -> list[dict[str, str]]:
    return [
        {"id": str(row.id), "rule_id": row.rule_id, "severity": row.severity.value} for row in rows
    ]


def _keep_review(
    db: Session,
    context: AuditContext,
    patient: Patient,
    plan: TreatmentPlan,
    settings: DependenceSettings | None,
    assessment: StatusAssessment,
    now: datetime,
) -> DependenceReview | None:
    """Open the patient's review for a status a prescriber must review, or raise the open one
    to urgent; a lower status leaves an open review to its prescriber's decision."""
    review = open_review(db, patient.id)
    severity = REVIEWED.get(assessment.status)
    if severity is None:
        return review
    deciding = [s.rule_id for s in assessment.deciding]
    if review is None:
        due_at, note = review_due(settings, severity, now)
        review = DependenceReview(
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            plan_id=plan.id,
            assigned_to_id=plan.approved_by_id,
            opened_at=now,
            due_at=due_at,
            due_note=note,
            severity=severity,
            status=ReviewStatus.open,
            escalated_to=[],
        )
        db.add(review)
        db.flush()
        action = "dependence.review.open"
    elif severity.rank > review.severity.rank:
        due_at, note = review_due(settings, severity, now)
        review.severity = severity
        # Raising the severity never gives the prescriber longer than they had.
        if due_at < review.due_at:
            review.due_at, review.due_note = due_at, note
        # An escalation already sent spoke of the lower severity: the raised review is escalated
        # again, as urgent, if it too is left past its due time.
        review.escalated_at = None
        action = "dependence.review.raise"
    else:
        return review
    record(
        db,
        context,
        action,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="dependence_review",
        resource_id=review.id,
        detail={
            "severity": severity.value,
            "due_at": review.due_at.isoformat(),
            "due_note": review.due_note,
            "assigned_to": str(review.assigned_to_id) if review.assigned_to_id else None,
            "deciding": deciding,
        },
    )
    return review


def reevaluate(db: Session, patient_id: uuid.UUID, context: AuditContext) -> Evaluation | None:
    """Judge the patient's timeline again and keep what it finds; None while the patient has no
    approved plan (nothing to judge, nothing changed)."""
    patient = lock_patient(db, patient_id)
    clinic = db.get_one(Clinic, patient.clinic_id)
    built = build_timeline(db, patient.id, clinic)
    if built is None:
        return None
    plan, timeline = built
    settings = settings_of(db, clinic.id)
    thresholds = thresholds_of(clinic, settings)
    reported = {key_hash(s.key): s for s in evaluate(timeline, thresholds)}
    stored = {
        row.key_hash: row
        for row in db.scalars(
            select(DependenceSignal).where(
                DependenceSignal.patient_id == patient.id,
                or_(
                    DependenceSignal.state == SignalState.open,
                    DependenceSignal.key_hash.in_(list(reported)),
                ),
            )
        )
    }
    now = utcnow()
    raised, reopened, changed, resolved = [], [], [], []
    for digest, signal in reported.items():
        row = stored.get(digest)
        if row is None:
            row = stored[digest] = _new_row(patient, plan, signal, digest, now)
            db.add(row)
            raised.append(row)
        elif row.state is SignalState.open:
            if _write(row, signal):
                changed.append(row)
            row.last_seen_at = now
        elif row.closure is Closure.auto_resolved:
            _write(row, signal)
            row.state, row.closure, row.closed_at, row.closed_reason = (
                SignalState.open,
                None,
                None,
                None,
            )
            row.last_seen_at = now
            reopened.append(row)
    for digest, row in stored.items():
        if row.state is SignalState.open and row.trend and digest not in reported:
            row.state, row.closure, row.closed_at = SignalState.closed, Closure.auto_resolved, now
            row.closed_reason = AUTO_RESOLVED
            resolved.append(row)
    db.flush()
    open_rows = sorted(
        (row for row in stored.values() if row.state is SignalState.open),
        key=lambda row: (row.first_raised_at, row.rule_id),
    )
    assessment = derive_status([signal_of(row) for row in open_rows], switched_off(thresholds))
    review = _keep_review(db, context, patient, plan, settings, assessment, now)
    if raised or reopened or changed or resolved:
        record(
            db,
            context,
            "dependence.evaluate",
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            resource_type="patient",
            resource_id=patient.id,
            detail={
                "status": assessment.status.value,
                "raised": _brief(raised),
                "reopened": _brief(reopened),
                "severity_changed": _brief(changed),
                "resolved": _brief(resolved),
            },
        )
    return Evaluation(assessment=assessment, raised=raised, resolved=resolved, review=review)

"""Administering instruments to patients and reading their history."""

import uuid
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.alerts.service import raise_alert
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.clinics.models import Clinic
from ketaguard.dependence.evaluation import reevaluate
from ketaguard.dependence.sources import READ_INSTRUMENTS
from ketaguard.intake.service import current_intake_data
from ketaguard.kit.errors import InvalidInput
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.screening.alert_rules import ALERT_RULES
from ketaguard.screening.instruments import AnswerError, ScoringContext, get_instrument
from ketaguard.screening.models import CompletedBy, ScreeningResponse
from ketaguard.screening.schemas import ResponseCreate, Trend

# Questionnaires a patient may fill in themselves; the rest are clinician ratings or checklists.
PATIENT_REPORTED = frozenset({"phq9", "gad7", "pcl5", "dast10", "audit-c", "sds", "icsi", "icpi"})
# Devices' clocks drift; a completion time this far ahead of the server is still accepted.
CLOCK_SKEW = timedelta(minutes=5)


def administer(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    body: ResponseCreate,
    *,
    judge_dependence: bool = True,
) -> tuple[ScreeningResponse, list[Alert]]:
    """Score and store one completed instrument, raising any safety alert with it, and judging
    the dependence watch again when it reads the instrument. A caller storing several at once
    (a check-in) passes ``judge_dependence=False`` and judges once, after the last."""
    if principal.patient_id is not None:
        if patient_id != principal.patient_id:
            raise InvalidInput("A patient can only fill in their own questionnaires")
        if body.instrument not in PATIENT_REPORTED:
            raise InvalidInput(f"{body.instrument} is completed by a clinician, not the patient")
        patient = db.get_one(Patient, patient_id)
        completed_by = CompletedBy.patient
    else:
        patient = get_patient(db, principal, patient_id, Permission.screening_administer)
        completed_by = CompletedBy.staff
    try:
        instrument = get_instrument(body.instrument)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), field="instrument") from exc
    now = utcnow()
    completed_at = body.completed_at or now
    if completed_at > now + CLOCK_SKEW:
        raise InvalidInput("completed_at cannot be in the future", field="completed_at")

    intake = current_intake_data(db, patient.id)
    clinic = db.get_one(Clinic, patient.clinic_id)
    scoring = ScoringContext(
        sex=intake.sex.value if intake else None,
        supervised=body.supervised,
        pcl5_cutoff=clinic.pcl5_cutoff,
        sds_cutoff=clinic.sds_cutoff,
    )
    try:
        score = instrument.score(body.answers, scoring)
    except AnswerError as exc:
        hint = " (record the patient's sex in the intake first)" if intake is None else ""
        raise InvalidInput(f"{exc}{hint}", field=exc.item_id) from exc

    assert principal.user_id is not None
    response = ScreeningResponse(
        patient_id=patient.id,
        instrument=instrument.id,
        answers=instrument.checked_answers(body.answers),
        total=score.total,
        band=score.band,
        flags=list(score.flags),
        extra=dict(score.extra),
        scoring_context={
            "sex": scoring.sex,
            "supervised": scoring.supervised,
            "pcl5_cutoff": scoring.pcl5_cutoff,
            "sds_cutoff": scoring.sds_cutoff,
        },
        completed_at=completed_at,
        completed_by=completed_by,
        recorded_by_id=principal.user_id,
    )
    db.add(response)
    db.flush()
    alerts = [
        raise_alert(
            db,
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            rule=rule.rule,
            severity=rule.severity,
            message=rule.message,
            evidence={"screening_response_id": str(response.id), "flag": rule.flag},
            source=rule.source,
        )
        for rule in ALERT_RULES
        if rule.instrument == instrument.id and rule.flag in score.flags
    ]
    record(
        db,
        context,
        "screening.create",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="screening_response",
        resource_id=response.id,
        detail={
            "instrument": instrument.id,
            "total": score.total,
            "band": score.band,
            "flags": list(score.flags),
            "alerts": [alert.rule for alert in alerts],
        },
    )
    if judge_dependence and instrument.id in READ_INSTRUMENTS:
        reevaluate(db, patient.id, context)
    return response, alerts


def history(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    instrument: str | None = None,
) -> tuple[list[ScreeningResponse], list[Trend]]:
    if principal.patient_id is not None and principal.patient_id == patient_id:
        patient = db.get_one(Patient, patient_id)
    else:
        patient = get_patient(db, principal, patient_id, Permission.patient_read)
    query = select(ScreeningResponse).where(ScreeningResponse.patient_id == patient.id)
    if instrument is not None:
        query = query.where(ScreeningResponse.instrument == instrument)
    responses = list(
        db.scalars(query.order_by(ScreeningResponse.completed_at, ScreeningResponse.created_at))
    )
    record(
        db,
        context,
        "screening.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="screening_response",
        detail={"instrument": instrument, "count": len(responses)},
    )
    return responses, trends(responses)


def trends(responses: list[ScreeningResponse]) -> list[Trend]:
    """First and latest total per instrument, in time order, for a score's direction of travel."""
    by_instrument: dict[str, list[int]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for response in responses:
        counts[response.instrument] += 1
        if response.total is not None:
            by_instrument[response.instrument].append(response.total)
    result = []
    for name in sorted(counts):
        totals = by_instrument.get(name, [])
        baseline, latest = (totals[0], totals[-1]) if totals else (None, None)
        change = latest - baseline if baseline is not None and latest is not None else None
        percent = round(100 * change / baseline, 1) if change is not None and baseline else None
        result.append(
            Trend(
                instrument=name,
                baseline_total=baseline,
                latest_total=latest,
                change=change,
                percent_change=percent,
                count=counts[name],
            )
        )
    return result


def latest_by_instrument(db: Session, patient_id: uuid.UUID) -> dict[str, ScreeningResponse]:
    """Each instrument's most recent response, the basis of an eligibility decision."""
    latest: dict[str, ScreeningResponse] = {}
    for response in db.scalars(
        select(ScreeningResponse)
        .where(ScreeningResponse.patient_id == patient_id)
        .order_by(ScreeningResponse.completed_at, ScreeningResponse.created_at)
    ):
        latest[response.instrument] = response
    return latest

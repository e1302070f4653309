"""Referrals made because of the dependence watch (an addiction service, urology for bladder
symptoms, a therapist, or another named service), followed up until attended or declined."""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.scoping import get_patient
from ketaguard.clinics.models import Clinic
from ketaguard.dependence.models import Referral, ReferralStatus, ReferralTo
from ketaguard.dependence.schemas import ReferralCreate, ReferralStatusChange, ReferralUpdate
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.patients.records import audited_records

OPEN = frozenset({ReferralStatus.sent, ReferralStatus.accepted})
NEXT: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.sent: frozenset(
        {ReferralStatus.accepted, ReferralStatus.attended, ReferralStatus.declined}
    ),
    ReferralStatus.accepted: frozenset({ReferralStatus.attended, ReferralStatus.declined}),
    ReferralStatus.attended: frozenset(),
    ReferralStatus.declined: frozenset(),
}


def local_today(db: Session, clinic_id: uuid.UUID, now: datetime | None = None) -> date:
    timezone = db.get_one(Clinic, clinic_id).timezone
    return (now or utcnow()).astimezone(ZoneInfo(timezone)).date()


def _follow_up(db: Session, patient: Patient, day: date | None) -> date:
    if day is None:
        raise InvalidInput(
            "Give the next follow-up date while the referral is open", field="next_follow_up_on"
        )
    if day < local_today(db, patient.clinic_id):
        raise InvalidInput("The follow-up date is in the past", field="next_follow_up_on")
    return day


def _entry(status: ReferralStatus, principal: Principal, note: str | None) -> dict[str, object]:
    return {
        "status": status.value,
        "at": utcnow().isoformat(),
        "by": str(principal.user_id),
        "note": note,
    }


def _clean(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def create_referral(
    db: Session,
    principal: Principal,
    context: AuditContext,
    patient_id: uuid.UUID,
    body: ReferralCreate,
    *,
    decision_id: uuid.UUID | None = None,
) -> Referral:
    patient = get_patient(db, principal, patient_id, Permission.referral_manage)
    name = _clean(body.name)
    if body.referred_to is ReferralTo.other and name is None:
        raise InvalidInput("Name who the patient is referred to", field="name")
    assert principal.user_id is not None
    note = _clean(body.note)
    referral = Referral(
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        decision_id=decision_id,
        referred_to=body.referred_to,
        name=name,
        note=note,
        referred_at=utcnow(),
        referred_by_id=principal.user_id,
        status=ReferralStatus.sent,
        history=[_entry(ReferralStatus.sent, principal, note)],
        next_follow_up_on=_follow_up(db, patient, body.next_follow_up_on),
    )
    db.add(referral)
    db.flush()
    record(
        db,
        context,
        "referral.create",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="referral",
        resource_id=referral.id,
        detail={
            "to": referral.referred_to.value,
            "name": referral.name,
            "decision_id": str(decision_id) if decision_id else None,
            "next_follow_up_on": referral.next_follow_up_on.isoformat()
            if referral.next_follow_up_on
            else None,
        },
    )
    return referral


def referrals_of(
    db: Session, principal: Principal, context: AuditContext, patient_id: uuid.UUID
) -> list[Referral]:
    return audited_records(
        db,
        principal,
        context,
        patient_id,
        lambda patient: (
            select(Referral)
            .where(Referral.patient_id == patient.id)
            .order_by(Referral.referred_at.desc())
        ),
        action="referral.read",
        resource_type="referral",
    )


def _referral(
    db: Session, principal: Principal, referral_id: uuid.UUID, permission: Permission
) -> tuple[Referral, Patient]:
    referral = db.get(Referral, referral_id)
    if referral is None:
        raise NotFound("No such referral")
    try:
        patient = get_patient(db, principal, referral.patient_id, permission)
    except NotFound:
        raise NotFound("No such referral") from None
    return referral, patient


def read_referral(
    db: Session, principal: Principal, context: AuditContext, referral_id: uuid.UUID
) -> Referral:
    referral, patient = _referral(db, principal, referral_id, Permission.patient_read)
    record(
        db,
        context,
        "referral.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="referral",
        resource_id=referral.id,
    )
    return referral


def _locked(db: Session, referral: Referral) -> Referral:
    # Two people updating one referral at once would each append to its history from the same
    # copy; the row lock makes the second wait and read the first's.
    return db.scalars(
        select(Referral)
        .where(Referral.id == referral.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def update_referral(
    db: Session,
    principal: Principal,
    context: AuditContext,
    referral_id: uuid.UUID,
    body: ReferralUpdate,
) -> Referral:
    """Change who exactly, the note, or the next follow-up date of an open referral."""
    found, patient = _referral(db, principal, referral_id, Permission.referral_manage)
    referral = _locked(db, found)
    if referral.status not in OPEN:
        raise Conflict(f"The referral is {referral.status.value}; it can no longer change")
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("Nothing to change")
    before = {name: _json(getattr(referral, name)) for name in changes}
    if "name" in changes:
        name = _clean(body.name)
        if referral.referred_to is ReferralTo.other and name is None:
            raise InvalidInput("Name who the patient is referred to", field="name")
        referral.name = name
    if "note" in changes:
        referral.note = _clean(body.note)
    if "next_follow_up_on" in changes:
        referral.next_follow_up_on = _follow_up(db, patient, body.next_follow_up_on)
    record(
        db,
        context,
        "referral.update",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="referral",
        resource_id=referral.id,
        detail={"before": before, "after": {n: _json(getattr(referral, n)) for n in changes}},
    )
    return referral


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def change_status(
    db: Session,
    principal: Principal,
    context: AuditContext,
    referral_id: uuid.UUID,
    body: ReferralStatusChange,
) -> Referral:
    """Move a referral on (sent → accepted → attended, or declined), with the next follow-up date
    while it stays open; attended and declined close it and end its reminders."""
    found, patient = _referral(db, principal, referral_id, Permission.referral_manage)
    referral = _locked(db, found)
    current, target = referral.status, body.status
    if target not in NEXT[current]:
        allowed = sorted(s.value for s in NEXT[current])
        then = f"it can become {', '.join(allowed)}" if allowed else "it is closed"
        raise Conflict(f"A {current.value} referral cannot become {target.value}; {then}")
    if target in OPEN:
        referral.next_follow_up_on = _follow_up(db, patient, body.next_follow_up_on)
    elif body.next_follow_up_on is not None:
        raise InvalidInput(
            f"A {target.value} referral is closed: it has no next follow-up",
            field="next_follow_up_on",
        )
    else:
        referral.next_follow_up_on = None
        referral.closed_at = utcnow()
    note = _clean(body.note)
    referral.status = target
    referral.history = [*referral.history, _entry(target, principal, note)]
    record(
        db,
        context,
        "referral.status",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="referral",
        resource_id=referral.id,
        detail={
            "from": current.value,
            "to": target.value,
            "note": note,
            "next_follow_up_on": _json(referral.next_follow_up_on),
        },
    )
    return referral

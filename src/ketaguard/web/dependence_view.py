"""What the dependence pages show: statuses, signals and their evidence in words with links to the
records behind them, a review with everything a prescriber needs to decide, and the posted
decision and referral forms read into the API's own schemas.

Reads go through the same service functions as the API (`dependence/service.py`,
`dependence/referrals.py`), which scope and audit them.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext
from ketaguard.auth.models import User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.clinics.models import Clinic
from ketaguard.dependence import referrals, service
from ketaguard.dependence.models import (
    DecisionKind,
    DependenceDecision,
    DependenceReview,
    DependenceSignal,
    Referral,
    ReferralStatus,
    ReferralTo,
    ReviewStatus,
)
from ketaguard.dependence.referrals import NEXT, OPEN, local_today
from ketaguard.dependence.schemas import (
    MIN_REASON,
    DecisionCreate,
    ReferralStatusChange,
)
from ketaguard.dependence.signals import RecordKind, Severity
from ketaguard.dependence.status import DependenceStatus
from ketaguard.kit.time import utcnow
from ketaguard.patients.models import Patient
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.web.forms import FieldErrors, schema_errors, text_limit
from ketaguard.web.session_forms import FormInvalid
from ketaguard.web.session_view import Clock

STATUS_LABELS: Mapping[DependenceStatus, str] = MappingProxyType(
    {
        DependenceStatus.none: "No open concern",
        DependenceStatus.watch: "Watch",
        DependenceStatus.review_needed: "Review needed",
        DependenceStatus.urgent: "Urgent",
    }
)
SEVERITY_LABELS: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.info: "Context",
        Severity.watch: "Watch",
        Severity.review_needed: "Review needed",
        Severity.urgent: "Urgent",
    }
)
# What each severity asks of the clinic (signals.Severity's own words).
SEVERITY_MEANING: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.info: "context for the clinician; never changes the status on its own",
        Severity.watch: "look for other signs at the next contact",
        Severity.review_needed: "a prescriber reviews the treatment plan",
        Severity.urgent: "a prescriber reviews before the next dose",
    }
)
# Each decision the API offers, in words, with what it does at once (dependence/service.decide).
DECISIONS: Mapping[DecisionKind, tuple[str, str]] = MappingProxyType(
    {
        DecisionKind.continue_: ("Continue treatment", "The plan carries on as it is."),
        DecisionKind.closer_monitoring: (
            "Closer monitoring",
            "Every check-in asks every question, and weekly check-ins start this week.",
        ),
        DecisionKind.pause: (
            "Pause treatment",
            "The plan is paused at once: no session can be booked, nor a booked one dosed, "
            "until it is resumed.",
        ),
        DecisionKind.taper: ("Taper", "Recorded; adjust the doses when booking."),
        DecisionKind.discontinue: (
            "Discontinue treatment",
            "The plan is discontinued at once: no further session can be booked or dosed.",
        ),
        DecisionKind.refer_addiction_care: (
            "Refer to addiction care",
            "A referral to an addiction service is made, to follow up until attended.",
        ),
    }
)
REFERRED_TO: Mapping[ReferralTo, str] = MappingProxyType(
    {
        ReferralTo.addiction_service: "Addiction service",
        ReferralTo.urology: "Urology",
        ReferralTo.therapist: "Therapist",
        ReferralTo.other: "Other service",
    }
)
REFERRAL_STATUS: Mapping[ReferralStatus, str] = MappingProxyType(
    {
        ReferralStatus.sent: "Sent",
        ReferralStatus.accepted: "Accepted",
        ReferralStatus.attended: "Attended",
        ReferralStatus.declined: "Declined",
    }
)
RECORD_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "plan": "Treatment plan",
        "session": "Session",
        "check_in": "Check-in",
        "screening_response": "Screening",
        "session_request": "Session request",
        "intake": "Intake",
    }
)
PLAN_STATUS: Mapping[PlanStatus, str] = MappingProxyType(
    {
        PlanStatus.draft: "Draft (not yet approved)",
        PlanStatus.active: "Active",
        PlanStatus.paused: "Paused",
        PlanStatus.completed: "Completed",
        PlanStatus.discontinued: "Discontinued",
    }
)

DECISION_LABELS = {
    "kind": "Decision",
    "reason": "Reason for the decision",
    "follow_up_on": "Follow-up date",
    "referral_name": "Addiction service referred to",
}
REFERRAL_LABELS = {
    "status": "New status",
    "note": "Note",
    "next_follow_up_on": "Next follow-up date",
}


def record_href(kind: RecordKind | str, record_id: str, patient_id: uuid.UUID) -> str:
    """Where a page shows the record behind a signal: a session's own page, else the chart."""
    if kind == "session":
        return f"/sessions/{record_id}"
    return f"/patients/{patient_id}"


@dataclass(frozen=True)
class ShownEvidence:
    kind: str
    href: str
    at: datetime | None
    description: str


@dataclass(frozen=True)
class ShownSignal:
    id: uuid.UUID
    rule_id: str
    severity: Severity
    severity_label: str
    summary: str
    source: str
    evidence: list[ShownEvidence]
    raised_from: str | None
    raised_by: list[ShownEvidence]
    first_raised_at: datetime
    last_seen_at: datetime
    trend: bool
    deciding: bool


def _evidence(items: Iterable[Mapping[str, Any]], patient_id: uuid.UUID) -> list[ShownEvidence]:
    shown = []
    for item in items:
        kind, record_id = str(item["kind"]), str(item["record_id"])
        at = item.get("at")
        shown.append(
            ShownEvidence(
                kind=RECORD_KINDS.get(kind, kind),
                href=record_href(kind, record_id, patient_id),
                at=datetime.fromisoformat(at) if isinstance(at, str) else None,
                description=str(item["description"]),
            )
        )
    return shown


def shown_signals(
    rows: Sequence[DependenceSignal], deciding: Iterable[uuid.UUID] = ()
) -> list[ShownSignal]:
    """The signals most severe first, each with its evidence linked to the record."""
    setting = set(deciding)
    ordered = sorted(rows, key=lambda row: (-row.severity.rank, row.first_raised_at))
    return [
        ShownSignal(
            id=row.id,
            rule_id=row.rule_id,
            severity=row.severity,
            severity_label=SEVERITY_LABELS[row.severity],
            summary=row.summary,
            source=row.source,
            evidence=_evidence(row.evidence, row.patient_id),
            raised_from=SEVERITY_LABELS[row.raised_from] if row.raised_from else None,
            raised_by=_evidence(row.raised_by, row.patient_id),
            first_raised_at=row.first_raised_at,
            last_seen_at=row.last_seen_at,
            trend=row.trend,
            deciding=row.id in setting,
        )
        for row in ordered
    ]


def user_names(db: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.full_name for u in db.scalars(select(User).where(User.id.in_(wanted)))}


@dataclass(frozen=True)
class Paragraph:
    text: str
    items: list[str]


def explained(text: str) -> list[Paragraph]:
    """The status explanation as paragraphs, each with the list of lines ("- ...") under it."""
    paragraphs: list[Paragraph] = []
    for line in text.splitlines():
        if line.startswith("- ") and paragraphs:
            paragraphs[-1].items.append(line.removeprefix("- "))
        elif line.strip():
            paragraphs.append(Paragraph(line, []))
    return paragraphs


# --- A review -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewPage:
    review: DependenceReview
    decision: DependenceDecision | None
    patient: Patient
    found: service.PatientDependence
    plan: TreatmentPlan
    clinic: Clinic
    clock: Clock
    signals: list[ShownSignal]
    explanation: list[Paragraph]
    referral: Referral | None
    names: dict[uuid.UUID, str]
    today: date
    overdue: bool
    can_decide: bool
    can_book: bool


def review_page(
    db: Session, principal: Principal, context: AuditContext, review_id: uuid.UUID
) -> ReviewPage:
    """The review, the patient's status explained and the signals it is about: the open ones
    while it is open, those its decision closed once decided. Audited as the API audits them."""
    review, decision = service.read_review(db, principal, context, review_id)
    found = service.patient_dependence(
        db, principal, context, review.patient_id, include_closed=decision is not None
    )
    if decision is None:
        signals = shown_signals(found.open_signals, found.deciding)
    else:
        signals = shown_signals([s for s in found.closed_signals if s.decision_id == decision.id])
    referral = None
    referral_id = decision.actions.get("referral_id") if decision else None
    if isinstance(referral_id, str):
        referral = db.get(Referral, uuid.UUID(referral_id))
    clinic = db.get_one(Clinic, review.clinic_id)
    return ReviewPage(
        review=review,
        decision=decision,
        patient=found.patient,
        found=found,
        plan=db.get_one(TreatmentPlan, review.plan_id),
        clinic=clinic,
        clock=Clock(clinic.timezone),
        signals=signals,
        explanation=explained(found.assessment.explanation),
        referral=referral,
        names=user_names(db, [review.assigned_to_id, decision.decided_by_id if decision else None]),
        today=local_today(db, clinic.id),
        overdue=review.status is ReviewStatus.open and review.due_at <= utcnow(),
        can_decide=review.status is ReviewStatus.open
        and principal.can(Permission.dependence_review, clinic.id),
        can_book=principal.can(Permission.session_book, clinic.id),
    )


def _text(form: Mapping[str, Any]) -> dict[str, str]:
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def decision_body(form: Mapping[str, Any], seen_signals: list[str]) -> DecisionCreate:
    """The posted decision as the API's DecisionCreate, or FormInvalid naming each field."""
    text = _text(form)
    data: dict[str, Any] = {
        "kind": text.get("kind") or None,
        "reason": text.get("reason", ""),
        "follow_up_on": text.get("follow_up_on") or None,
        "seen_signals": seen_signals,
    }
    if text.get("referral_name"):
        data["referral_name"] = text["referral_name"]
    try:
        return DecisionCreate.model_validate(data)
    except ValidationError as exc:
        raise FormInvalid(
            schema_errors(
                exc,
                {
                    "kind": "Choose a decision",
                    "reason": "Write the reason for the decision, at least "
                    f"{MIN_REASON} characters and at most "
                    f"{text_limit(DecisionCreate, 'reason')}",
                    "follow_up_on": "Enter the date to look again, like 2026-03-09",
                    "referral_name": "Keep the service's name under "
                    f"{text_limit(DecisionCreate, 'referral_name')} characters",
                },
            )
        ) from exc


# --- A referral ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralPage:
    referral: Referral
    patient: Patient
    clock: Clock
    # By user id as text: the history names its people as text.
    names: dict[str, str]
    next_statuses: list[ReferralStatus]
    is_open: bool
    can_manage: bool
    today: date


def referral_page(
    db: Session, principal: Principal, context: AuditContext, referral_id: uuid.UUID
) -> ReferralPage:
    referral = referrals.read_referral(db, principal, context, referral_id)
    clinic = db.get_one(Clinic, referral.clinic_id)
    by = [referral.referred_by_id]
    by += [uuid.UUID(str(entry["by"])) for entry in referral.history if _is_uuid(entry.get("by"))]
    return ReferralPage(
        referral=referral,
        patient=db.get_one(Patient, referral.patient_id),
        clock=Clock(clinic.timezone),
        names={str(k): v for k, v in user_names(db, by).items()},
        next_statuses=sorted(NEXT[referral.status], key=list(ReferralStatus).index),
        is_open=referral.status in OPEN,
        can_manage=principal.can(Permission.referral_manage, clinic.id),
        today=local_today(db, clinic.id),
    )


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def referral_change(form: Mapping[str, Any]) -> ReferralStatusChange:
    text = _text(form)
    data: dict[str, Any] = {"status": text.get("status") or None}
    if text.get("note"):
        data["note"] = text["note"]
    if text.get("next_follow_up_on"):
        data["next_follow_up_on"] = text["next_follow_up_on"]
    try:
        return ReferralStatusChange.model_validate(data)
    except ValidationError as exc:
        raise FormInvalid(
            schema_errors(
                exc,
                {
                    "status": "Choose the referral's new status",
                    "note": "Keep the note under "
                    f"{text_limit(ReferralStatusChange, 'note')} characters",
                    "next_follow_up_on": "Enter the next follow-up date, like 2026-03-09",
                },
            )
        ) from exc


def field_values(form: Mapping[str, Any]) -> FieldErrors:
    """What was posted, to show the form again as it was typed."""
    return _text(form)


# --- The worklist -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Worklist:
    rows: list[service.WorklistRow]
    clinics: dict[uuid.UUID, Clinic]
    clocks: dict[uuid.UUID, Clock]
    now: datetime


def worklist(
    db: Session, principal: Principal, context: AuditContext, clinic_id: uuid.UUID | None = None
) -> Worklist:
    """The clinic worklist of the API (most severe first, then the earliest review due), with
    each clinic's clock to show due times on."""
    rows = service.worklist(db, principal, context, clinic_id)
    clinics = worklist_clinics(db, principal)
    return Worklist(
        rows=rows,
        clinics=clinics,
        clocks={c.id: Clock(c.timezone) for c in clinics.values()},
        now=utcnow(),
    )


def worklist_clinics(db: Session, principal: Principal) -> dict[uuid.UUID, Clinic]:
    """The clinics whose patients the principal may read, by name."""
    ids = principal.clinics_with(Permission.patient_read)
    if not ids:
        return {}
    found = db.scalars(select(Clinic).where(Clinic.id.in_(ids)).order_by(Clinic.name))
    return {c.id: c for c in found}

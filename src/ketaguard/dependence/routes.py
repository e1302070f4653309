"""The dependence watch: a patient's status with its evidence, the clinic's worklist, reviews and
decisions, referrals, and the clinic's numbers."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request

from ketaguard.auth.deps import audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession
from ketaguard.dependence import referrals, service
from ketaguard.dependence.models import (
    DependenceDecision,
    DependenceReview,
    DependenceSignal,
    Referral,
    ReviewStatus,
)
from ketaguard.dependence.schemas import (
    DecisionCreate,
    DecisionMade,
    DecisionOut,
    EvidenceOut,
    PatientDependenceOut,
    ReferralCreate,
    ReferralOut,
    ReferralStatusChange,
    ReferralUpdate,
    ReviewOut,
    SettingOut,
    SettingsIn,
    SettingsOut,
    SignalOut,
    SwitchedOffOut,
    WorklistEntry,
)
from ketaguard.dependence.settings import CLINIC_SETTING_SOURCE, DUE_HOURS_SETTING, thresholds_of
from ketaguard.dependence.thresholds import (
    CLINIC_SETTINGS,
    DAST10_PROBLEM_FROM,
    PHQ9_RESPONSE_BASELINE_ABOVE,
    PHQ9_RESPONSE_FALL_PERCENT,
    SwitchedOff,
    switched_off,
)
from ketaguard.kit.time import utcnow

router = APIRouter(prefix="/api", tags=["dependence"])
Reader = Annotated[Principal, require(Permission.patient_read)]
ReferralManager = Annotated[Principal, require(Permission.referral_manage)]


def _href(kind: str, record_id: str, signal: DependenceSignal) -> str:
    patient = f"/api/patients/{signal.patient_id}"
    return {
        "plan": f"{patient}/plans",
        "session": f"/api/sessions/{record_id}",
        "check_in": f"{patient}/checkins",
        "screening_response": f"{patient}/screenings",
        "session_request": f"/api/plans/{signal.plan_id}/requests",
        "intake": f"{patient}/intake/versions",
    }[kind]


def _evidence(items: list[dict[str, Any]], signal: DependenceSignal) -> list[EvidenceOut]:
    return [
        EvidenceOut.model_validate(
            {**item, "href": _href(str(item["kind"]), str(item["record_id"]), signal)}
        )
        for item in items
    ]


def _signal(row: DependenceSignal) -> SignalOut:
    return SignalOut(
        id=row.id,
        key=row.key,
        detector=row.detector,
        rule_id=row.rule_id,
        severity=row.severity,
        raised_from=row.raised_from,
        raised_by=_evidence(row.raised_by, row),
        summary=row.summary,
        evidence=_evidence(row.evidence, row),
        source=row.source,
        trend=row.trend,
        state=row.state,
        first_raised_at=row.first_raised_at,
        last_seen_at=row.last_seen_at,
        closure=row.closure,
        closed_at=row.closed_at,
        closed_by_id=row.closed_by_id,
        closed_reason=row.closed_reason,
        decision_id=row.decision_id,
    )


def _switched_off(items: tuple[SwitchedOff, ...]) -> list[SwitchedOffOut]:
    return [
        SwitchedOffOut(
            rule_id=i.rule_id, settings=list(i.settings), partly=i.partly, reason=i.reason
        )
        for i in items
    ]


def _review(review: DependenceReview, decision: DependenceDecision | None = None) -> ReviewOut:
    out = ReviewOut.model_validate(review)
    out.overdue = review.status is ReviewStatus.open and review.due_at <= utcnow()
    out.decision = DecisionOut.model_validate(decision) if decision is not None else None
    return out


# --- Status and worklist ------------------------------------------------------------------------


@router.get("/patients/{patient_id}/dependence", response_model=PatientDependenceOut)
def patient_dependence(
    patient_id: uuid.UUID,
    request: Request,
    db: DbSession,
    principal: Reader,
    include_closed: bool = False,
) -> PatientDependenceOut:
    """The patient's dependence status, explained in full: every open signal with the records
    behind it, the rules the clinic's unset numbers switch off, the open review and the latest
    decision. `include_closed=true` adds the closed signals, newest first."""
    found = service.patient_dependence(
        db,
        principal,
        audit_context(request, principal),
        patient_id,
        include_closed=include_closed,
    )
    return PatientDependenceOut(
        patient_id=found.patient.id,
        status=found.assessment.status,
        explanation=found.assessment.explanation,
        deciding=found.deciding,
        open_signals=[_signal(row) for row in found.open_signals],
        closed_signals=[_signal(row) for row in found.closed_signals],
        switched_off=_switched_off(found.assessment.switched_off),
        open_review=_review(found.review) if found.review else None,
        latest_decision=(
            DecisionOut.model_validate(found.latest_decision) if found.latest_decision else None
        ),
    )


@router.get("/dependence/worklist", response_model=list[WorklistEntry])
def worklist(
    request: Request, db: DbSession, principal: Reader, clinic_id: uuid.UUID | None = None
) -> list[WorklistEntry]:
    """Patients with an open signal at watch or above, or an open review: urgent first, then
    review_needed, then watch; within each, the earliest review due first."""
    rows = service.worklist(db, principal, audit_context(request, principal), clinic_id)
    return [
        WorklistEntry(
            patient_id=row.patient.id,
            clinic_id=row.patient.clinic_id,
            record_number=row.patient.record_number,
            given_name=row.patient.given_name,
            family_name=row.patient.family_name,
            status=row.status,
            open_signals=row.open_signals,
            review=_review(row.review) if row.review else None,
        )
        for row in rows
    ]


# --- Reviews and decisions ----------------------------------------------------------------------


@router.get("/patients/{patient_id}/dependence/reviews", response_model=list[ReviewOut])
def patient_reviews(
    patient_id: uuid.UUID, request: Request, db: DbSession, principal: Reader
) -> list[ReviewOut]:
    found = service.reviews_of(db, principal, audit_context(request, principal), patient_id)
    return [_review(review, decision) for review, decision in found]


@router.get("/dependence/reviews/{review_id}", response_model=ReviewOut)
def read_review(
    review_id: uuid.UUID, request: Request, db: DbSession, principal: Reader
) -> ReviewOut:
    review, decision = service.read_review(
        db, principal, audit_context(request, principal), review_id
    )
    return _review(review, decision)


@router.get("/dependence/reviews/{review_id}/decision", response_model=DecisionOut)
def read_decision(
    review_id: uuid.UUID, request: Request, db: DbSession, principal: Reader
) -> DecisionOut:
    decision = service.decision_of(db, principal, audit_context(request, principal), review_id)
    return DecisionOut.model_validate(decision)


@router.post(
    "/dependence/reviews/{review_id}/decision", response_model=DecisionMade, status_code=201
)
def decide(
    review_id: uuid.UUID,
    body: DecisionCreate,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.dependence_review)],
) -> DecisionMade:
    """Decide on an open review: continue, closer_monitoring, pause, taper, discontinue or
    refer_addiction_care, with a written reason and a follow-up date. Pause and discontinue
    change the plan at once; closer_monitoring makes check-ins more frequent;
    refer_addiction_care makes the referral. The patient's open signals are closed by it."""
    decided = service.decide(db, principal, audit_context(request, principal), review_id, body)
    return DecisionMade(
        **DecisionOut.model_validate(decided.decision).model_dump(),
        closed_signals=decided.closed_signals,
    )


# --- Referrals ----------------------------------------------------------------------------------


def _referral(referral: Referral) -> ReferralOut:
    return ReferralOut.model_validate(referral)


@router.post(
    "/patients/{patient_id}/dependence/referrals", response_model=ReferralOut, status_code=201
)
def create_referral(
    patient_id: uuid.UUID,
    body: ReferralCreate,
    request: Request,
    db: DbSession,
    principal: ReferralManager,
) -> ReferralOut:
    referral = referrals.create_referral(
        db, principal, audit_context(request, principal), patient_id, body
    )
    return _referral(referral)


@router.get("/patients/{patient_id}/dependence/referrals", response_model=list[ReferralOut])
def patient_referrals(
    patient_id: uuid.UUID, request: Request, db: DbSession, principal: Reader
) -> list[ReferralOut]:
    found = referrals.referrals_of(db, principal, audit_context(request, principal), patient_id)
    return [_referral(referral) for referral in found]


@router.get("/dependence/referrals/{referral_id}", response_model=ReferralOut)
def read_referral(
    referral_id: uuid.UUID, request: Request, db: DbSession, principal: Reader
) -> ReferralOut:
    return _referral(
        referrals.read_referral(db, principal, audit_context(request, principal), referral_id)
    )


@router.patch("/dependence/referrals/{referral_id}", response_model=ReferralOut)
def update_referral(
    referral_id: uuid.UUID,
    body: ReferralUpdate,
    request: Request,
    db: DbSession,
    principal: ReferralManager,
) -> ReferralOut:
    """Change who exactly, the note or the next follow-up date of an open referral. A referral
    is a clinical record: it is closed (attended or declined), never deleted."""
    referral = referrals.update_referral(
        db, principal, audit_context(request, principal), referral_id, body
    )
    return _referral(referral)


@router.post("/dependence/referrals/{referral_id}/status", response_model=ReferralOut)
def change_referral_status(
    referral_id: uuid.UUID,
    body: ReferralStatusChange,
    request: Request,
    db: DbSession,
    principal: ReferralManager,
) -> ReferralOut:
    referral = referrals.change_status(
        db, principal, audit_context(request, principal), referral_id, body
    )
    return _referral(referral)


# --- The clinic's numbers -----------------------------------------------------------------------

_HOURS_MEANING = {
    name: f"hours to review a {severity.value} status (not set: due at once)"
    for severity, name in DUE_HOURS_SETTING.items()
}


def _settings(found: service.ClinicSettings) -> SettingsOut:
    row, clinic = found.row, found.clinic
    thresholds = thresholds_of(clinic, row)
    settings = [
        SettingOut(
            name=setting.name,
            value=getattr(thresholds, setting.name),
            meaning=f"{setting.words}; not set: {setting.rule_id} {setting.effect}",
            source=CLINIC_SETTING_SOURCE
            if setting.name != "sds_cutoff"
            else (
                f"{CLINIC_SETTING_SOURCE}. Shared with SDS scoring: an admin sets it with "
                f"PATCH /api/admin/clinics/{clinic.id}/screening"
            ),
        )
        for setting in CLINIC_SETTINGS
    ]
    settings += [
        SettingOut(
            name=name,
            value=getattr(row, name) if row else None,
            meaning=meaning,
            source=CLINIC_SETTING_SOURCE,
        )
        for name, meaning in _HOURS_MEANING.items()
    ]
    lead = row.medical_lead_id if row else None
    settings.append(
        SettingOut(
            name="medical_lead_id",
            value=str(lead) if lead else None,
            meaning="the prescriber overdue reviews go to (not set: every prescriber)",
            source=CLINIC_SETTING_SOURCE,
        )
    )
    reference = [
        SettingOut(
            name="phq9_response_fall_percent",
            value=PHQ9_RESPONSE_FALL_PERCENT,
            meaning="a PHQ-9 response is a fall of at least this percentage from baseline",
            source="clinical reference §3.2 [S105]",
        ),
        SettingOut(
            name="phq9_response_baseline_above",
            value=PHQ9_RESPONSE_BASELINE_ABOVE,
            meaning="response is judged from a baseline PHQ-9 above this",
            source="clinical reference §3.2 [S105]",
        ),
        SettingOut(
            name="dast10_problem_from",
            value=DAST10_PROBLEM_FROM,
            meaning="a DAST-10 total from which baseline drug-use risk counts",
            source="clinical reference §3.1, DAST-10 LOINC note [S78]",
        ),
    ]
    return SettingsOut(
        clinic_id=clinic.id,
        settings=settings,
        reference_numbers=reference,
        switched_off=_switched_off(switched_off(thresholds)),
        updated_at=row.updated_at if row else None,
        updated_by_id=row.updated_by_id if row else None,
    )


@router.get("/clinics/{clinic_id}/dependence-settings", response_model=SettingsOut)
def read_settings(clinic_id: uuid.UUID, db: DbSession, principal: Reader) -> SettingsOut:
    """The clinic's numbers for the dependence watch, what each means, and what is switched off
    while one is not set. None comes from the clinical reference; the three that do are listed
    under reference_numbers with their source."""
    return _settings(service.read_settings(db, principal, clinic_id))


@router.put("/clinics/{clinic_id}/dependence-settings", response_model=SettingsOut)
def update_settings(
    clinic_id: uuid.UUID,
    body: SettingsIn,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.dependence_settings)],
) -> SettingsOut:
    """Replace the clinic's numbers (an admin or prescriber of the clinic), every one stated:
    null switches off what needs it. Audited; the clinic's patients are judged again at once."""
    found = service.update_settings(
        db, principal, audit_context(request, principal), clinic_id, body
    )
    return _settings(found)

"""A patient's ``PatientTimeline`` read from the database, for the dependence detectors.

What it covers: the patient's current plan (the latest one a prescriber approved, as the
check-ins' outcomes use), its dosed sessions and pre-dose reports, its sessions booked under an
override and not dosed yet, its check-ins and session requests; the patient's later PHQ-9 scores
and DSM-5 checklists; the screening baseline (DAST-10, AUDIT-C, SDS and the PHQ-9 baseline) of the
eligibility decision the plan was approved on (the PHQ-9 baseline as checkins.outcomes takes it);
and the substance history of the current intake.
No approved plan, no timeline: the detectors judge treatment, and there is none yet.

A handful of queries, none per record: it runs inside the requests that feed it.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.checkins.models import Checkin, Severity
from ketaguard.clinics.models import Clinic
from ketaguard.dependence.timeline import (
    KETAMINE_NAMES,
    URINARY_SYMPTOMS,
    WITHDRAWAL_LIKE_SYMPTOMS,
    AuditCResult,
    BookedOverride,
    CheckIn,
    DosedSession,
    Dsm5Checklist,
    InstrumentTotal,
    OutsideUse,
    PatientTimeline,
    Phq9Score,
    Phq9Source,
    PlanRecord,
    PreDoseReport,
    RequestRecord,
    ScreeningBaseline,
    SubstanceHistory,
    UrinarySymptom,
    WithdrawalLikeSymptom,
)
from ketaguard.intake.models import IntakeVersion
from ketaguard.intake.schemas import IntakeData
from ketaguard.plans.models import SessionRequest, TreatmentPlan
from ketaguard.plans.queries import latest_approved_plan
from ketaguard.protocols.scheduling import FixedDoseLimits
from ketaguard.protocols.service import definition_by_id
from ketaguard.screening.findings import SubstanceUse
from ketaguard.screening.models import EligibilityDecision, ScreeningResponse
from ketaguard.sessions.limits import dose_limits
from ketaguard.sessions.models import SessionStatus, TreatmentSession

# The screening instruments the timeline reads.
PHQ9, DAST10, AUDIT_C, SDS, ICSI, DSM5 = (
    "phq9",
    "dast10",
    "audit-c",
    "sds",
    "icsi",
    "ketamine-use-disorder",
)
READ_INSTRUMENTS = frozenset({PHQ9, DAST10, AUDIT_C, SDS, ICSI, DSM5})
# A booking that ended this way will not be dosed: its override is no longer a booking to show
# (the signal it raised stays, as every event's does).
_NOT_GOING_AHEAD = frozenset(
    {SessionStatus.cancelled, SessionStatus.no_show, SessionStatus.aborted}
)


def _max_dose_mg(db: Session, plan: TreatmentPlan) -> float:
    limits = dose_limits(definition_by_id(db, plan.protocol_version_id), plan)
    return limits.max_per_session_mg if isinstance(limits, FixedDoseLimits) else limits.max_mg


def _sessions(
    sessions: Iterable[TreatmentSession],
) -> tuple[list[DosedSession], list[BookedOverride], list[PreDoseReport]]:
    dosed, booked, reports = [], [], []
    for session in sessions:
        if session.dosed_at is not None and session.given_dose_mg is not None:
            dosed.append(
                DosedSession(
                    session_id=str(session.id),
                    dosed_at=session.dosed_at,
                    planned_dose_mg=session.planned_dose_mg,
                    given_dose_mg=session.given_dose_mg,
                    overridden_rules=tuple(session.overridden_rules),
                    override_reason=session.override_reason,
                )
            )
        elif session.overridden_rules and session.status not in _NOT_GOING_AHEAD:
            booked.append(
                BookedOverride(
                    session_id=str(session.id),
                    booked_at=session.created_at,
                    scheduled_at=session.scheduled_at,
                    planned_dose_mg=session.planned_dose_mg,
                    overridden_rules=tuple(session.overridden_rules),
                    override_reason=session.override_reason or "",
                )
            )
        report = _pre_dose(session)
        if report is not None:
            reports.append(report)
    return dosed, booked, reports


def _pre_dose(session: TreatmentSession) -> PreDoseReport | None:
    answers = session.pre_dose
    if answers is None or session.pre_dose_cleared_at is None:
        return None
    craving = answers.get("craving")
    used = str(answers.get("substance_use_since_last_session") or "").strip()
    # A session entered after the fact is cleared "now" but dosed then: the report came before
    # the dose, so the earlier of the two dates it.
    times = [t for t in (session.pre_dose_cleared_at, session.dosed_at) if t is not None]
    return PreDoseReport(
        session_id=str(session.id),
        at=min(times),
        craving=craving if isinstance(craving, int) else None,
        substance_use=used or None,
    )


def _outside_use(entry: dict[str, object]) -> OutsideUse:
    substance = str(entry.get("substance") or "other")
    name = str(entry.get("name") or "").strip()
    used_on = entry.get("used_on")
    amount = entry.get("amount")
    return OutsideUse(
        substance=name or substance,
        used_on=date.fromisoformat(used_on) if isinstance(used_on, str) else None,
        amount=str(amount) if amount else None,
        is_ketamine=substance in KETAMINE_NAMES or name.casefold() in KETAMINE_NAMES,
    )


def _check_in(checkin: Checkin, totals: dict[uuid.UUID, int | None]) -> CheckIn:
    def total(response_id: uuid.UUID | None) -> int | None:
        return totals.get(response_id) if response_id is not None else None

    withdrawal: frozenset[WithdrawalLikeSymptom] = frozenset(
        symptom
        for symptom in WITHDRAWAL_LIKE_SYMPTOMS
        if (checkin.withdrawal or {}).get(symptom, Severity.none.value) != Severity.none.value
    )
    urinary: frozenset[UrinarySymptom] | None = None
    if checkin.urinary is not None:
        asked = checkin.urinary
        urinary = frozenset(symptom for symptom in URINARY_SYMPTOMS if asked.get(symptom))
    return CheckIn(
        check_in_id=str(checkin.id),
        at=checkin.completed_at,
        craving=checkin.craving,
        outside_use=tuple(_outside_use(entry) for entry in checkin.substance_use),
        withdrawal_like=withdrawal,
        urinary=urinary,
        icsi_total=total(checkin.icsi_response_id),
        memory_complaint=checkin.memory not in (None, Severity.none),
        sds_total=total(checkin.sds_response_id),
    )


@dataclass(frozen=True)
class _Screening:
    """The patient's screening responses the timeline reads, and which came with a check-in."""

    responses: list[ScreeningResponse]
    from_check_ins: frozenset[uuid.UUID]

    def decided(
        self, instrument: str, decided_on: frozenset[uuid.UUID]
    ) -> ScreeningResponse | None:
        """The instrument's response the plan's eligibility decision read, if it read one."""
        found = [
            r
            for r in self.responses
            if r.instrument == instrument and r.id in decided_on and r.total is not None
        ]
        return found[-1] if found else None


def _total(response: ScreeningResponse | None) -> InstrumentTotal | None:
    if response is None or response.total is None:
        return None
    return InstrumentTotal(
        response_id=str(response.id), at=response.completed_at, total=response.total
    )


def _rescreens(
    screening: _Screening, instrument: str, decided_on: frozenset[uuid.UUID]
) -> tuple[InstrumentTotal, ...]:
    """The instrument's totals given through screening, not with a check-in nor as the baseline
    the eligibility decision read."""
    return tuple(
        total
        for response in screening.responses
        if response.instrument == instrument
        and response.id not in screening.from_check_ins
        and response.id not in decided_on
        and (total := _total(response)) is not None
    )


def _baseline(
    screening: _Screening, decided_on: frozenset[uuid.UUID], intake: IntakeVersion | None
) -> ScreeningBaseline:
    audit = screening.decided(AUDIT_C, decided_on)
    history = None
    if intake is not None:
        data = IntakeData.model_validate(intake.data)
        history = SubstanceHistory(
            intake_id=str(intake.id),
            recorded_at=intake.created_at,
            uses=tuple(
                SubstanceUse(
                    substance=entry.substance.value,
                    ever=entry.ever,
                    last_12_months=entry.last_12_months,
                    current=entry.current,
                    prior_treatment=entry.prior_treatment,
                )
                for entry in data.substance_use
            ),
        )
    return ScreeningBaseline(
        dast10=_total(screening.decided(DAST10, decided_on)),
        audit_c=(
            AuditCResult(
                response_id=str(audit.id),
                at=audit.completed_at,
                total=audit.total,
                positive=audit.band == "positive",
            )
            if audit is not None and audit.total is not None
            else None
        ),
        sds=_total(screening.decided(SDS, decided_on)),
        substance_history=history,
    )


def _phq9(
    screening: _Screening, baseline: ScreeningResponse | None
) -> tuple[Phq9Score | None, list[Phq9Score]]:
    def score(response: ScreeningResponse, total: int) -> Phq9Score:
        source: Phq9Source = "check_in" if response.id in screening.from_check_ins else "screening"
        return Phq9Score(
            record_id=str(response.id), at=response.completed_at, total=total, source=source
        )

    first = None
    if baseline is not None and baseline.total is not None:
        first = score(baseline, baseline.total)
    later = [
        score(r, r.total)
        for r in screening.responses
        if r.instrument == PHQ9
        and r.total is not None
        and (baseline is None or (r.id != baseline.id and r.completed_at >= baseline.completed_at))
    ]
    return first, later


def _dsm5(responses: Iterable[ScreeningResponse]) -> list[Dsm5Checklist]:
    return [
        Dsm5Checklist(
            record_id=str(r.id),
            at=r.completed_at,
            criteria_met=frozenset(item for item, answer in r.answers.items() if answer == 1),
            supervised=bool(r.scoring_context.get("supervised")),
        )
        for r in responses
        if r.instrument == DSM5
    ]


def build_timeline(
    db: Session, patient_id: uuid.UUID, clinic: Clinic
) -> tuple[TreatmentPlan, PatientTimeline] | None:
    """The current plan and the timeline under it; None while no plan has been approved."""
    # The dependence watch follows the plan the patient is on.
    plan = latest_approved_plan(db, patient_id)
    if plan is None or plan.approved_at is None:
        return None
    sessions = db.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.plan_id == plan.id)
        .order_by(TreatmentSession.scheduled_at)
    )
    dosed, booked, reports = _sessions(sessions)
    checkins = list(
        db.scalars(
            select(Checkin).where(Checkin.patient_id == patient_id).order_by(Checkin.completed_at)
        )
    )
    from_check_ins = frozenset(
        response_id
        for checkin in checkins
        for response_id in (
            checkin.phq9_response_id,
            checkin.sds_response_id,
            checkin.icsi_response_id,
        )
        if response_id is not None
    )
    screening = _Screening(
        responses=list(
            db.scalars(
                select(ScreeningResponse)
                .where(
                    ScreeningResponse.patient_id == patient_id,
                    ScreeningResponse.instrument.in_(READ_INSTRUMENTS),
                )
                .order_by(ScreeningResponse.completed_at, ScreeningResponse.created_at)
            )
        ),
        from_check_ins=from_check_ins,
    )
    totals = {r.id: r.total for r in screening.responses if r.id in from_check_ins}
    decided_on: frozenset[uuid.UUID] = frozenset()
    if plan.eligibility_decision_id is not None:
        decision = db.get_one(EligibilityDecision, plan.eligibility_decision_id)
        decided_on = frozenset(uuid.UUID(str(i)) for i in decision.screening_response_ids)
    intake = db.scalar(
        select(IntakeVersion).where(
            IntakeVersion.patient_id == patient_id, IntakeVersion.superseded_at.is_(None)
        )
    )
    phq9_baseline, phq9_later = _phq9(screening, screening.decided(PHQ9, decided_on))
    requests = db.scalars(select(SessionRequest).where(SessionRequest.plan_id == plan.id))
    timeline = PatientTimeline(
        patient_id=str(patient_id),
        plan=PlanRecord(
            plan_id=str(plan.id),
            dose_mg=plan.dose_mg,
            max_dose_mg=_max_dose_mg(db, plan),
            start_date=plan.start_date,
            timezone=clinic.timezone,
        ),
        baseline=_baseline(screening, decided_on, intake),
        sessions=tuple(dosed),
        booked_overrides=tuple(booked),
        pre_dose_reports=tuple(reports),
        phq9_baseline=phq9_baseline,
        phq9=tuple(phq9_later),
        check_ins=tuple(_check_in(c, totals) for c in checkins if c.plan_id == plan.id),
        requests=tuple(
            RequestRecord(
                request_id=str(r.id),
                at=r.requested_at,
                kind=r.kind.value,
                decision=r.decision.value,
                details=r.details,
            )
            for r in requests
        ),
        dsm5_checklists=tuple(_dsm5(screening.responses)),
        sds_rescreens=_rescreens(screening, SDS, decided_on),
        icsi_rescreens=_rescreens(screening, ICSI, decided_on),
    )
    return plan, timeline

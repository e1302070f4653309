"""What the staff patient pages show: the clinic's patient list and a patient's chart, read through
the same service functions as the API (each read audited as the API audits it) and put in words.

Every clinical number shown comes from where it is defined: PHQ-9 response and remission from
`checkins/outcomes.py`, score ranges from the instrument definitions, plan limits from the
protocol definition, cut-offs the clinic sets from the clinic. This module only names them.
"""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit import service as audit
from ketaguard.audit.schemas import AccessHistoryEntry
from ketaguard.audit.service import AuditContext
from ketaguard.auth.models import User
from ketaguard.auth.permissions import Permission
from ketaguard.auth.scoping import patient_scope
from ketaguard.checkins import outcomes as outcome_rules
from ketaguard.checkins import service as checkins
from ketaguard.checkins.models import Checkin
from ketaguard.checkins.schemas import CRAVING_MAX
from ketaguard.clinics.models import Clinic
from ketaguard.dependence import referrals as referral_service
from ketaguard.dependence import service as dependence
from ketaguard.dependence.models import (
    DependenceDecision,
    DependenceReview,
    DependenceSignal,
    Referral,
    ReviewStatus,
)
from ketaguard.dependence.status import DependenceStatus
from ketaguard.intake import service as intake_service
from ketaguard.intake.models import IntakeVersion
from ketaguard.intake.schemas import IntakeData
from ketaguard.kit.errors import NotFound
from ketaguard.kit.time import utcnow
from ketaguard.patients import service as patients
from ketaguard.patients.models import Patient
from ketaguard.plans import service as plans
from ketaguard.plans.models import PlanStatus, TreatmentPlan
from ketaguard.protocols.definition import FixedDose, ProtocolDefinition
from ketaguard.protocols.scheduling import phase_for, week_of
from ketaguard.protocols.service import definition_of, version_by_id
from ketaguard.screening import decisions as eligibility
from ketaguard.screening import service as screening
from ketaguard.screening.decisions import age_on
from ketaguard.screening.instruments import INSTRUMENTS
from ketaguard.screening.models import EligibilityDecision, ScreeningResponse
from ketaguard.screening.schemas import DecisionOut
from ketaguard.sessions import booking
from ketaguard.sessions.limits import plan_facts
from ketaguard.sessions.models import SessionStatus, TreatmentSession
from ketaguard.web.dependence_view import PLAN_STATUS, SEVERITY_LABELS, STATUS_LABELS
from ketaguard.web.deps import Viewer
from ketaguard.web.display import time_formatter
from ketaguard.web.session_view import status_label
from ketaguard.web.trends import TrendChart, TrendLine, TrendMark, TrendPoint

When = Callable[[datetime | None], str]

# The words the eligibility API returns with every decision: shown beside it on the chart.
ELIGIBILITY_NOTICE = str(DecisionOut.model_fields["notice"].default)
DEPENDENCE_NOTICE = (
    "The dependence status is a recommendation worked out from the records below; it supports "
    "the prescriber's judgement and never replaces it. A prescriber reviews and decides."
)

ELIGIBILITY_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "eligible": "Eligible",
        "eligible_with_precautions": "Eligible with precautions",
        "not_eligible": "Not eligible",
        "needs_review": "Needs review",
    }
)
RISK_WORDS: Mapping[str, str] = MappingProxyType(
    {"low": "Low", "elevated": "Elevated", "high": "High"}
)
FINDING_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "blocks": "Blocks treatment",
        "review": "Needs review",
        "precaution": "Precaution",
        "info": "Information",
    }
)
OUTCOME_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "no_baseline": "No baseline PHQ-9 (the plan's signed eligibility decision has none)",
        "no_follow_up": "No PHQ-9 check-in under the plan yet",
        "no_response": "No response yet",
        "response": "Response",
        "remission": "Remission",
        "lost_response": "Response lost",
    }
)
EVENT_WORDS: Mapping[str, str] = MappingProxyType(
    {"response": "Response", "remission": "Remission", "loss_of_response": "Response lost"}
)
INDICATION_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "trd": "Treatment-resistant depression",
        "mdd_with_suicidal_ideation": "Major depression with suicidal thoughts",
        "ptsd": "PTSD",
        "chronic_pain": "Chronic pain",
        "other": "Other",
    }
)
CONTRAINDICATION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "aneurysmal_vascular_disease": "Aneurysmal vascular disease",
        "arteriovenous_malformation": "Arteriovenous malformation",
        "intracerebral_hemorrhage_history": "History of bleeding in the brain",
        "hypersensitivity_ketamine_or_esketamine": "Allergy to ketamine or esketamine",
    }
)
CONDITION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "uncontrolled_hypertension": "Uncontrolled high blood pressure",
        "psychosis_history": "History of psychosis",
        "hypertensive_encephalopathy_history": "History of hypertensive encephalopathy",
        "hepatic_impairment": "Liver impairment",
        "cognitive_impairment": "Cognitive impairment",
    }
)
# Short names for the instruments charted and listed; the rest use the definition's title.
SHORT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "phq9": "PHQ-9",
        "gad7": "GAD-7",
        "sds": "SDS",
        "icsi": "ICSI",
        "pcl5": "PCL-5",
        "cssrs-screen": "C-SSRS screen",
        "dast10": "DAST-10",
        "audit-c": "AUDIT-C",
        "ketamine-use-disorder": "DSM-5 ketamine use disorder checklist",
    }
)
CHART_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "phq9": "PHQ-9 (depression)",
        "gad7": "GAD-7 (anxiety)",
        "sds": "SDS (severity of dependence)",
        "icsi": "ICSI (bladder symptoms)",
    }
)
CHARTED = ("phq9", "gad7", "sds", "icsi")
# Where a piece of dependence evidence is shown on the chart (its section's anchor).
EVIDENCE_ANCHORS: Mapping[str, str] = MappingProxyType(
    {
        "plan": "#plans",
        "check_in": "#checkins",
        "screening_response": "#screenings",
        "session_request": "#plans",
        "intake": "#intake",
    }
)
# What each audit action did to the record, in words; any other action is shown as recorded.
ACTION_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "patient.create": "registered the patient",
        "patient.read": "opened the record",
        "patient.update": "changed the patient's details",
        "break_glass.open": "opened emergency access",
        "intake.read": "read the intake",
        "intake.update": "recorded the intake",
        "eligibility.read": "read eligibility",
        "eligibility.compute": "worked out eligibility",
        "eligibility.sign_off": "signed off eligibility",
        "eligibility.override": "signed off eligibility with an override",
        "screening.read": "read screenings",
        "screening.create": "recorded a screening",
        "checkin.read": "read check-ins",
        "checkin.create": "recorded a check-in",
        "checkin.due.read": "read due check-ins",
        "checkin.outcomes.read": "read PHQ-9 outcomes",
        "checkin.schedule.read": "read the check-in schedule",
        "checkin.schedule.adjust": "changed the check-in schedule",
        "plan.read": "read plans",
        "plan.create": "made a plan",
        "plan.approve": "approved a plan",
        "plan.status": "changed a plan's status",
        "session.book": "booked a session",
        "session.book.override": "booked a session past the plan's limits",
        "session.cancel": "cancelled a session",
        "session.read": "read a session",
        "request.create": "recorded a request",
        "request.decide": "decided a request",
        "dependence.read": "read the dependence watch",
        "dependence.review.read": "read dependence reviews",
        "dependence.review.open": "opened a dependence review",
        "dependence.review.decide": "decided a dependence review",
        "referral.read": "read referrals",
        "referral.create": "made a referral",
        "referral.update": "changed a referral",
        "referral.status": "changed a referral's status",
        "alert.acknowledge": "acknowledged an alert",
        "audit.read": "read who looked at the record",
        "auth.permission_denied": "was refused",
    }
)
# How many groups of accesses the chart lists; the admin audit report has them all.
ACCESS_ROWS_SHOWN = 50


def instrument_name(instrument_id: str) -> str:
    if instrument_id in SHORT_NAMES:
        return SHORT_NAMES[instrument_id]
    found = INSTRUMENTS.get(instrument_id)
    return found.title if found else instrument_id


def yes_no(value: bool | None) -> str:
    return "Not asked yet" if value is None else ("Yes" if value else "No")


def user_names(db: Session, ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


# --- The patient list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    patient: Patient
    clinic: str
    plan_status: str
    dependence: DependenceStatus
    dependence_words: str


def latest_plans(
    db: Session, viewer: Viewer, patient_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, TreatmentPlan]:
    """Each listed patient's newest plan, through the same scope as the list."""
    if not patient_ids:
        return {}
    latest: dict[uuid.UUID, TreatmentPlan] = {}
    for plan in db.scalars(
        select(TreatmentPlan)
        .join(Patient, Patient.id == TreatmentPlan.patient_id)
        .where(
            Patient.id.in_(patient_ids), patient_scope(viewer.principal, Permission.patient_read)
        )
        .order_by(TreatmentPlan.created_at)
    ):
        latest[plan.patient_id] = plan
    return latest


def patient_list(db: Session, viewer: Viewer, context: AuditContext, name: str) -> list[ListRow]:
    """The patients in the viewer's scope (the API's list), with their newest plan's status and
    their dependence status (the API's worklist; a patient not on it has none)."""
    found = patients.list_patients(db, viewer.principal, context, name=name)
    watched = {
        row.patient.id: row.status
        for row in dependence.worklist(db, viewer.principal, context, None)
    }
    plans_by_patient = latest_plans(db, viewer, [p.id for p in found])
    clinics = {
        clinic_id: clinic_name
        for clinic_id, clinic_name in db.execute(
            select(Clinic.id, Clinic.name).where(Clinic.id.in_({p.clinic_id for p in found}))
        )
    }
    rows = []
    for patient in found:
        plan = plans_by_patient.get(patient.id)
        status = watched.get(patient.id, DependenceStatus.none)
        rows.append(
            ListRow(
                patient=patient,
                clinic=clinics.get(patient.clinic_id, ""),
                plan_status=PLAN_STATUS[plan.status] if plan else "No plan",
                dependence=status,
                dependence_words=STATUS_LABELS[status],
            )
        )
    return rows


# --- Intake -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    label: str
    value: str
    flagged: bool  # an answer a clinician should see first (a yes, or not asked yet)


@dataclass(frozen=True)
class IntakeView:
    version: IntakeVersion
    recorded_by: str
    about: list[Answer]
    contraindications: list[Answer]
    conditions: list[Answer]
    data: IntakeData


def intake_view(version: IntakeVersion, names: Mapping[uuid.UUID, str]) -> IntakeView:
    data = IntakeData.model_validate(version.data)
    indications = [INDICATION_WORDS[i.value] for i in data.indications]
    if data.indication_other:
        indications.append(data.indication_other)
    weight = "Not recorded"
    if data.weight is not None:
        weight = f"{data.weight.kg:g} kg (measured {data.weight.measured_on.isoformat()})"
    about = [
        Answer("Sex", data.sex.value.capitalize(), False),
        Answer("Weight", weight, data.weight is None),
        Answer("Indications", ", ".join(indications), False),
        Answer("Pregnant", yes_no(data.pregnant), bool(data.pregnant)),
        Answer("Breastfeeding", yes_no(data.breastfeeding), bool(data.breastfeeding)),
        Answer(
            "Family history of substance use disorder",
            yes_no(data.family_history_sud),
            bool(data.family_history_sud),
        ),
    ]
    contraindications = [
        Answer(label, yes_no(value), value is not False)
        for name, label in CONTRAINDICATION_LABELS.items()
        for value in [getattr(data.contraindications, name)]
    ]
    conditions = []
    for name, label in CONDITION_LABELS.items():
        value = getattr(data.relative_conditions, name)
        if isinstance(value, str):
            conditions.append(Answer(label, value.capitalize(), value != "none"))
        else:
            conditions.append(Answer(label, yes_no(value), value is not False))
    return IntakeView(
        version=version,
        recorded_by=names.get(version.recorded_by_id, ""),
        about=about,
        contraindications=contraindications,
        conditions=conditions,
        data=data,
    )


# --- Eligibility --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    rule_id: str
    severity: str
    message: str
    evidence: list[tuple[str, str]]
    source: str


@dataclass(frozen=True)
class DecisionView:
    decision: EligibilityDecision
    computed: str
    computed_risk: str
    final: str | None
    final_risk: str | None
    signed_off_by: str
    eligibility_reasons: list[FindingView]
    risk_reasons: list[FindingView]


def _evidence_value(value: object) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def finding_view(finding: Mapping[str, object]) -> FindingView:
    evidence = finding.get("evidence")
    items = evidence.items() if isinstance(evidence, Mapping) else ()
    severity = str(finding.get("severity", ""))
    return FindingView(
        rule_id=str(finding.get("rule_id", "")),
        severity=FINDING_WORDS.get(severity, severity),
        message=str(finding.get("message", "")),
        evidence=[(str(key), _evidence_value(value)) for key, value in items],
        source=str(finding.get("source", "")),
    )


def decision_view(decision: EligibilityDecision, names: Mapping[uuid.UUID, str]) -> DecisionView:
    final = decision.final_eligibility
    final_risk = decision.final_risk_tier
    return DecisionView(
        decision=decision,
        computed=ELIGIBILITY_WORDS.get(decision.computed_eligibility, "?"),
        computed_risk=RISK_WORDS.get(decision.computed_risk_tier, "?"),
        final=ELIGIBILITY_WORDS.get(final, final) if final else None,
        final_risk=RISK_WORDS.get(final_risk, final_risk) if final_risk else None,
        signed_off_by=names.get(decision.signed_off_by_id, "") if decision.signed_off_by_id else "",
        eligibility_reasons=[finding_view(f) for f in decision.eligibility_reasons],
        risk_reasons=[finding_view(f) for f in decision.risk_reasons],
    )


# --- Screenings, check-ins and trends -----------------------------------------------------------


@dataclass(frozen=True)
class ScreeningRow:
    response: ScreeningResponse
    name: str
    from_checkin: bool


@dataclass(frozen=True)
class CheckinRow:
    checkin: Checkin
    phq9: int | None
    sds: int | None
    icsi: int | None


@dataclass(frozen=True)
class OutcomesView:
    plan: TreatmentPlan | None
    status: str
    baseline: outcome_rules.Score | None
    baseline_in_measure: bool
    days_to_response: int | None
    events: list[tuple[str, datetime, int]]
    definitions: dict[str, str]


def _range(instrument_id: str) -> tuple[int, int] | None:
    instrument = INSTRUMENTS.get(instrument_id)
    return instrument.total_range if instrument else None


def phq9_lines(found: checkins.PlanOutcomes) -> list[TrendLine]:
    """Where remission and, from this plan's baseline, response lie (checkins/outcomes.py)."""
    lines = [
        TrendLine(
            float(outcome_rules.REMISSION_BELOW),
            f"Remission: below {outcome_rules.REMISSION_BELOW}",
        )
    ]
    baseline = found.outcomes.baseline
    if baseline is not None and baseline.total > 0:
        at_most = baseline.total * (1 - outcome_rules.RESPONSE_FALL)
        # The label stays short to fit the chart; the outcome summary names the baseline.
        lines.append(TrendLine(float(at_most), f"Response: at most {float(at_most):g}"))
    return lines


def trend_charts(
    responses: Sequence[ScreeningResponse],
    checkin_rows: Sequence[CheckinRow],
    found: checkins.PlanOutcomes,
    clinic: Clinic,
) -> list[TrendChart]:
    """PHQ-9, GAD-7, SDS and ICSI totals (screenings and check-ins alike are stored as screening
    responses) and craving from check-ins, each on its instrument's own range."""
    charts = []
    for instrument_id in CHARTED:
        total_range = _range(instrument_id)
        low, high = total_range if total_range else (0, None)
        points = [
            TrendPoint(r.completed_at, float(r.total))
            for r in responses
            if r.instrument == instrument_id and r.total is not None
        ]
        lines: list[TrendLine] = []
        marks: list[TrendMark] = []
        if instrument_id == "phq9":
            lines = phq9_lines(found)
            marks = [
                TrendMark(event.completed_at, EVENT_WORDS[event.kind])
                for event in found.outcomes.events
            ]
        elif instrument_id == "sds" and clinic.sds_cutoff is not None:
            lines = [
                TrendLine(float(clinic.sds_cutoff), f"The clinic's cut-off: {clinic.sds_cutoff}")
            ]
        axis = f"{SHORT_NAMES[instrument_id]} total"
        if high is not None:
            axis += f" ({low}-{high})"
        charts.append(
            TrendChart(
                key=instrument_id,
                title=CHART_TITLES[instrument_id],
                axis=axis,
                points=points,
                y_min=low,
                y_max=high,
                lines=lines,
                marks=marks,
            )
        )
    charts.append(
        TrendChart(
            key="craving",
            title="Craving (check-ins)",
            axis=f"Craving (0-{CRAVING_MAX})",
            points=[
                TrendPoint(row.checkin.completed_at, float(row.checkin.craving))
                for row in checkin_rows
                if row.checkin.craving is not None
            ],
            y_min=0,
            y_max=CRAVING_MAX,
        )
    )
    return charts


def outcomes_view(found: checkins.PlanOutcomes) -> OutcomesView:
    result = found.outcomes
    return OutcomesView(
        plan=found.plan,
        status=OUTCOME_WORDS[result.status],
        baseline=result.baseline,
        baseline_in_measure=result.baseline_in_measure,
        days_to_response=result.days_to_response,
        events=[(EVENT_WORDS[e.kind], e.completed_at, e.total) for e in result.events],
        definitions=checkins.outcome_definitions(found.loss_after),
    )


# --- Plans and sessions -------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseRow:
    name: str
    weeks: str
    max_per_7_days: int
    min_interval: str
    allowed_mg: str
    current: bool


@dataclass(frozen=True)
class SessionRow:
    session: TreatmentSession
    status: str
    linked: bool


@dataclass(frozen=True)
class PlanView:
    plan: TreatmentPlan
    title: str
    protocol: str
    status: str
    week: int | None
    phase: str | None
    phases: list[PhaseRow]
    limits: list[tuple[str, str]]
    sessions: list[SessionRow]
    can_book: bool


def _mg(values: Sequence[float]) -> str:
    return ", ".join(f"{mg:g}" for mg in values) + " mg"


def plan_limits(
    definition: ProtocolDefinition, plan: TreatmentPlan, counted: int
) -> list[tuple[str, str]]:
    """The plan's dose and course limits in words, every number from the protocol definition."""
    dose = definition.dose
    limits: list[tuple[str, str]] = [("Planned dose", f"{plan.dose_mg:g} mg")]
    if isinstance(dose, FixedDose):
        limits += [
            ("Allowed doses", _mg(dose.allowed_mg.value)),
            ("First dose", f"{dose.first_dose_mg.value:g} mg"),
            ("Most in one session", f"{dose.max_per_session_mg.value:g} mg"),
        ]
        if dose.max_step_up_mg is not None:
            limits.append(("Largest step up", f"{dose.max_step_up_mg.value:g} mg"))
    else:
        limits += [
            (
                "Dose range",
                f"{dose.min_mg_per_kg.value:g}-{dose.max_mg_per_kg.value:g} mg/kg",
            )
        ]
        if dose.max_step_up_mg_per_kg is not None:
            limits.append(("Largest step up", f"{dose.max_step_up_mg_per_kg.value:g} mg/kg"))
    course = definition.course
    if course.max_weeks is not None:
        limits.append(("Longest course", f"{course.max_weeks.value} weeks"))
    sessions = f"{counted} booked or given"
    if course.max_sessions is not None:
        sessions += f" of at most {course.max_sessions.value}"
    limits.append(("Sessions", sessions))
    if plan.planned_end_date is not None:
        limits.append(("Planned end", plan.planned_end_date.isoformat()))
    return limits


def plan_view(
    db: Session,
    viewer: Viewer,
    plan: TreatmentPlan,
    clinic: Clinic,
    sessions: Sequence[TreatmentSession],
) -> PlanView:
    version = version_by_id(db, plan.protocol_version_id)
    definition = definition_of(version)
    facts = plan_facts(plan, definition, clinic.timezone)
    now = utcnow()
    week: int | None = week_of(facts, now)
    current = phase_for(facts, week) if week is not None and week >= 1 else None
    if plan.status in (PlanStatus.draft, PlanStatus.completed, PlanStatus.discontinued):
        week, current = None, None
    phases = [
        PhaseRow(
            name=phase.name,
            weeks=(
                f"Week {phase.start_week} onwards"
                if phase.end_week is None
                else f"Weeks {phase.start_week}-{phase.end_week}"
            ),
            max_per_7_days=phase.max_sessions_per_7_days.value,
            min_interval=(
                f"{phase.min_interval_hours.value:g} hours"
                if phase.min_interval_hours
                else "Not set by the protocol"
            ),
            allowed_mg=_mg(phase.allowed_mg.value) if phase.allowed_mg else "The plan's doses",
            current=current is not None and phase.name == current.name,
        )
        for phase in definition.phases
    ]
    counted = sum(1 for s in sessions if s.status is not SessionStatus.cancelled)
    can_run = viewer.principal.can(Permission.session_run, clinic.id)
    return PlanView(
        plan=plan,
        title=definition.title,
        protocol=f"{version.protocol_key}, version {version.version}",
        status=PLAN_STATUS[plan.status],
        week=week,
        phase=current.name if current else None,
        phases=phases,
        limits=plan_limits(definition, plan, counted),
        sessions=[
            SessionRow(
                session=s,
                status=status_label(s.status),
                linked=can_run and s.status is not SessionStatus.cancelled,
            )
            for s in sorted(sessions, key=lambda s: s.scheduled_at, reverse=True)
        ],
        can_book=plan.status is PlanStatus.active
        and viewer.principal.can(Permission.session_book, clinic.id),
    )


# --- The dependence watch -----------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    description: str
    href: str | None


@dataclass(frozen=True)
class SignalRow:
    signal: DependenceSignal
    severity: str
    raised_from: str | None
    evidence: list[EvidenceRow]
    raised_by: list[EvidenceRow]
    deciding: bool


@dataclass(frozen=True)
class ReviewRow:
    review: DependenceReview
    severity: str
    open: bool
    overdue: bool
    assigned_to: str
    decision: DependenceDecision | None
    decided_by: str


@dataclass(frozen=True)
class DependenceView:
    status: DependenceStatus
    status_words: str
    explanation: list[str]
    signals: list[SignalRow]
    switched_off: list[str]
    reviews: list[ReviewRow]
    referrals: list[Referral]


def _evidence_rows(items: Sequence[Mapping[str, object]], session_links: bool) -> list[EvidenceRow]:
    rows = []
    for item in items:
        kind, record_id = str(item.get("kind")), str(item.get("record_id"))
        href = EVIDENCE_ANCHORS.get(kind)
        if kind == "session":
            href = f"/sessions/{record_id}" if session_links else "#plans"
        rows.append(EvidenceRow(str(item.get("description", "")), href))
    return rows


def dependence_view(
    found: dependence.PatientDependence,
    reviews: Sequence[tuple[DependenceReview, DependenceDecision | None]],
    referrals: Sequence[Referral],
    names: Mapping[uuid.UUID, str],
    session_links: bool,
) -> DependenceView:
    assessment = found.assessment
    deciding = set(found.deciding)
    now = utcnow()
    signals = [
        SignalRow(
            signal=row,
            severity=SEVERITY_LABELS[row.severity],
            raised_from=SEVERITY_LABELS[row.raised_from] if row.raised_from else None,
            evidence=_evidence_rows(row.evidence, session_links),
            raised_by=_evidence_rows(row.raised_by, session_links),
            deciding=row.id in deciding,
        )
        for row in sorted(found.open_signals, key=lambda s: -s.severity.rank)
    ]
    review_rows = [
        ReviewRow(
            review=review,
            severity=SEVERITY_LABELS[review.severity],
            open=review.status is ReviewStatus.open,
            overdue=review.status is ReviewStatus.open and review.due_at <= now,
            assigned_to=names.get(review.assigned_to_id, "") if review.assigned_to_id else "",
            decision=decision,
            decided_by=names.get(decision.decided_by_id, "") if decision else "",
        )
        for review, decision in reviews
    ]
    return DependenceView(
        status=assessment.status,
        status_words=STATUS_LABELS[assessment.status],
        explanation=[line for line in assessment.explanation.splitlines() if line.strip()],
        signals=signals,
        switched_off=[item.reason for item in assessment.switched_off],
        reviews=review_rows,
        referrals=list(referrals),
    )


# --- Access history -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    by: str
    role: str | None
    actions: list[str]  # the audit actions, as recorded
    refused: bool

    @property
    def words(self) -> str:
        return "; ".join(ACTION_WORDS.get(action, action) for action in self.actions)


def access_rows(entries: Sequence[AccessHistoryEntry]) -> list[AccessRow]:
    """Who opened or changed the record, newest first. One look at a page records several reads
    (intake, screenings, plans...): consecutive events by the same person in the same minute are
    shown as one row naming them all."""
    rows: list[AccessRow] = []
    for entry in entries:
        minute = entry.occurred_at.replace(second=0, microsecond=0)
        refused = entry.outcome.value != "success"
        last = rows[-1] if rows else None
        if (
            last is not None
            and last.by == entry.by
            and last.role == entry.role
            and last.at.replace(second=0, microsecond=0) == minute
            and last.refused == refused
        ):
            # Entries come newest first; a row names its actions in the order they happened.
            if entry.action not in last.actions:
                last.actions.insert(0, entry.action)
            continue
        if len(rows) == ACCESS_ROWS_SHOWN:
            break
        rows.append(AccessRow(entry.occurred_at, entry.by, entry.role, [entry.action], refused))
    return rows


# --- The chart ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    patient: Patient
    clinic: Clinic
    age: int
    when: When
    intake: IntakeView | None
    decisions: list[DecisionView]
    screenings: list[ScreeningRow]
    checkins: list[CheckinRow]
    trends: list[TrendChart]
    outcomes: OutcomesView
    plans: list[PlanView]
    dependence: DependenceView
    access: list[AccessRow]
    break_glass: bool


def chart(db: Session, viewer: Viewer, context: AuditContext, patient_id: uuid.UUID) -> Chart:
    """The chart, read section by section through the API's own service functions, so each read
    is scoped and audited exactly as the API's is. Outside the viewer's scope: NotFound."""
    principal = viewer.principal
    patient = patients.read_patient(db, principal, context, patient_id)
    clinic = db.get_one(Clinic, patient.clinic_id)
    try:
        versions = intake_service.read_intake(db, principal, context, patient.id)
    except NotFound:
        versions = []
    decisions = eligibility.decisions(db, principal, context, patient.id)
    responses, _ = screening.history(db, principal, context, patient.id)
    checkin_list = checkins.checkins_of(db, principal, context, patient.id)
    totals = checkins.questionnaire_totals(db, checkin_list)
    found_outcomes = checkins.plan_outcomes(db, principal, context, patient.id, None)
    plan_list = plans.plans_of(db, principal, context, patient.id)
    sessions = {plan.id: booking.sessions_of(db, principal, plan.id) for plan in plan_list}
    found_dependence = dependence.patient_dependence(db, principal, context, patient.id)
    reviews = dependence.reviews_of(db, principal, context, patient.id)
    referral_list = referral_service.referrals_of(db, principal, context, patient.id)
    entries = audit.access_history(db, patient.id)
    audit.record(
        db,
        context,
        "audit.read",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        resource_type="access_history",
    )

    names = user_names(
        db,
        [
            *(v.recorded_by_id for v in versions[:1]),
            *(d.signed_off_by_id for d in decisions),
            *(review.assigned_to_id for review, _ in reviews),
            *(decision.decided_by_id for _, decision in reviews if decision),
            *(referral.referred_by_id for referral in referral_list),
        ],
    )
    checkin_responses = {
        response_id
        for c in checkin_list
        for response_id in (c.phq9_response_id, c.sds_response_id, c.icsi_response_id)
        if response_id is not None
    }
    checkin_rows = [
        CheckinRow(
            checkin=c,
            phq9=totals.get(c.phq9_response_id) if c.phq9_response_id else None,
            sds=totals.get(c.sds_response_id) if c.sds_response_id else None,
            icsi=totals.get(c.icsi_response_id) if c.icsi_response_id else None,
        )
        for c in checkin_list
    ]
    return Chart(
        patient=patient,
        clinic=clinic,
        age=age_on(patient.date_of_birth, utcnow().astimezone(ZoneInfo(clinic.timezone)).date()),
        when=time_formatter(ZoneInfo(clinic.timezone)),
        intake=intake_view(versions[0], names) if versions else None,
        decisions=[decision_view(d, names) for d in decisions],
        screenings=[
            ScreeningRow(r, instrument_name(r.instrument), r.id in checkin_responses)
            for r in reversed(responses)
        ],
        checkins=list(reversed(checkin_rows)),
        trends=trend_charts(responses, checkin_rows, found_outcomes, clinic),
        outcomes=outcomes_view(found_outcomes),
        plans=[plan_view(db, viewer, p, clinic, sessions[p.id]) for p in plan_list],
        dependence=dependence_view(
            found_dependence,
            reviews,
            referral_list,
            names,
            session_links=principal.can(Permission.session_run, clinic.id),
        ),
        access=access_rows(entries),
        break_glass=patient.clinic_id not in principal.clinics_with(Permission.patient_read),
    )

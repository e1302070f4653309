"""Synthetic timelines for the dependence detectors: small builders, test thresholds, and the four
end-to-end scenarios with the signals and status each must give.

Importable by database-level tests, which can store the same records and expect the same signals.
Every number here is a test value, not a recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ketaguard.dependence.signals import Severity
from ketaguard.dependence.status import DependenceStatus
from ketaguard.dependence.thresholds import SignalThresholds
from ketaguard.dependence.timeline import (
    AuditCResult,
    BookedOverride,
    CheckIn,
    DosedSession,
    InstrumentTotal,
    OutsideUse,
    PatientTimeline,
    Phq9Score,
    PlanRecord,
    PreDoseReport,
    RequestDecision,
    RequestKind,
    RequestRecord,
    ScreeningBaseline,
    SubstanceHistory,
)
from ketaguard.screening.findings import SubstanceUse

ZONE = "America/New_York"
START = date(2026, 1, 5)
# 09:00 in New York on the plan's first day.
DAY0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)

# Test values for the clinic's settings (the reference gives none of them).
THRESHOLDS = SignalThresholds(
    craving_threshold=7,
    craving_rising_reports=3,
    rising_dose_sessions=3,
    repeated_requests=2,
    repeated_requests_days=30,
    sds_rising_scores=2,
    icsi_rising_scores=3,
    phq9_fading_rise_points=None,
    sds_cutoff=None,
)

# A clinic that has set none of its numbers: only the rules that need none of them run.
UNSET = SignalThresholds(
    craving_threshold=None,
    craving_rising_reports=None,
    rising_dose_sessions=None,
    repeated_requests=None,
    repeated_requests_days=None,
    sds_rising_scores=None,
    icsi_rising_scores=None,
    phq9_fading_rise_points=None,
    sds_cutoff=None,
)

# Esketamine: 56 mg to start, at most 84 mg per session (the built-in protocol's limits).
ESKETAMINE_PLAN = PlanRecord(
    plan_id="plan-esk", dose_mg=56, max_dose_mg=84, start_date=START, timezone=ZONE
)
# IV ketamine 0.5 mg/kg for 70 kg, at most 0.75 mg/kg (the built-in protocol's limits).
IV_PLAN = PlanRecord(
    plan_id="plan-iv", dose_mg=35, max_dose_mg=52.5, start_date=START, timezone=ZONE
)

CLEAN_BASELINE = ScreeningBaseline(
    dast10=InstrumentTotal(response_id="dast-0", at=DAY0 - timedelta(days=7), total=0),
    audit_c=AuditCResult(
        response_id="auditc-0", at=DAY0 - timedelta(days=7), total=2, positive=False
    ),
    sds=InstrumentTotal(response_id="sds-0", at=DAY0 - timedelta(days=7), total=1),
    substance_history=SubstanceHistory(intake_id="intake-1", recorded_at=DAY0, uses=()),
)


def on(day: float, hour: float = 0) -> datetime:
    """``day`` days and ``hour`` hours after 09:00 New York time on the plan's first day."""
    return DAY0 + timedelta(days=day, hours=hour)


def dosed(
    session_id: str,
    day: float,
    given: float,
    planned: float | None = None,
    *,
    overridden: tuple[str, ...] = (),
    reason: str | None = None,
) -> DosedSession:
    return DosedSession(
        session_id=session_id,
        dosed_at=on(day),
        planned_dose_mg=given if planned is None else planned,
        given_dose_mg=given,
        overridden_rules=overridden,
        override_reason=reason,
    )


def booked(session_id: str, day: float, dose: float = 84, *, reason: str) -> BookedOverride:
    """A session booked on ``day`` for two days later past the plan's limits, not dosed yet."""
    return BookedOverride(
        session_id=session_id,
        booked_at=on(day),
        scheduled_at=on(day + 2),
        planned_dose_mg=dose,
        overridden_rules=("too_many_in_7_days",),
        override_reason=reason,
    )


def pre_dose(
    session_id: str, day: float, *, craving: int | None = None, use: str | None = None
) -> PreDoseReport:
    return PreDoseReport(session_id=session_id, at=on(day, -1), craving=craving, substance_use=use)


def phq9(record_id: str, day: float, total: int, source: str = "check_in") -> Phq9Score:
    return Phq9Score(
        record_id=record_id,
        at=on(day),
        total=total,
        source="screening" if source == "screening" else "check_in",
    )


def check_in(check_in_id: str, day: float, **facts: object) -> CheckIn:
    return CheckIn(check_in_id=check_in_id, at=on(day), **facts)  # type: ignore[arg-type]


def request(
    request_id: str, at: datetime, kind: RequestKind, decision: RequestDecision = "declined"
) -> RequestRecord:
    return RequestRecord(request_id=request_id, at=at, kind=kind, decision=decision)


def use(substance: str, **flags: bool) -> SubstanceUse:
    fields = {"ever": True, "last_12_months": False, "current": False, "prior_treatment": False}
    fields.update(flags)
    return SubstanceUse(substance=substance, **fields)


def timeline(plan: PlanRecord = ESKETAMINE_PLAN, **records: object) -> PatientTimeline:
    return PatientTimeline(patient_id="patient-1", plan=plan, **records)  # type: ignore[arg-type]


# --- The four scenarios --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    timeline: PatientTimeline
    thresholds: SignalThresholds
    # (rule_id, severity) of every signal `evaluate` gives, in its order.
    expected: tuple[tuple[str, Severity], ...]
    status: DependenceStatus


# Esketamine twice a week for 4 weeks, then weekly: 56 mg, then 84 mg from the second session
# (titration within the plan). PHQ-9 20 falls to a response and stays there; craving low and not
# rising; no outside use; bladder questions asked and all no; a clean screening baseline apart
# from drinking, which the AUDIT-C weighs (negative).
_BENIGN_DAYS = (0, 3, 7, 10, 14, 17, 21, 24, 31, 38)


def benign_course() -> Scenario:
    sessions = tuple(
        dosed(f"s{n}", day, 56 if n == 0 else 84) for n, day in enumerate(_BENIGN_DAYS)
    )
    reports = tuple(
        pre_dose(f"s{n}", day, craving=(0, 1)[n % 2]) for n, day in enumerate(_BENIGN_DAYS)
    )
    check_ins = tuple(
        check_in(
            f"c{n}",
            day,
            craving=craving,
            urinary=frozenset(),
            icsi_total=icsi,
            sds_total=sds,
        )
        for n, (day, craving, icsi, sds) in enumerate(
            ((6, 1, 1, 1), (13, 0, 1, None), (20, 1, 0, 1), (27, 0, 1, None), (41, 1, 0, 1))
        )
    )
    baseline = ScreeningBaseline(
        dast10=CLEAN_BASELINE.dast10,
        audit_c=CLEAN_BASELINE.audit_c,
        sds=CLEAN_BASELINE.sds,
        substance_history=SubstanceHistory(
            intake_id="intake-1",
            recorded_at=DAY0 - timedelta(days=7),
            uses=(use("alcohol", last_12_months=True, current=True),),
        ),
    )
    return Scenario(
        name="benign course",
        timeline=timeline(
            baseline=baseline,
            sessions=sessions,
            pre_dose_reports=reports,
            phq9_baseline=phq9("phq-0", -7, 20, "screening"),
            phq9=(
                phq9("phq-c0", 6, 15),
                phq9("phq-c1", 13, 10),
                phq9("phq-c2", 20, 8),
                phq9("phq-c3", 27, 7),
                phq9("phq-c4", 41, 6),
            ),
            check_ins=check_ins,
        ),
        thresholds=THRESHOLDS,
        expected=(),
        status=DependenceStatus.none,
    )


# IV ketamine: six infusions at 35 mg bring PHQ-9 22 down to a response (10); then 40 mg is given
# against 35 mg planned, and the dose climbs 40, 45, 50 mg while PHQ-9 climbs back to 15. The
# patient asks once for a higher dose.
def dose_escalation_with_fading_response() -> Scenario:
    induction = tuple(dosed(f"s{n}", day, 35) for n, day in enumerate((0, 2, 4, 7, 9, 11)))
    later = (
        dosed("s6", 28, 35),
        dosed("s7", 42, 40, planned=35),
        dosed("s8", 49, 45),
        dosed("s9", 56, 50),
    )
    return Scenario(
        name="dose escalation with fading response",
        timeline=timeline(
            IV_PLAN,
            baseline=CLEAN_BASELINE,
            sessions=induction + later,
            phq9_baseline=phq9("phq-0", -7, 22, "screening"),
            phq9=(
                phq9("phq-c1", 7, 14),
                phq9("phq-c2", 14, 10),
                phq9("phq-c3", 28, 9),
                phq9("phq-c4", 45, 13),
                phq9("phq-c5", 60, 15),
            ),
            check_ins=tuple(
                check_in(f"c{n}", day, craving=craving)
                for n, day, craving in ((1, 7, 2), (2, 14, 2), (3, 28, 3), (4, 45, 3), (5, 60, 3))
            ),
            requests=(request("r1", on(40), "higher_dose"),),
        ),
        thresholds=THRESHOLDS,
        expected=(
            ("dose_escalation.above_plan", Severity.review_needed),
            ("dose_escalation.rising", Severity.watch),
            ("tolerance.fading_response", Severity.watch),
            ("drug_seeking.request", Severity.watch),
        ),
        status=DependenceStatus.review_needed,
    )


# Esketamine, with cannabis use in the last 12 months at intake. At a check-in the patient reports
# ketamine from outside the clinic and cannabis, with craving 8; before the next session a nurse
# notes use since the last one in free text.
def reported_outside_use() -> Scenario:
    baseline = ScreeningBaseline(
        dast10=InstrumentTotal(response_id="dast-0", at=on(-7), total=2),
        audit_c=CLEAN_BASELINE.audit_c,
        substance_history=SubstanceHistory(
            intake_id="intake-1",
            recorded_at=on(-7),
            uses=(use("cannabis", last_12_months=True),),
        ),
    )
    outside = (
        OutsideUse(
            substance="ketamine", used_on=date(2026, 1, 24), amount="2 bumps", is_ketamine=True
        ),
        OutsideUse(substance="cannabis", used_on=None, amount=None, is_ketamine=False),
    )
    return Scenario(
        name="reported outside use",
        timeline=timeline(
            baseline=baseline,
            sessions=tuple(dosed(f"s{n}", day, 56) for n, day in enumerate((0, 3, 7, 10, 14))),
            pre_dose_reports=(
                pre_dose("s4", 14, craving=3),
                pre_dose("s5", 24, craving=5, use="Used ketamine at a party on Saturday"),
            ),
            check_ins=(check_in("c1", 20, craving=8, outside_use=outside),),
        ),
        thresholds=THRESHOLDS,
        expected=(
            ("outside_use.ketamine", Severity.urgent),
            ("outside_use.other_substance", Severity.review_needed),
            ("outside_use.unspecified", Severity.review_needed),
            ("craving.at_or_above_threshold", Severity.review_needed),
            ("baseline_risk.substance_history", Severity.info),
        ),
        status=DependenceStatus.urgent,
    )


# Esketamine, weekly. Bladder questions all no at the first two check-ins, then daytime frequency
# and urgency, then bladder pain as well; the ICSI climbs 1, 3, 6, 9.
def bladder_symptoms() -> Scenario:
    return Scenario(
        name="bladder symptoms",
        timeline=timeline(
            baseline=CLEAN_BASELINE,
            sessions=tuple(dosed(f"s{n}", 7 * n, 84) for n in range(8)),
            check_ins=(
                check_in("c1", 6, urinary=frozenset(), icsi_total=1),
                check_in("c2", 20, urinary=frozenset(), icsi_total=3),
                check_in(
                    "c3", 34, urinary=frozenset({"daytime_frequency", "urgency"}), icsi_total=6
                ),
                check_in(
                    "c4",
                    48,
                    urinary=frozenset({"daytime_frequency", "urgency", "bladder_pain"}),
                    icsi_total=9,
                ),
            ),
        ),
        thresholds=THRESHOLDS,
        expected=(
            ("urinary_symptoms.new_symptoms", Severity.review_needed),
            ("urinary_symptoms.new_symptoms", Severity.review_needed),
            ("urinary_symptoms.icsi_rising", Severity.watch),
        ),
        status=DependenceStatus.review_needed,
    )


SCENARIOS = (
    benign_course,
    dose_escalation_with_fading_response,
    reported_outside_use,
    bladder_symptoms,
)

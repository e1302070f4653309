"""Each dependence detector: one table row per outcome, both sides of every threshold."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from ketaguard.dependence.detectors import (
    DETECTORS,
    Detector,
    baseline_risk,
    craving,
    dose_escalation,
    drug_seeking,
    dsm5_criteria,
    evaluate,
    memory_complaint,
    outside_use,
    sds,
    tolerance,
    urinary_symptoms,
    weigh_by_baseline,
    withdrawal_like,
)
from ketaguard.dependence.signals import DETECTOR_IDS, Severity, Signal
from ketaguard.dependence.thresholds import SignalThresholds
from ketaguard.dependence.timeline import (
    AuditCResult,
    Dsm5Checklist,
    InstrumentTotal,
    OutsideUse,
    PatientTimeline,
    ScreeningBaseline,
    SubstanceHistory,
)
from tests.dependence.scenarios import (
    DAY0,
    ESKETAMINE_PLAN,
    IV_PLAN,
    THRESHOLDS,
    UNSET,
    booked,
    check_in,
    dosed,
    on,
    phq9,
    pre_dose,
    request,
    timeline,
    use,
)

INFO, WATCH, REVIEW, URGENT = (
    Severity.info,
    Severity.watch,
    Severity.review_needed,
    Severity.urgent,
)


@dataclass(frozen=True)
class Row:
    detector: Detector
    timeline: PatientTimeline
    # (rule_id, severity) of every signal, in order.
    expected: tuple[tuple[str, Severity], ...]
    thresholds: SignalThresholds = THRESHOLDS
    says: tuple[str, ...] = ()  # phrases the summaries must contain


def iv(*doses: float) -> PatientTimeline:
    return timeline(IV_PLAN, sessions=tuple(dosed(f"s{n}", n, d) for n, d in enumerate(doses)))


# Tolerance: PHQ-9 from `baseline` through `scores` (one every 7 days from day 7), dosed the day
# before each score at `doses` (35 mg each unless given).
def course(
    baseline: int | None, *scores: int, doses: tuple[float, ...] | None = None
) -> PatientTimeline:
    given = doses or (35,) * len(scores)
    return timeline(
        IV_PLAN,
        phq9_baseline=None if baseline is None else phq9("p0", 0, baseline, "screening"),
        phq9=tuple(phq9(f"p{n}", 7 * n, total) for n, total in enumerate(scores, start=1)),
        sessions=tuple(dosed(f"s{n}", 7 * n - 1, d) for n, d in enumerate(given, start=1)),
    )


def cravings(*scores: int) -> PatientTimeline:
    return timeline(check_ins=tuple(check_in(f"c{n}", n, craving=s) for n, s in enumerate(scores)))


def sds_totals(first: int | None, *totals: int) -> PatientTimeline:
    return timeline(
        baseline=ScreeningBaseline(
            sds=None
            if first is None
            else InstrumentTotal(response_id="sds-0", at=on(-7), total=first)
        ),
        check_ins=tuple(check_in(f"c{n}", 7 * n, sds_total=t) for n, t in enumerate(totals, 1)),
    )


def checklist(*criteria: str, supervised: bool = True, day: float = 30) -> Dsm5Checklist:
    return Dsm5Checklist(
        record_id=f"kud-{day}",
        at=on(day),
        criteria_met=frozenset(f"kud-{c}" for c in criteria),
        supervised=supervised,
    )


def urinary(*reports: frozenset[str] | None, icsi: tuple[int, ...] = ()) -> PatientTimeline:
    return timeline(
        check_ins=tuple(
            check_in(f"c{n}", 7 * n, urinary=r, icsi_total=icsi[n] if icsi else None)
            for n, r in enumerate(reports)
        )
    )


def used(*uses: OutsideUse) -> PatientTimeline:
    return timeline(check_ins=(check_in("c1", 10, outside_use=uses),))


def drug(name: str, *, ketamine: bool = False) -> OutsideUse:
    return OutsideUse(substance=name, used_on=date(2026, 1, 10), amount=None, is_ketamine=ketamine)


def history(*uses: object) -> PatientTimeline:
    return timeline(
        baseline=ScreeningBaseline(
            substance_history=SubstanceHistory(intake_id="i1", recorded_at=DAY0, uses=uses)  # type: ignore[arg-type]
        )
    )


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in New York in March 2026 (DST starts on the 8th)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=ESKETAMINE_PLAN.zone)


WEEK = replace(THRESHOLDS, repeated_requests_days=7)

ROWS = {
    # --- dose_escalation -------------------------------------------------------------------------
    "dose as planned": Row(dose_escalation, iv(35), ()),
    "within the float tolerance of the plan": Row(
        dose_escalation, timeline(IV_PLAN, sessions=(dosed("s1", 1, 35.0005, planned=35),)), ()
    ),
    "given above planned": Row(
        dose_escalation,
        timeline(IV_PLAN, sessions=(dosed("s1", 1, 40, planned=35),)),
        (("dose_escalation.above_plan", REVIEW),),
        says=("5 mg more than the 35 mg planned",),
    ),
    "given exactly at the protocol maximum": Row(
        dose_escalation,
        timeline(IV_PLAN, sessions=(dosed("s1", 1, 52.5, planned=35),)),
        (("dose_escalation.above_plan", REVIEW),),
    ),
    "given above the protocol maximum": Row(
        dose_escalation,
        timeline(IV_PLAN, sessions=(dosed("s1", 1, 53, planned=35),)),
        (("dose_escalation.above_maximum", URGENT),),
        says=("above the protocol's maximum of 52.5 mg",),
    ),
    "dose rising at each of the last 3 sessions": Row(
        dose_escalation,
        iv(40, 35, 40, 45),
        (("dose_escalation.rising", WATCH),),
        says=("35 mg, 40 mg, 45 mg",),
    ),
    "dose up then level: not rising": Row(dose_escalation, iv(35, 45, 45), ()),
    "two rises, fewer sessions than the setting": Row(dose_escalation, iv(35, 45), ()),
    "dose rising, the clinic has set no count: off": Row(
        dose_escalation,
        iv(40, 35, 40, 45),
        (),
        thresholds=replace(THRESHOLDS, rising_dose_sessions=None),
    ),
    "above the protocol maximum with no clinic settings at all": Row(
        dose_escalation,
        timeline(IV_PLAN, sessions=(dosed("s1", 1, 53, planned=35),)),
        (("dose_escalation.above_maximum", URGENT),),
        thresholds=UNSET,
    ),
    "one rise when the setting is 2 sessions": Row(
        dose_escalation,
        iv(35, 45),
        (("dose_escalation.rising", WATCH),),
        thresholds=replace(THRESHOLDS, rising_dose_sessions=2),
    ),
    # --- tolerance -------------------------------------------------------------------------------
    "no PHQ-9 baseline": Row(tolerance, course(None, 8, 15), ()),
    "baseline 9: response not judged": Row(tolerance, course(9, 4, 9), ()),
    "baseline 10: response lost at the same dose": Row(
        tolerance,
        course(10, 5, 6),
        (("tolerance.fading_response", WATCH),),
        says=("no longer a response (a response is 5 or less)", "35 mg at the response, 35 mg now"),
    ),
    "a fall just short of 50% is no response": Row(tolerance, course(20, 11, 18), ()),
    "a fall of exactly 50% is a response, then lost": Row(
        tolerance, course(20, 10, 11), (("tolerance.fading_response", WATCH),)
    ),
    "still a response at the latest score": Row(tolerance, course(20, 8, 10), ()),
    "lost at a higher dose": Row(
        tolerance,
        course(20, 8, 15, doses=(35, 45)),
        (("tolerance.fading_response", WATCH),),
        says=("35 mg at the response, 45 mg now",),
    ),
    "lost at a lower dose: not tolerance": Row(tolerance, course(20, 8, 15, doses=(35, 30)), ()),
    "the latest score is the first response": Row(tolerance, course(20, 14, 8), ()),
    "lost with no session since the response": Row(
        tolerance,
        timeline(
            IV_PLAN,
            phq9_baseline=phq9("p0", 0, 20, "screening"),
            phq9=(phq9("p1", 7, 8), phq9("p2", 14, 15)),
            sessions=(dosed("s1", 6, 35),),
        ),
        (),
    ),
    "rise from the lowest reaches the clinic's setting": Row(
        tolerance,
        course(20, 8, 4, 7),
        (("tolerance.fading_response", WATCH),),
        thresholds=replace(THRESHOLDS, phq9_fading_rise_points=3),
        says=("3 points above the lowest score since the response (4",),
    ),
    "rise from the lowest short of the clinic's setting": Row(
        tolerance,
        course(20, 8, 4, 6),
        (),
        thresholds=replace(THRESHOLDS, phq9_fading_rise_points=3),
    ),
    "rise from the lowest, no setting: still a response": Row(tolerance, course(20, 8, 4, 9), ()),
    # --- drug_seeking ----------------------------------------------------------------------------
    "one request": Row(
        drug_seeking,
        timeline(requests=(request("r1", on(5), "earlier", "granted"),)),
        (("drug_seeking.request", WATCH),),
        says=("Asked for an earlier session", "(granted)"),
    ),
    "two requests 29 days apart": Row(
        drug_seeking,
        timeline(requests=(request("r1", on(1), "extra"), request("r2", on(30), "higher_dose"))),
        (
            ("drug_seeking.request", WATCH),
            ("drug_seeking.request", WATCH),
            ("drug_seeking.repeated_requests", REVIEW),
        ),
        says=("2 requests for extra, earlier or higher-dose sessions within 30 calendar days",),
    ),
    "two requests 29 days apart, the clinic has set no count: off": Row(
        drug_seeking,
        timeline(requests=(request("r1", on(1), "extra"), request("r2", on(30), "higher_dose"))),
        (("drug_seeking.request", WATCH), ("drug_seeking.request", WATCH)),
        thresholds=replace(THRESHOLDS, repeated_requests=None),
    ),
    "two requests on one day, the clinic has set no window: off": Row(
        drug_seeking,
        timeline(requests=(request("r1", on(1), "extra"), request("r2", on(1, 2), "extra"))),
        (("drug_seeking.request", WATCH), ("drug_seeking.request", WATCH)),
        thresholds=replace(THRESHOLDS, repeated_requests_days=None),
    ),
    "two requests 30 days apart": Row(
        drug_seeking,
        timeline(requests=(request("r1", on(1), "extra"), request("r2", on(31), "extra"))),
        (("drug_seeking.request", WATCH), ("drug_seeking.request", WATCH)),
    ),
    "two requests 6 local days apart across the DST change": Row(
        drug_seeking,
        timeline(
            requests=(request("r1", local(2, 9), "extra"), request("r2", local(8, 9), "extra"))
        ),
        (
            ("drug_seeking.request", WATCH),
            ("drug_seeking.request", WATCH),
            ("drug_seeking.repeated_requests", REVIEW),
        ),
        thresholds=WEEK,
    ),
    # Under 7 x 24 hours apart (the clocks went forward), but 7 local days: outside the window.
    "two requests 7 local days apart across the DST change": Row(
        drug_seeking,
        timeline(
            requests=(request("r1", local(1, 10), "extra"), request("r2", local(8, 9, 30), "extra"))
        ),
        (("drug_seeking.request", WATCH), ("drug_seeking.request", WATCH)),
        thresholds=WEEK,
    ),
    "a session booked under an override": Row(
        drug_seeking,
        timeline(
            sessions=(
                dosed(
                    "s1",
                    3,
                    84,
                    overridden=("too_soon_after_previous",),
                    reason="Patient travelling next week",
                ),
            )
        ),
        (("drug_seeking.override", WATCH),),
        says=("too soon after previous", '"Patient travelling next week"'),
    ),
    "a session booked under an override, not dosed yet": Row(
        drug_seeking,
        timeline(booked_overrides=(booked("s2", 4, reason="Asked to come back early"),)),
        (("drug_seeking.override", WATCH),),
        says=("A session for 2026-01-11 is booked past", '"Asked to come back early"'),
    ),
    "no clinic settings: requests and overrides are still watched": Row(
        drug_seeking,
        timeline(
            requests=(request("r1", on(1), "extra"),),
            booked_overrides=(booked("s2", 4, reason="Asked to come back early"),),
        ),
        (("drug_seeking.request", WATCH), ("drug_seeking.override", WATCH)),
        thresholds=UNSET,
    ),
    # --- outside_use -----------------------------------------------------------------------------
    "ketamine outside the clinic": Row(
        outside_use,
        used(drug("ketamine", ketamine=True)),
        (("outside_use.ketamine", URGENT),),
        says=("ketamine, on 2026-01-10",),
    ),
    "another substance": Row(
        outside_use, used(drug("cannabis")), (("outside_use.other_substance", WATCH),)
    ),
    "tobacco is not counted": Row(outside_use, used(drug("Tobacco")), ()),
    "ketamine and another substance at one check-in": Row(
        outside_use,
        used(drug("cannabis"), drug("special K", ketamine=True)),
        (("outside_use.ketamine", URGENT), ("outside_use.other_substance", WATCH)),
    ),
    "substance use noted before a session": Row(
        outside_use,
        timeline(pre_dose_reports=(pre_dose("s1", 3, use="a few drinks at the weekend"),)),
        (("outside_use.unspecified", REVIEW),),
        says=('"a few drinks at the weekend"',),
    ),
    "no use noted before a session": Row(
        outside_use, timeline(pre_dose_reports=(pre_dose("s1", 3, craving=2),)), ()
    ),
    # --- craving ---------------------------------------------------------------------------------
    "craving just below the threshold": Row(craving, cravings(6), ()),
    "craving at the threshold": Row(
        craving,
        cravings(7),
        (("craving.at_or_above_threshold", REVIEW),),
        says=("Craving 7/10", "threshold of 7"),
    ),
    "craving rising over 3 reports": Row(
        craving, cravings(5, 2, 3, 4), (("craving.rising", WATCH),), says=("2, 3, 4",)
    ),
    "craving up then level": Row(craving, cravings(2, 3, 3), ()),
    "craving 10, the clinic has set no threshold: off": Row(
        craving, cravings(10), (), thresholds=replace(THRESHOLDS, craving_threshold=None)
    ),
    "craving rising, the clinic has set no count: off": Row(
        craving, cravings(2, 3, 4), (), thresholds=replace(THRESHOLDS, craving_rising_reports=None)
    ),
    "craving rising across check-ins and pre-dose reports": Row(
        craving,
        timeline(
            check_ins=(check_in("c1", 1, craving=2), check_in("c3", 3, craving=4)),
            pre_dose_reports=(pre_dose("s2", 2, craving=3),),
        ),
        (("craving.rising", WATCH),),
    ),
    "craving high and rising": Row(
        craving,
        cravings(6, 7, 8),
        (
            ("craving.at_or_above_threshold", REVIEW),
            ("craving.at_or_above_threshold", REVIEW),
            ("craving.rising", WATCH),
        ),
    ),
    # --- sds -------------------------------------------------------------------------------------
    "no clinic cut-off: a high SDS alone is not read": Row(sds, sds_totals(None, 12), ()),
    "just below the clinic's cut-off": Row(
        sds, sds_totals(None, 3), (), thresholds=replace(THRESHOLDS, sds_cutoff=4)
    ),
    "at the clinic's cut-off": Row(
        sds,
        sds_totals(None, 4),
        (("sds.at_or_above_cutoff", REVIEW),),
        thresholds=replace(THRESHOLDS, sds_cutoff=4),
        says=("cut-off of 4",),
    ),
    "SDS rising from the screening baseline": Row(
        sds, sds_totals(2, 3), (("sds.rising", WATCH),), says=("2, 3 (of 15)",)
    ),
    "SDS level": Row(sds, sds_totals(3, 3), ()),
    "SDS rising, the clinic has set no count: off": Row(
        sds, sds_totals(2, 3), (), thresholds=replace(THRESHOLDS, sds_rising_scores=None)
    ),
    "SDS rising, no cut-off: the trend only": Row(
        sds, sds_totals(4, 6, 9), (("sds.rising", WATCH),)
    ),
    "SDS re-screened at the clinic between check-ins, in time order": Row(
        sds,
        replace(
            sds_totals(2, 5),
            sds_rescreens=(InstrumentTotal(response_id="sds-r", at=on(3), total=3),),
        ),
        (("sds.rising", WATCH),),
        says=("3, 5 (of 15)",),
    ),
    "an SDS re-screen at the clinic's cut-off": Row(
        sds,
        replace(
            sds_totals(None),
            sds_rescreens=(InstrumentTotal(response_id="sds-r", at=on(3), total=4),),
        ),
        (("sds.at_or_above_cutoff", REVIEW),),
        thresholds=replace(THRESHOLDS, sds_cutoff=4),
    ),
    # --- dsm5_criteria ---------------------------------------------------------------------------
    "no checklist": Row(dsm5_criteria, timeline(), ()),
    "no criteria met": Row(dsm5_criteria, timeline(dsm5_checklists=(checklist(),)), ()),
    "one criterion": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(4),)),
        (("dsm5_criteria.below_threshold", WATCH),),
        says=("counts 1 of 10 criteria (craving)",),
    ),
    "two criteria: mild": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(2, 4),)),
        (("dsm5_criteria.mild", REVIEW),),
        says=("mild use disorder", "2-3 mild, 4-5 moderate, 6-10 severe"),
    ),
    "three criteria: mild": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(1, 2, 4),)),
        (("dsm5_criteria.mild", REVIEW),),
    ),
    "four criteria: moderate": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(1, 2, 3, 4),)),
        (("dsm5_criteria.moderate", URGENT),),
    ),
    "five criteria: moderate": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(1, 2, 3, 4, 5),)),
        (("dsm5_criteria.moderate", URGENT),),
    ),
    "six criteria: severe": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(1, 2, 3, 4, 5, 6),)),
        (("dsm5_criteria.severe", URGENT),),
    ),
    "tolerance not counted under supervision": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(4, 10),)),
        (("dsm5_criteria.below_threshold", WATCH),),
        says=("Tolerance was met but is not counted",),
    ),
    "tolerance counted without supervision": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(4, 10, supervised=False),)),
        (("dsm5_criteria.mild", REVIEW),),
    ),
    "the latest checklist replaces an older one": Row(
        dsm5_criteria,
        timeline(dsm5_checklists=(checklist(4, day=40), checklist(1, 2, 3, 4, 5, 6, day=20))),
        (("dsm5_criteria.below_threshold", WATCH),),
    ),
    # --- urinary_symptoms ------------------------------------------------------------------------
    "symptoms at the first check-in asking": Row(
        urinary_symptoms,
        urinary(None, frozenset({"daytime_frequency"})),
        (("urinary_symptoms.new_symptoms", REVIEW),),
        says=("daytime frequency (none recorded before)",),
    ),
    "a new symptom since the last check-in asking": Row(
        urinary_symptoms,
        urinary(frozenset(), None, frozenset({"haematuria", "nocturia"})),
        (("urinary_symptoms.new_symptoms", REVIEW),),
        says=("haematuria, nocturia (not reported on 2026-01-05)",),
    ),
    "the same symptom again is not new": Row(
        urinary_symptoms,
        urinary(frozenset({"urgency"}), None, frozenset({"urgency"})),
        (("urinary_symptoms.new_symptoms", REVIEW),),
    ),
    "no symptoms": Row(urinary_symptoms, urinary(frozenset(), frozenset()), ()),
    "a symptom back after a check-in without it": Row(
        urinary_symptoms,
        urinary(frozenset({"dysuria"}), frozenset(), frozenset({"dysuria"})),
        (("urinary_symptoms.new_symptoms", REVIEW), ("urinary_symptoms.new_symptoms", REVIEW)),
    ),
    "ICSI rising over 3 check-ins": Row(
        urinary_symptoms,
        urinary(None, None, None, icsi=(1, 2, 3)),
        (("urinary_symptoms.icsi_rising", WATCH),),
        says=("1, 2, 3 (of 20)",),
    ),
    "ICSI up then level": Row(urinary_symptoms, urinary(None, None, None, icsi=(1, 2, 2)), ()),
    "ICSI rising through a re-screen at the clinic": Row(
        urinary_symptoms,
        replace(
            urinary(None, None, icsi=(1, 3)),
            icsi_rescreens=(InstrumentTotal(response_id="icsi-r", at=on(3), total=2),),
        ),
        (("urinary_symptoms.icsi_rising", WATCH),),
        says=("1, 2, 3 (of 20)",),
    ),
    "ICSI rising, the clinic has set no count: off": Row(
        urinary_symptoms,
        urinary(None, None, None, icsi=(1, 2, 3)),
        (),
        thresholds=replace(THRESHOLDS, icsi_rising_scores=None),
    ),
    "new symptoms with no clinic settings at all": Row(
        urinary_symptoms,
        urinary(frozenset(), frozenset({"urgency"}), icsi=(1, 2)),
        (("urinary_symptoms.new_symptoms", REVIEW),),
        thresholds=UNSET,
    ),
    # --- memory_complaint, withdrawal_like -------------------------------------------------------
    "memory complaint": Row(
        memory_complaint,
        timeline(check_ins=(check_in("c1", 3, memory_complaint=True), check_in("c2", 9))),
        (("memory_complaint.reported", WATCH),),
    ),
    "no memory complaint": Row(memory_complaint, timeline(check_ins=(check_in("c1", 3),)), ()),
    "withdrawal-like symptoms": Row(
        withdrawal_like,
        timeline(
            check_ins=(check_in("c1", 3, withdrawal_like=frozenset({"low_mood", "fatigue"})),)
        ),
        (("withdrawal_like.reported", INFO),),
        says=("fatigue, low mood",),
    ),
    # --- baseline_risk ---------------------------------------------------------------------------
    "DAST-10 just below 3": Row(
        baseline_risk,
        timeline(
            baseline=ScreeningBaseline(dast10=InstrumentTotal(response_id="d", at=DAY0, total=2))
        ),
        (),
    ),
    "DAST-10 at 3": Row(
        baseline_risk,
        timeline(
            baseline=ScreeningBaseline(dast10=InstrumentTotal(response_id="d", at=DAY0, total=3))
        ),
        (("baseline_risk.dast10", INFO),),
    ),
    "AUDIT-C positive": Row(
        baseline_risk,
        timeline(
            baseline=ScreeningBaseline(
                audit_c=AuditCResult(response_id="a", at=DAY0, total=4, positive=True)
            )
        ),
        (("baseline_risk.audit_c_positive", INFO),),
    ),
    "AUDIT-C negative": Row(
        baseline_risk,
        timeline(
            baseline=ScreeningBaseline(
                audit_c=AuditCResult(response_id="a", at=DAY0, total=2, positive=False)
            )
        ),
        (),
    ),
    "past non-medical ketamine use": Row(
        baseline_risk,
        history(use("ketamine")),
        (("baseline_risk.ketamine_history", INFO),),
        says=("Non-medical ketamine use (past)",),
    ),
    "cannabis in the last 12 months": Row(
        baseline_risk,
        history(use("cannabis", last_12_months=True)),
        (("baseline_risk.substance_history", INFO),),
    ),
    "cannabis only longer ago": Row(baseline_risk, history(use("cannabis")), ()),
    "current drinking is the AUDIT-C's to weigh": Row(
        baseline_risk, history(use("alcohol", last_12_months=True, current=True)), ()
    ),
    "past treatment for alcohol use": Row(
        baseline_risk,
        history(use("alcohol", prior_treatment=True)),
        (("baseline_risk.substance_history", INFO),),
    ),
    "current tobacco": Row(
        baseline_risk, history(use("tobacco", last_12_months=True, current=True)), ()
    ),
}


@pytest.mark.parametrize("name", ROWS)
def test_detector_row(name: str) -> None:
    row = ROWS[name]
    signals = row.detector(row.timeline, row.thresholds)
    assert [(s.rule_id, s.severity) for s in signals] == list(row.expected)
    assert all(s.detector == row.detector.__name__ for s in signals)
    summaries = " ".join(s.summary for s in signals)
    for phrase in row.says:
        assert phrase in summaries


def test_every_detector_has_rows_and_an_id() -> None:
    assert {d.__name__ for d in DETECTORS} == set(DETECTOR_IDS)
    assert {row.detector for row in ROWS.values()} == set(DETECTORS)


def test_tolerance_set_aside_is_said_only_under_supervision() -> None:
    supervised = dsm5_criteria(timeline(dsm5_checklists=(checklist(4, 10),)), THRESHOLDS)
    unsupervised = dsm5_criteria(
        timeline(dsm5_checklists=(checklist(4, 10, supervised=False),)), THRESHOLDS
    )
    assert "not counted" in supervised[0].summary
    assert "(craving; tolerance)" in unsupervised[0].summary
    assert "not counted" not in unsupervised[0].summary


def test_a_clinic_setting_is_named_in_the_source() -> None:
    signals = craving(cravings(7), THRESHOLDS)
    assert "this clinic's setting, not from the clinical reference; review locally" in (
        signals[0].source
    )


def test_evidence_links_to_the_records() -> None:
    row = ROWS["two requests 29 days apart"]
    repeated = drug_seeking(row.timeline, row.thresholds)[-1]
    assert [(e.kind, e.record_id) for e in repeated.evidence] == [
        ("session_request", "r1"),
        ("session_request", "r2"),
    ]
    assert repeated.key == ("drug_seeking.repeated_requests:session_request/r1,session_request/r2")
    assert repeated.at == on(30)


def test_dates_are_shown_in_the_clinic_timezone() -> None:
    # 02:00 UTC on 10 January is still 9 January in New York.
    late = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
    timeline_ = timeline(requests=(request("r1", late, "extra"),))
    assert "on 2026-01-09" in drug_seeking(timeline_, THRESHOLDS)[0].summary


# --- Baseline risk weighs the other signals ------------------------------------------------------

HIGH_RISK = ScreeningBaseline(dast10=InstrumentTotal(response_id="d", at=DAY0, total=5))


def test_baseline_risk_raises_info_and_watch_one_level() -> None:
    timeline_ = timeline(
        baseline=HIGH_RISK,
        check_ins=(
            check_in("c1", 3, memory_complaint=True, withdrawal_like=frozenset({"anxiety"})),
        ),
    )
    signals = {s.rule_id: s for s in evaluate(timeline_, THRESHOLDS)}
    memory, withdrawal = signals["memory_complaint.reported"], signals["withdrawal_like.reported"]
    assert (memory.severity, memory.raised_from) == (REVIEW, WATCH)
    assert (withdrawal.severity, withdrawal.raised_from) == (WATCH, INFO)
    assert [e.record_id for e in memory.raised_by] == ["d"]
    assert signals["baseline_risk.dast10"].severity == INFO
    assert signals["baseline_risk.dast10"].raised_from is None


def test_baseline_risk_leaves_review_needed_and_urgent() -> None:
    timeline_ = timeline(
        IV_PLAN,
        baseline=HIGH_RISK,
        sessions=(dosed("s1", 1, 40, planned=35), dosed("s2", 2, 53, planned=35)),
    )
    signals = evaluate(timeline_, THRESHOLDS)
    assert [(s.rule_id, s.severity, s.raised_from) for s in signals] == [
        ("dose_escalation.above_plan", REVIEW, None),
        ("dose_escalation.above_maximum", URGENT, None),
        ("baseline_risk.dast10", INFO, None),
    ]


def test_without_baseline_risk_nothing_is_raised() -> None:
    timeline_ = timeline(check_ins=(check_in("c1", 3, memory_complaint=True),))
    signals = evaluate(timeline_, THRESHOLDS)
    assert [(s.severity, s.raised_from) for s in signals] == [(WATCH, None)]
    assert weigh_by_baseline(signals) == signals


def test_baseline_risk_alone_is_info() -> None:
    signals = evaluate(timeline(baseline=HIGH_RISK), THRESHOLDS)
    assert [(s.rule_id, s.severity) for s in signals] == [("baseline_risk.dast10", INFO)]


def test_signal_refuses_a_rule_of_another_detector() -> None:
    evidence = craving(cravings(7), THRESHOLDS)[0].evidence
    with pytest.raises(ValueError, match="must start with"):
        Signal(
            detector="craving",
            rule_id="sds.rising",
            severity=WATCH,
            summary="",
            evidence=evidence,
            source="",
        )


def test_a_booked_override_keeps_its_key_once_dosed() -> None:
    reason = "Asked to come back early"
    before = drug_seeking(timeline(booked_overrides=(booked("s2", 4, reason=reason),)), THRESHOLDS)
    dosed_later = timeline(
        sessions=(dosed("s2", 6, 84, overridden=("too_many_in_7_days",), reason=reason),)
    )
    after = drug_seeking(dosed_later, THRESHOLDS)
    assert [s.key for s in before] == [s.key for s in after] == ["drug_seeking.override:session/s2"]

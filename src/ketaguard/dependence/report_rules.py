"""Detectors on what patients report and clinicians record: use outside sessions, craving, the
SDS, the DSM-5 criteria count, urinary and bladder symptoms, memory complaints and withdrawal-like
symptoms. See ``detectors``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ketaguard.dependence.evidence import (
    CLINIC_SETTING,
    Point,
    check_in_evidence,
    listed_values,
    local_day,
    make_signal,
    pre_dose_evidence,
    record_evidence,
    rising_tail,
    symptom_names,
)
from ketaguard.dependence.signals import Severity, Signal
from ketaguard.dependence.thresholds import SignalThresholds
from ketaguard.dependence.timeline import (
    CRAVING_RANGE,
    ICSI_RANGE,
    SDS_RANGE,
    OutsideUse,
    PatientTimeline,
)
from ketaguard.screening.findings import NOT_COUNTED_SUBSTANCES
from ketaguard.screening.instruments.base import band_for
from ketaguard.screening.instruments.ketamine_use_disorder import BANDS as DSM5_BANDS
from ketaguard.screening.instruments.ketamine_use_disorder import ITEMS as DSM5_ITEMS
from ketaguard.screening.instruments.ketamine_use_disorder import TOLERANCE

# --- Use outside sessions ------------------------------------------------------------------------


def _described(use: OutsideUse) -> str:
    when = None if use.used_on is None else f"on {use.used_on:%Y-%m-%d}"
    return ", ".join(part for part in (use.substance, use.amount, when) if part)


def outside_use(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """Ketamine use outside the clinic reported at a check-in → urgent. Use of another substance
    (tobacco aside, as in the baseline risk rules) → watch. Substance use noted in free text
    before a session → review_needed: the substance is not coded, so ketamine cannot be ruled
    out. One signal per check-in and kind, or per pre-dose report."""
    signals = []
    for check_in in timeline.check_ins:
        ketamine = [u for u in check_in.outside_use if u.is_ketamine]
        other = [
            u
            for u in check_in.outside_use
            if not u.is_ketamine and u.substance.strip().casefold() not in NOT_COUNTED_SUBSTANCES
        ]
        day = local_day(timeline, check_in.at)
        if ketamine:
            uses = "; ".join(_described(u) for u in ketamine)
            signals.append(
                make_signal(
                    "outside_use",
                    "ketamine",
                    Severity.urgent,
                    f"Ketamine use outside the clinic reported at the check-in of {day}: {uses}.",
                    (
                        check_in_evidence(
                            timeline, check_in, f"ketamine outside the clinic ({uses})"
                        ),
                    ),
                    "§7: use outside sessions or non-prescribed ketamine (DSM-5 criteria 1-3 "
                    "[S113]; ASA diversion point [S54]); label: abuse and misuse [S2][S37] §1.8",
                )
            )
        if other:
            names = ", ".join(dict.fromkeys(u.substance for u in other))
            signals.append(
                make_signal(
                    "outside_use",
                    "other_substance",
                    Severity.watch,
                    f"Use of {names} outside sessions reported at the check-in of {day}.",
                    (check_in_evidence(timeline, check_in, f"use of {names}"),),
                    "§7: use outside sessions (DSM-5 criteria 1-3 [S113]); label: substance use "
                    "raises the risk of abuse [S2][S37][S3] §1.8",
                )
            )
    for report in timeline.pre_dose_reports:
        if report.substance_use is not None:
            note = report.substance_use.strip()
            signals.append(
                make_signal(
                    "outside_use",
                    "unspecified",
                    Severity.review_needed,
                    f"Substance use since the last session was noted before the session of "
                    f'{local_day(timeline, report.at)}: "{note}". The substance is not coded, so '
                    "ketamine cannot be ruled out: read the note.",
                    (pre_dose_evidence(timeline, report, f'substance use "{note}"'),),
                    "§7: use outside sessions (DSM-5 criteria 1-3 [S113]); label: abuse and "
                    "misuse [S2][S37] §1.8",
                )
            )
    return signals


# --- Craving -------------------------------------------------------------------------------------

_CRAVING_MAX = CRAVING_RANGE[1]


def _craving(score: int) -> str:
    return f"craving {score}/{_CRAVING_MAX}"


def craving(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """Craving (from check-ins and pre-dose reports, in time order) at or above
    ``craving_threshold`` → review_needed, per report. Higher at each of the last
    ``craving_rising_reports`` reports → watch. Each is off while the clinic has not set its
    number."""
    points = [
        Point(c.craving, c.at, check_in_evidence(timeline, c, _craving(c.craving)))
        for c in timeline.check_ins
        if c.craving is not None
    ] + [
        Point(r.craving, r.at, pre_dose_evidence(timeline, r, _craving(r.craving)))
        for r in timeline.pre_dose_reports
        if r.craving is not None
    ]
    points.sort(key=lambda p: (p.at, p.evidence.record_id))
    source = (
        "DSM-5 criterion 4, craving [S113] §4.1; a sign of dependence [S116] §4.2; §7. The "
        f"threshold is this clinic's setting, {CLINIC_SETTING}"
    )
    threshold = thresholds.craving_threshold
    signals = [
        make_signal(
            "craving",
            "at_or_above_threshold",
            Severity.review_needed,
            f"Craving {point.value:g}/{_CRAVING_MAX} on {local_day(timeline, point.at)}, at or "
            f"above this clinic's threshold of {threshold}.",
            (point.evidence,),
            source,
        )
        for point in points
        if threshold is not None and point.value >= threshold
    ]
    reports = thresholds.craving_rising_reports
    rising = () if reports is None else rising_tail(points, reports)
    if rising:
        signals.append(
            make_signal(
                "craving",
                "rising",
                Severity.watch,
                f"Craving rose at each of the last {len(rising)} reports: {listed_values(rising)} "
                f"(of {_CRAVING_MAX}).",
                (p.evidence for p in rising),
                "DSM-5 criterion 4, craving [S113] §4.1; a sign of dependence [S116] §4.2; §7. "
                f"The number of reports is this clinic's setting, {CLINIC_SETTING}",
            )
        )
    return signals


# --- SDS -----------------------------------------------------------------------------------------

_SDS_SOURCE = "SDS [S86]-[S90] §3.1: no cut-off is validated for ketamine; §7: track the trend"


def sds(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """SDS totals (the screening baseline's, re-screening's and check-ins', in time order): each
    at or above the clinic's ``sds_cutoff`` → review_needed; higher at each of the last
    ``sds_rising_scores`` totals → watch. Each is off while the clinic has not set its number."""
    screened = [] if timeline.baseline.sds is None else [timeline.baseline.sds]
    points = [
        Point(
            t.total,
            t.at,
            record_evidence(timeline, "screening_response", t.response_id, t.at, f"SDS {t.total}"),
        )
        for t in (*screened, *timeline.sds_rescreens)
    ]
    for check_in in timeline.check_ins:
        if check_in.sds_total is not None:
            evidence = check_in_evidence(timeline, check_in, f"SDS {check_in.sds_total}")
            points.append(Point(check_in.sds_total, check_in.at, evidence))
    points.sort(key=lambda point: point.at)
    signals = []
    cutoff = thresholds.sds_cutoff
    if cutoff is not None:
        signals += [
            make_signal(
                "sds",
                "at_or_above_cutoff",
                Severity.review_needed,
                f"SDS {point.value:g} on {local_day(timeline, point.at)}, at or above this "
                f"clinic's cut-off of {cutoff}.",
                (point.evidence,),
                f"{_SDS_SOURCE}. The cut-off is this clinic's setting, {CLINIC_SETTING}",
            )
            for point in points
            if point.value >= cutoff
        ]
    totals = thresholds.sds_rising_scores
    rising = () if totals is None else rising_tail(points, totals)
    if rising:
        signals.append(
            make_signal(
                "sds",
                "rising",
                Severity.watch,
                f"The SDS rose at each of the last {len(rising)} totals: {listed_values(rising)} "
                f"(of {SDS_RANGE[1]}).",
                (p.evidence for p in rising),
                f"{_SDS_SOURCE}; rising SDS [S86] §7. The number of totals is this clinic's "
                f"setting, {CLINIC_SETTING}",
            )
        )
    return signals


# --- DSM-5 criteria count ------------------------------------------------------------------------

# Ours: any criterion is worth watching; a use disorder (2 or more) needs review; moderate or
# severe needs it before the next dose. The bands themselves are the instrument's [S113][S115].
_DSM5_SEVERITY: Mapping[str, Severity] = MappingProxyType(
    {
        "none": Severity.watch,
        "mild": Severity.review_needed,
        "moderate": Severity.urgent,
        "severe": Severity.urgent,
    }
)
_DSM5_BAND_WORDS = ", ".join(f"{b.low}-{b.high} {b.name}" for b in DSM5_BANDS)
_DISORDER_FROM = min(b.low for b in DSM5_BANDS if b.name != "none")


def dsm5_criteria(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """The latest clinician DSM-5 checklist: 1 criterion counted → watch; mild → review_needed;
    moderate or severe → urgent (bands from the instrument, §4.1). Tolerance is not counted when
    the patient takes ketamine only under supervision (§4.1 [S115])."""
    if not timeline.dsm5_checklists:
        return []
    checklist = timeline.dsm5_checklists[-1]
    criteria = checklist.counted
    if not criteria:
        return []
    band = band_for(len(criteria), DSM5_BANDS)
    texts = {item.id: (item.text or item.id).lower() for item in DSM5_ITEMS}
    named = "; ".join(texts[c] for c in criteria)
    set_aside = (
        " Tolerance was met but is not counted: the patient takes ketamine only under medical "
        "supervision."
        if checklist.supervised and TOLERANCE in checklist.criteria_met
        else ""
    )
    described = (
        f"below the {_DISORDER_FROM} a use disorder needs"
        if band == "none"
        else f"{band} use disorder"
    )
    return [
        make_signal(
            "dsm5_criteria",
            band if band != "none" else "below_threshold",
            _DSM5_SEVERITY[band],
            f"The DSM-5 checklist of {local_day(timeline, checklist.at)} counts {len(criteria)} of "
            f"{len(DSM5_ITEMS)} criteria ({named}): {described} ({_DSM5_BAND_WORDS}).{set_aside}",
            (
                record_evidence(
                    timeline,
                    "screening_response",
                    checklist.record_id,
                    checklist.at,
                    f"DSM-5 checklist: {len(criteria)} criteria counted",
                ),
            ),
            "DSM-5 phencyclidine (ketamine) use disorder criteria and severity [S113][S115] "
            "§4.1; tolerance under supervision [S115] §4.1; §7",
        )
    ]


# --- Urinary and bladder symptoms ----------------------------------------------------------------

_URINARY_SOURCE = (
    "Ketamine uropathy §4.3 [S121]-[S124]; the label asks for monitoring of urinary and bladder "
    "symptoms and referral when warranted [S38] §1.8, §4.3"
)


def urinary_symptoms(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """Symptoms at a check-in that the previous check-in asking about them did not report (or,
    with none before, any) → review_needed: refer to urology and re-check misuse (§4.3). ICSI
    higher at each of the last ``icsi_rising_scores`` totals (check-ins' and re-screening's) →
    watch (off while the clinic has not set it)."""
    signals = []
    asked = [c for c in timeline.check_ins if c.urinary is not None]
    # Each check-in that asked, with the one that asked before it (None for the first).
    for previous, check_in in zip([None, *asked], asked, strict=False):
        had = frozenset() if previous is None else previous.urinary or frozenset()
        now = check_in.urinary or frozenset()
        new = now - had
        if not new:
            continue
        evidence = [
            check_in_evidence(timeline, check_in, f"urinary symptoms: {symptom_names(now)}")
        ]
        if previous is None:
            since = "none recorded before"
        else:
            since = f"not reported on {local_day(timeline, previous.at)}"
            evidence.append(
                check_in_evidence(
                    timeline, previous, f"urinary symptoms: {symptom_names(had) or 'none'}"
                )
            )
        signals.append(
            make_signal(
                "urinary_symptoms",
                "new_symptoms",
                Severity.review_needed,
                f"New urinary or bladder symptoms at the check-in of "
                f"{local_day(timeline, check_in.at)}: {symptom_names(new)} ({since}). Consider "
                "urology referral and re-check for misuse.",
                evidence,
                f"{_URINARY_SOURCE}; referral and misuse re-check on new symptoms is the "
                "reference's design suggestion",
            )
        )
    points = [
        Point(c.icsi_total, c.at, check_in_evidence(timeline, c, f"ICSI {c.icsi_total}"))
        for c in timeline.check_ins
        if c.icsi_total is not None
    ] + [
        Point(
            t.total,
            t.at,
            record_evidence(timeline, "screening_response", t.response_id, t.at, f"ICSI {t.total}"),
        )
        for t in timeline.icsi_rescreens
    ]
    points.sort(key=lambda point: point.at)
    icsi_totals = thresholds.icsi_rising_scores
    rising = () if icsi_totals is None else rising_tail(points, icsi_totals)
    if rising:
        signals.append(
            make_signal(
                "urinary_symptoms",
                "icsi_rising",
                Severity.watch,
                f"The ICSI rose at each of the last {len(rising)} totals: "
                f"{listed_values(rising)} (of {ICSI_RANGE[1]}).",
                (p.evidence for p in rising),
                f"{_URINARY_SOURCE}; ICSI, no fixed cut-off [S101]-[S103] §3.1. The number of "
                f"check-ins is this clinic's setting, {CLINIC_SETTING}",
            )
        )
    return signals


# --- Memory, withdrawal-like symptoms ------------------------------------------------------------


def memory_complaint(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """A memory complaint at a check-in → watch."""
    return [
        make_signal(
            "memory_complaint",
            "reported",
            Severity.watch,
            f"Memory complaint at the check-in of {local_day(timeline, c.at)}.",
            (check_in_evidence(timeline, c, "memory complaint"),),
            "Frequent ketamine use is linked to memory problems [S119] §4.2; cognitive "
            "impairment is a label warning [S30] §1.8",
        )
        for c in timeline.check_ins
        if c.memory_complaint
    ]


def withdrawal_like(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """Withdrawal-like symptoms at a check-in → info: shown for context only, as no ketamine
    withdrawal syndrome is recognised and the reports are low-quality (§4.1, §4.2)."""
    signals = []
    for check_in in timeline.check_ins:
        if check_in.withdrawal_like:
            names = symptom_names(check_in.withdrawal_like)
            signals.append(
                make_signal(
                    "withdrawal_like",
                    "reported",
                    Severity.info,
                    f"Withdrawal-like symptoms at the check-in of "
                    f"{local_day(timeline, check_in.at)}: {names}. For context only: no ketamine "
                    "withdrawal syndrome is recognised.",
                    (check_in_evidence(timeline, check_in, f"withdrawal-like symptoms: {names}"),),
                    "Anecdotal reports, UNCONFIRMED and low quality [S118] §4.2; no withdrawal "
                    "syndrome [S114][S116] §4.2; no withdrawal criterion [S112][S114] §4.1",
                )
            )
    return signals

"""Detectors on what is given and asked for: dose escalation, tolerance (fading response at the
same or a higher dose), and drug-seeking (requests and overrides). See ``detectors``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from ketaguard.dependence.evidence import (
    CLINIC_SETTING,
    Point,
    listed_values,
    local_day,
    make_signal,
    phq9_evidence,
    record_evidence,
    rising_tail,
    session_evidence,
)
from ketaguard.dependence.signals import Evidence, Severity, Signal
from ketaguard.dependence.thresholds import SignalThresholds
from ketaguard.dependence.timeline import (
    DosedSession,
    PatientTimeline,
    RequestDecision,
    RequestKind,
    RequestRecord,
)
from ketaguard.protocols.scheduling import DOSE_TOLERANCE_MG

# --- Dose escalation -----------------------------------------------------------------------------

_DOSE_SOURCE = (
    "§7: use as prescribed at the lowest effective dose (ASA [S54]); the protocol's maximum per "
    "session (for esketamine the label's ceiling [S19][S12])"
)


def dose_escalation(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """A dose given above the protocol's maximum → urgent; else above the session's planned dose
    → review_needed (one signal per session). The given dose higher at each of the last
    ``rising_dose_sessions`` sessions → watch (off while the clinic has not set it): titration
    within the plan also raises the dose, so this only asks whether the rise is planned."""
    signals = []
    plan = timeline.plan
    for session in timeline.sessions:
        given, planned = session.given_dose_mg, session.planned_dose_mg
        day = local_day(timeline, session.dosed_at)
        if given > plan.max_dose_mg + DOSE_TOLERANCE_MG:
            plan_evidence = Evidence(
                kind="plan",
                record_id=plan.plan_id,
                at=None,
                description=f"Plan: protocol maximum {plan.max_dose_mg:g} mg per session",
            )
            signals.append(
                make_signal(
                    "dose_escalation",
                    "above_maximum",
                    Severity.urgent,
                    f"{given:g} mg was given on {day}, above the protocol's maximum of "
                    f"{plan.max_dose_mg:g} mg per session ({planned:g} mg was planned).",
                    (session_evidence(timeline, session), plan_evidence),
                    _DOSE_SOURCE,
                )
            )
        elif given > planned + DOSE_TOLERANCE_MG:
            signals.append(
                make_signal(
                    "dose_escalation",
                    "above_plan",
                    Severity.review_needed,
                    f"{given:g} mg was given on {day}, {given - planned:g} mg more than the "
                    f"{planned:g} mg planned for that session.",
                    (session_evidence(timeline, session),),
                    _DOSE_SOURCE,
                )
            )
    points = [
        Point(s.given_dose_mg, s.dosed_at, session_evidence(timeline, s)) for s in timeline.sessions
    ]
    rising = (
        ()
        if thresholds.rising_dose_sessions is None
        else rising_tail(points, thresholds.rising_dose_sessions, DOSE_TOLERANCE_MG)
    )
    if rising:
        signals.append(
            make_signal(
                "dose_escalation",
                "rising",
                Severity.watch,
                f"The given dose rose at each of the last {len(rising)} sessions: "
                f"{listed_values(rising, ' mg')} (plan dose {plan.dose_mg:g} mg). Check that "
                "the rise is planned titration.",
                (p.evidence for p in rising),
                f"{_DOSE_SOURCE}; rising doses can mean tolerance (DSM-5 criterion 10 [S113], "
                f"§4.1, §7). The number of sessions is this clinic's setting, {CLINIC_SETTING}",
            )
        )
    return signals


# --- Tolerance -----------------------------------------------------------------------------------


def _dose_before(timeline: PatientTimeline, at: datetime) -> DosedSession | None:
    given = [s for s in timeline.sessions if s.dosed_at <= at]
    return given[-1] if given else None


def tolerance(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """After a PHQ-9 response (a fall of at least ``phq9_response_fall_percent`` from a baseline
    above ``phq9_response_baseline_above``, §3.2), the latest PHQ-9 shows a fading response while
    dosing went on at the same or a higher dose → watch.

    Fading is the loss of response, or, when the clinic sets ``phq9_fading_rise_points``, a rise
    of that many points above the lowest score since the response. "Dosing went on": a session
    after the one before the response, its dose at least that one's. Watch, not more: under
    medical supervision tolerance is not a DSM-5 criterion (§4.1 [S115]), and a fading response
    can also be relapse.
    """
    baseline, scores = timeline.phq9_baseline, timeline.phq9
    if baseline is None or baseline.total <= thresholds.phq9_response_baseline_above:
        return []
    percent = thresholds.phq9_response_fall_percent

    def responds(total: int) -> bool:
        return 100 * (baseline.total - total) >= percent * baseline.total

    first = next((i for i, score in enumerate(scores) if responds(score.total)), None)
    if first is None or first == len(scores) - 1:
        return []
    response, latest = scores[first], scores[-1]
    lowest = min(scores[first:-1], key=lambda score: score.total)
    rise = latest.total - lowest.total
    lost = not responds(latest.total)
    risen = (
        thresholds.phq9_fading_rise_points is not None
        and rise >= thresholds.phq9_fading_rise_points
    )
    then, now = _dose_before(timeline, response.at), _dose_before(timeline, latest.at)
    if not (lost or risen) or then is None or now is None or now.dosed_at <= then.dosed_at:
        return []
    if now.given_dose_mg < then.given_dose_mg - DOSE_TOLERANCE_MG:
        return []
    level = baseline.total * (100 - percent) // 100
    if lost:
        fading = f"no longer a response (a response is {level} or less)"
    else:
        fading = (
            f"{rise} points above the lowest score since the response ({lowest.total} on "
            f"{local_day(timeline, lowest.at)}; this clinic counts a rise of "
            f"{thresholds.phq9_fading_rise_points} as fading)"
        )
    evidence = [
        phq9_evidence(timeline, baseline, "baseline"),
        phq9_evidence(timeline, response, "first response"),
    ]
    if lowest is not response:
        evidence.append(phq9_evidence(timeline, lowest, "lowest since the response"))
    evidence += [
        phq9_evidence(timeline, latest, "latest"),
        session_evidence(timeline, then),
        session_evidence(timeline, now),
    ]
    return [
        make_signal(
            "tolerance",
            "fading_response",
            Severity.watch,
            f"PHQ-9 {latest.total} on {local_day(timeline, latest.at)} is {fading}, after a "
            f"response: {response.total} on {local_day(timeline, response.at)} from a baseline of "
            f"{baseline.total} (a fall of at least {percent}%). Dosing went on at the same or a "
            f"higher dose: {then.given_dose_mg:g} mg at the response, {now.given_dose_mg:g} mg "
            "now. This can mean tolerance; it can also mean relapse.",
            evidence,
            "PHQ-9 response as defined in §3.2 [S105]; "
            "tolerance as a sign of dependence, §4.2 [S116][S117]; not a DSM-5 criterion under "
            "medical supervision, §4.1 [S115]; §7"
            + (
                ""
                if thresholds.phq9_fading_rise_points is None
                else f". The fading rise is this clinic's setting, {CLINIC_SETTING}"
            ),
        )
    ]


# --- Drug-seeking: requests and overrides --------------------------------------------------------

_REQUEST_WORDS: Mapping[RequestKind, str] = MappingProxyType(
    {"extra": "an extra session", "earlier": "an earlier session", "higher_dose": "a higher dose"}
)
_DECISION_WORDS: Mapping[RequestDecision, str] = MappingProxyType(
    {"pending": "not decided yet", "granted": "granted", "declined": "declined"}
)
_SEEKING_SOURCE = (
    "§7: asking for higher doses or doses closer together (DSM-5 criterion 10 [S113]); "
    "label: watch for drug-seeking [S2][S37] §1.8"
)


def _request(timeline: PatientTimeline, request: RequestRecord) -> Evidence:
    details = f": {request.details.strip()}" if request.details.strip() else ""
    what = f"Request for {_REQUEST_WORDS[request.kind]}, {_DECISION_WORDS[request.decision]}"
    return record_evidence(
        timeline, "session_request", request.request_id, request.at, f"{what}{details}"
    )


def drug_seeking(timeline: PatientTimeline, thresholds: SignalThresholds) -> list[Signal]:
    """Each request for an extra, earlier or higher-dose session → watch, whatever the answer.
    At least ``repeated_requests`` requests within ``repeated_requests_days`` local calendar days
    ending on the latest request's day → review_needed (off until the clinic has set both).
    Each session booked under a prescriber's override of the plan's limits → watch, from the
    booking on."""
    signals = []
    for request in timeline.requests:
        signals.append(
            make_signal(
                "drug_seeking",
                "request",
                Severity.watch,
                f"Asked for {_REQUEST_WORDS[request.kind]} on {local_day(timeline, request.at)} "
                f"({_DECISION_WORDS[request.decision]}).",
                (_request(timeline, request),),
                _SEEKING_SOURCE,
            )
        )
    repeated, days = thresholds.repeated_requests, thresholds.repeated_requests_days
    if timeline.requests and repeated is not None and days is not None:
        zone = timeline.plan.zone
        last_day = timeline.requests[-1].at.astimezone(zone).date()
        window = [
            r for r in timeline.requests if (last_day - r.at.astimezone(zone).date()).days < days
        ]
        if len(window) >= repeated:
            signals.append(
                make_signal(
                    "drug_seeking",
                    "repeated_requests",
                    Severity.review_needed,
                    f"{len(window)} requests for extra, earlier or higher-dose sessions within "
                    f"{days} calendar days ({local_day(timeline, window[0].at)} to "
                    f"{local_day(timeline, window[-1].at)}); this clinic reviews from "
                    f"{repeated}.",
                    (_request(timeline, r) for r in window),
                    f"{_SEEKING_SOURCE}. The count and window are this clinic's settings, "
                    f"{CLINIC_SETTING}",
                )
            )
    for session in timeline.sessions:
        if session.overridden_rules:
            signals.append(
                make_signal(
                    "drug_seeking",
                    "override",
                    Severity.watch,
                    f"The session of {local_day(timeline, session.dosed_at)} was booked past the "
                    f"plan's limits by a prescriber's override ({_rules(session.overridden_rules)})"
                    f'. Reason given: "{session.override_reason}".',
                    (session_evidence(timeline, session),),
                    _OVERRIDE_SOURCE,
                )
            )
    # The same key as once it is dosed (the session's record), so the signal carries over.
    for booked in timeline.booked_overrides:
        day = local_day(timeline, booked.scheduled_at)
        what = f"Booking for {day}: {booked.planned_dose_mg:g} mg planned, not dosed yet"
        signals.append(
            make_signal(
                "drug_seeking",
                "override",
                Severity.watch,
                f"A session for {day} is booked past the plan's limits by a prescriber's "
                f"override ({_rules(booked.overridden_rules)}). Reason given: "
                f'"{booked.override_reason}".',
                (record_evidence(timeline, "session", booked.session_id, booked.booked_at, what),),
                _OVERRIDE_SOURCE,
            )
        )
    return signals


_OVERRIDE_SOURCE = (
    "§7: doses closer together or higher than planned (DSM-5 criterion 10 [S113]); use as "
    "prescribed within a defined course (ASA [S54])"
)


def _rules(rule_ids: tuple[str, ...]) -> str:
    return ", ".join(rule.replace("_", " ") for rule in rule_ids)

"""The numbers the dependence detectors compare against: ``SignalThresholds``.

Two kinds, kept apart:

- **The clinic's settings.** The clinical reference gives no number for these, and it says that
  where it has none "the software has no built-in number" (its how-to-use note); CONTRIBUTING says
  such a number is a clinic setting or a required field. Each is a required field with no
  default: not from the clinical reference; review locally. None means the clinic has not set it
  and switches off only the rule that needs it (``CLINIC_SETTINGS``, ``switched_off``): a clinic
  that has set nothing still gets every rule whose numbers come from the reference or the
  protocol, and is told which ones it does not get. ``sds_cutoff`` is the clinic's
  ``Clinic.sds_cutoff``.
- **Numbers from the clinical reference**, each with its default and source. The PHQ-9 response
  definition lives in ``checkins.outcomes`` (the measurement-based care outcomes) and is read
  from there.

"Rising" means the same everywhere: each of the last N values is higher than the one before
(N - 1 rises in a row), N being the setting named ``*_rising_*``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaguard.checkins.outcomes import MEASURE_BASELINE_ABOVE, RESPONSE_FALL
from ketaguard.dependence.timeline import CRAVING_RANGE, DAST10_RANGE, PHQ9_RANGE, SDS_RANGE

# A PHQ-9 response is a fall of at least 50% from baseline, judged from a baseline above 9
# [S105] (reference §3.2); both numbers are checkins.outcomes'.
PHQ9_RESPONSE_FALL_PERCENT = int(RESPONSE_FALL * 100)
PHQ9_RESPONSE_BASELINE_ABOVE = MEASURE_BASELINE_ABOVE
# DAST-10: the LOINC note says 3 or more may show a problem [S78] (§3.1).
DAST10_PROBLEM_FROM = 3


@dataclass(frozen=True)
class ClinicSetting:
    """One of the clinic's numbers: what it is in words, and the rule it switches off when unset
    (``partly``: the rule still runs without it, doing less, as ``effect`` says)."""

    name: str
    words: str
    rule_id: str
    partly: bool = False
    effect: str = "is off"


CLINIC_SETTINGS: tuple[ClinicSetting, ...] = (
    ClinicSetting("craving_threshold", "a craving threshold", "craving.at_or_above_threshold"),
    ClinicSetting(
        "craving_rising_reports", "how many craving reports make a rise", "craving.rising"
    ),
    ClinicSetting(
        "rising_dose_sessions", "how many sessions make a rising dose", "dose_escalation.rising"
    ),
    ClinicSetting(
        "repeated_requests",
        "how many session requests need review",
        "drug_seeking.repeated_requests",
    ),
    ClinicSetting(
        "repeated_requests_days",
        "the window in days for repeated requests",
        "drug_seeking.repeated_requests",
    ),
    ClinicSetting("sds_rising_scores", "how many SDS totals make a rise", "sds.rising"),
    ClinicSetting(
        "icsi_rising_scores", "how many ICSI totals make a rise", "urinary_symptoms.icsi_rising"
    ),
    ClinicSetting(
        "phq9_fading_rise_points",
        "a PHQ-9 rise that counts as a fading response",
        "tolerance.fading_response",
        partly=True,
        effect="counts only a loss of response as fading",
    ),
    ClinicSetting("sds_cutoff", "an SDS cut-off", "sds.at_or_above_cutoff"),
)


@dataclass(frozen=True)
class SwitchedOff:
    """A rule that is off (or, ``partly``, does less) because the clinic has not set a number."""

    rule_id: str
    settings: tuple[str, ...]
    partly: bool
    reason: str


def _at_least(value: int, minimum: int, name: str) -> None:
    if value < minimum:
        raise ValueError(f"{name} must be {minimum} or more, got {value}")


def _within(value: int, low: int, high: int, name: str) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low}-{high}, got {value}")


@dataclass(frozen=True, kw_only=True)
class SignalThresholds:
    # --- The clinic's settings: not from the clinical reference; review locally ---------------
    # None: the clinic has not set it; the rule that needs it is off (see CLINIC_SETTINGS).
    # Craving (0-10) at or above which a report needs review. §4.1/§4.2 name craving as a
    # criterion and a sign, with no scale or threshold.
    craving_threshold: int | None
    # How many craving reports in a row must each be higher than the one before.
    craving_rising_reports: int | None
    # How many dosed sessions in a row must each have a higher given dose than the one before.
    rising_dose_sessions: int | None
    # How many session requests (extra, earlier, higher dose) within the window need review.
    repeated_requests: int | None
    # That window, in local calendar days ending on the day of the latest request.
    repeated_requests_days: int | None
    # How many SDS totals in a row must each be higher than the one before ("track the trend",
    # §7; no ketamine cut-off, §3.1).
    sds_rising_scores: int | None
    # How many ICSI totals in a row must each be higher than the one before (no fixed ICSI
    # cut-off, §3.1).
    icsi_rising_scores: int | None
    # A fading response is always the loss of response (§3.2's definition, see below). When set,
    # a rise of this many PHQ-9 points above the lowest score since the response also counts,
    # even while the score is still a response. None: loss of response only.
    phq9_fading_rise_points: int | None
    # The clinic's SDS cut-off (`Clinic.sds_cutoff`). No ketamine cut-off is validated [S86]
    # (§3.1, UNCONFIRMED), so there is no default; None: only the trend is used (§7).
    sds_cutoff: int | None

    # --- From the clinical reference -------------------------------------------------------------
    # Response = a fall of at least this percentage from baseline. §3.2 [S105].
    phq9_response_fall_percent: int = PHQ9_RESPONSE_FALL_PERCENT
    # Response is judged only from a baseline above this total. §3.2 [S105].
    phq9_response_baseline_above: int = PHQ9_RESPONSE_BASELINE_ABOVE
    # A DAST-10 total from which baseline drug-use risk counts. §3.1 LOINC note [S78].
    dast10_problem_from: int = DAST10_PROBLEM_FROM

    def __post_init__(self) -> None:
        low, high = CRAVING_RANGE
        if self.craving_threshold is not None:
            # At the bottom of the scale every report would need review.
            _within(self.craving_threshold, low + 1, high, "craving_threshold")
        # A rise needs two values to compare.
        for name in (
            "craving_rising_reports",
            "rising_dose_sessions",
            "sds_rising_scores",
            "icsi_rising_scores",
        ):
            value = getattr(self, name)
            if value is not None:
                _at_least(value, 2, name)
        if self.repeated_requests is not None:
            # One request is already its own signal; "repeated" starts at two.
            _at_least(self.repeated_requests, 2, "repeated_requests")
        if self.repeated_requests_days is not None:
            _at_least(self.repeated_requests_days, 1, "repeated_requests_days")
        phq9_low, phq9_high = PHQ9_RANGE
        if self.phq9_fading_rise_points is not None:
            _within(self.phq9_fading_rise_points, 1, phq9_high, "phq9_fading_rise_points")
        if self.sds_cutoff is not None:
            sds_low, sds_high = SDS_RANGE
            # As the SDS instrument's own cut-off bands: neither band may be empty.
            _within(self.sds_cutoff, sds_low + 1, sds_high, "sds_cutoff")
        _within(self.phq9_response_fall_percent, 1, 100, "phq9_response_fall_percent")
        _within(
            self.phq9_response_baseline_above,
            phq9_low,
            phq9_high - 1,
            "phq9_response_baseline_above",
        )
        dast_low, dast_high = DAST10_RANGE
        _within(self.dast10_problem_from, dast_low + 1, dast_high, "dast10_problem_from")


def switched_off(thresholds: SignalThresholds) -> tuple[SwitchedOff, ...]:
    """Every rule the clinic's unset numbers switch off (or make do less), in
    ``CLINIC_SETTINGS`` order, each saying plainly which number is missing."""
    missing: dict[str, list[ClinicSetting]] = {}
    for setting in CLINIC_SETTINGS:
        if getattr(thresholds, setting.name) is None:
            missing.setdefault(setting.rule_id, []).append(setting)
    found = []
    for rule_id, settings in missing.items():
        first = settings[0]
        words = " or ".join(f"{s.words} ({s.name})" for s in settings)
        found.append(
            SwitchedOff(
                rule_id=rule_id,
                settings=tuple(s.name for s in settings),
                partly=first.partly,
                reason=f"{rule_id} {first.effect}: the clinic has not set {words}",
            )
        )
    return tuple(found)

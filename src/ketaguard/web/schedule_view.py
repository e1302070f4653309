"""The booking service's refusals in words: a title per rule and a label per number it reports.

The rules and their messages live in `protocols/scheduling.py`; this module only names them for a
person, so a refusal reads "Too soon after the previous session: 23.5 hours (at least 48 hours)"
rather than a rule id and a dictionary.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ketaguard.protocols.scheduling import Violation

# Keyed by RuleId; a table test checks every rule has a title.
RULE_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "plan_not_active": "The treatment plan is not active",
        "before_plan_start": "Before the plan starts",
        "outside_course_weeks": "After the course's last week",
        "after_planned_end": "After the plan's planned end",
        "course_sessions_exhausted": "All the course's sessions are booked",
        "no_phase_for_week": "No phase of the plan covers that week",
        "too_soon_after_previous": "Too soon after the previous session",
        "too_close_to_next": "Too close to the next session",
        "too_many_in_7_days": "Too many sessions in 7 days",
        "dose_not_allowed": "Dose not allowed",
        "dose_above_maximum": "Dose above the maximum",
        "dose_below_minimum": "Dose below the minimum",
        "first_dose_mismatch": "Not the plan's first dose",
        "step_up_too_large": "Dose rises too much from the previous session",
    }
)

# Number key -> (label, unit). Keys that only point at a record (session ids) are not shown.
NUMBER_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "status": ("Plan status", ""),
        "date": ("Session date", ""),
        "start_date": ("Plan start date", ""),
        "days_before_start": ("Days before the start", "days"),
        "week": ("Plan week", ""),
        "max_weeks": ("Course length", "weeks"),
        "planned_end": ("Planned end", ""),
        "days_after_end": ("Days after the planned end", "days"),
        "booked_sessions": ("Sessions booked or given", ""),
        "max_sessions": ("Sessions the course allows", ""),
        "hours_since_previous": ("Hours since the previous session", "hours"),
        "hours_until_next": ("Hours until the next session", "hours"),
        "min_interval_hours": ("Minimum gap", "hours"),
        "previous_at": ("Previous session", ""),
        "next_at": ("Next session", ""),
        "phase": ("Phase", ""),
        "sessions_in_window": ("Sessions in those 7 days", ""),
        "max_sessions_per_7_days": ("Most allowed in any 7 days", ""),
        "window_start": ("From", ""),
        "window_end": ("To", ""),
        "dose_mg": ("Dose asked for", "mg"),
        "allowed_mg": ("Allowed doses", "mg"),
        "max_mg": ("Maximum dose", "mg"),
        "min_mg": ("Minimum dose", "mg"),
        "first_dose_mg": ("First dose", "mg"),
        "previous_dose_mg": ("Previous dose", "mg"),
        "step_up_mg": ("Rise", "mg"),
        "max_step_up_mg": ("Largest rise allowed", "mg"),
    }
)
HIDDEN_NUMBERS = frozenset({"previous_session_id", "next_session_id"})


@dataclass(frozen=True)
class Shown:
    label: str
    value: str


@dataclass(frozen=True)
class ShownViolation:
    rule: str
    title: str
    message: str
    numbers: tuple[Shown, ...]
    overridable: bool


def _value(value: object, unit: str) -> str:
    if isinstance(value, float):
        text = f"{value:.1f}" if unit == "hours" else f"{value:g}"
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text


def shown(violation: Violation | Mapping[str, object]) -> ShownViolation:
    """A violation (the service's, or the dictionary a refusal carries) for the page."""
    rule: str
    if isinstance(violation, Violation):
        rule, message = violation.rule, violation.message
        numbers: Mapping[str, object] = violation.numbers
        overridable = violation.overridable
    else:
        rule, message = str(violation["rule"]), str(violation["message"])
        raw = violation.get("numbers")
        numbers = raw if isinstance(raw, Mapping) else {}
        overridable = bool(violation.get("overridable"))
    rows = []
    for key, value in numbers.items():
        if key in HIDDEN_NUMBERS:
            continue
        label, unit = NUMBER_LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
        rows.append(Shown(label, _value(value, unit)))
    return ShownViolation(
        rule=rule,
        title=RULE_TITLES.get(rule, rule.replace("_", " ").capitalize()),
        message=message,
        numbers=tuple(rows),
        overridable=overridable,
    )

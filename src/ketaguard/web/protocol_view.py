"""A protocol definition as a person reads it: every sourced number under a plain label, with its
source and whether it is a default to review locally. Presentation only: the numbers and their
sources come from the definition, untouched."""

from dataclasses import dataclass

from ketaguard.protocols.definition import (
    VITAL_UNITS,
    Cited,
    DischargeCriterion,
    HoldThreshold,
    Phase,
    PreDoseCheck,
    ProtocolDefinition,
    ReviewPoint,
    Sourced,
    VitalsCheck,
    iter_cited,
)

SECTION_TITLES = {
    "dose": "Dose",
    "phases": "Schedule",
    "course": "Course",
    "pre_dose_checks": "Before each dose",
    "monitoring": "Monitoring",
    "discharge_criteria": "Before the patient leaves",
    "no_driving": "Driving",
}
FIELD_LABELS = {
    "allowed_mg": "Allowed doses (mg)",
    "first_dose_mg": "First dose (mg)",
    "device_mg": "Each device (mg)",
    "device_interval_minutes": "Between devices (minutes)",
    "max_per_session_mg": "Most in one session (mg)",
    "max_step_up_mg": "Largest step up (mg)",
    "mg_per_kg": "Usual dose (mg/kg)",
    "min_mg_per_kg": "Lowest dose (mg/kg)",
    "max_mg_per_kg": "Highest dose (mg/kg)",
    "infusion_minutes": "Infusion time (minutes)",
    "max_step_up_mg_per_kg": "Largest step up (mg/kg)",
    "max_sessions_per_7_days": "Most sessions in any 7 days",
    "min_interval_hours": "Least time between sessions (hours)",
    "max_weeks": "Longest course (weeks)",
    "max_sessions": "Most sessions in the course",
    "min_observation_minutes": "Least observation time (minutes)",
    "text": "What the patient is told",
    "hours": "Hours",
    # Lists whose entries name themselves.
    "vitals_schedule": "",
    "hold_thresholds": "",
    "review_points": "",
}
VITAL_LABELS = {
    "systolic_bp": "Systolic blood pressure",
    "diastolic_bp": "Diastolic blood pressure",
    "heart_rate": "Heart rate",
    "spo2": "Oxygen saturation (SpO2)",
    "respiratory_rate": "Breathing rate",
}
COMPARISONS = {
    "above": "above",
    "below": "below",
    "at_or_above": "at or above",
    "at_or_below": "at or below",
}
THRESHOLD_WHEN = {"pre_dose": "before the dose", "during": "during the session", "any": "any time"}
THRESHOLD_ACTIONS = {
    "prescriber_decision": "the prescriber decides",
    "hold": "hold the dose",
    "alert": "alert",
}
ITEM_LABELS = {
    "rems_enrolment": "REMS enrolment",
    "nasal_steroid_decongestant_timing": "Nasal steroid or decongestant timing",
    "min_observation_elapsed": "Observation time passed",
    "vitals_within_thresholds": "Vital signs within thresholds",
}
VITALS_AT = {
    "pre_dose": "Vital signs before the dose",
    "minutes_after_dose": "Vital signs after the dose",
    "every_minutes_during": "Vital signs during the session",
    "every_minutes_after": "Vital signs after the dose",
    "before_discharge": "Vital signs before discharge",
}


DRUGS = {"esketamine": "Esketamine", "racemic_ketamine": "Racemic ketamine"}
ROUTES = {
    "intranasal": "intranasal",
    "iv": "intravenous (IV)",
    "im": "intramuscular (IM)",
    "oral_sublingual": "oral or sublingual",
}
OBSERVATION_STARTS = {
    "first_device": "the first device",
    "dose_start": "the start of the dose",
    "infusion_end": "the end of the infusion",
}


@dataclass(frozen=True)
class CitedRow:
    label: str
    value: str
    source: str
    review_locally: bool


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: tuple[CitedRow, ...]


def _humanise(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _item_name(item: object) -> str:
    """How a person names one entry of a list in the protocol."""
    if isinstance(item, Phase):
        weeks = (
            f"weeks {item.start_week} to {item.end_week}"
            if item.end_week is not None
            else f"from week {item.start_week}"
        )
        return f"{item.name} ({weeks})"
    if isinstance(item, ReviewPoint):
        if item.week is not None:
            return f"Review at week {item.week}"
        return f"Review after session {item.after_session}"
    if isinstance(item, PreDoseCheck | DischargeCriterion):
        return ITEM_LABELS.get(item.id, _humanise(item.id))
    if isinstance(item, VitalsCheck):
        return VITALS_AT.get(item.at, _humanise(item.at))
    if isinstance(item, HoldThreshold):
        vital = VITAL_LABELS.get(item.vital, item.vital)
        comparison = COMPARISONS.get(item.comparison, item.comparison)
        when = THRESHOLD_WHEN.get(item.when, item.when)
        action = THRESHOLD_ACTIONS.get(item.action, item.action)
        return f"{vital} {comparison}, {when}: {action}"
    return str(item)


def _field_label(owner: object, name: str) -> str:
    if name == "minutes" and isinstance(owner, PreDoseCheck):
        return "Minutes before the dose"
    if name == "minutes" and isinstance(owner, VitalsCheck):
        return "Minutes after the dose" if owner.at == "minutes_after_dose" else "Every (minutes)"
    return FIELD_LABELS.get(name, _humanise(name))


def _row(definition: ProtocolDefinition, path: str, item: Cited) -> CitedRow:
    section, *parts = path.split(".")
    node: object = getattr(definition, section)
    words: list[str] = []
    unit = ""
    for part in parts:
        if isinstance(node, tuple):
            node = node[int(part)]
            words.append(_item_name(node))
            continue
        if isinstance(node, HoldThreshold) and part == "value":
            unit = f" {VITAL_UNITS[node.vital]}"
        elif label := _field_label(node, part):
            words.append(label)
        node = getattr(node, part)
    if isinstance(item, Sourced):
        value = item.value
        if isinstance(value, tuple):
            joiner = " to " if path.endswith("hours") else ", "
            shown = joiner.join(_number(v) for v in value)
        else:
            shown = _number(value)
        shown += unit
    else:
        shown = str(getattr(item, "what", ""))
    return CitedRow(
        label=": ".join(words) or SECTION_TITLES.get(path, _humanise(path)),
        value=shown,
        source=item.source,
        review_locally=item.review_locally,
    )


def sections(definition: ProtocolDefinition) -> tuple[Section, ...]:
    """Every sourced value of the protocol, grouped as the protocol file groups them."""
    rows: dict[str, list[CitedRow]] = {}
    for path, item in iter_cited(definition):
        rows.setdefault(path.split(".")[0], []).append(_row(definition, path, item))
    return tuple(
        Section(key=key, title=SECTION_TITLES.get(key, _humanise(key)), rows=tuple(found))
        for key, found in rows.items()
    )


def review_count(definition: ProtocolDefinition) -> int:
    return sum(1 for _, item in iter_cited(definition) if item.review_locally)


def facts(definition: ProtocolDefinition) -> tuple[tuple[str, str], ...]:
    """What the protocol is, before its numbers: drug, route, home use, REMS."""
    starts = definition.monitoring.observation_starts_at
    return (
        (
            "Drug and route",
            f"{DRUGS.get(definition.drug, _humanise(definition.drug))}, "
            f"{ROUTES.get(definition.route, _humanise(definition.route))}",
        ),
        ("Use at home", "Allowed" if definition.home_use_allowed else "Never"),
        ("REMS", "Required" if definition.rems_required else "Not required"),
        ("Observation time counts from", OBSERVATION_STARTS.get(starts, _humanise(starts))),
    )

"""What a treatment protocol is: dose, phases, course, pre-dose checks, monitoring and discharge.

A protocol is a frozen, strictly validated value (unknown keys, wrong types and inconsistent
numbers are refused). Every clinical number is a `Sourced` value that carries the tag(s) and
section of `shared/clinical-reference.md` it comes from, and `review_locally` when the reference
marks it UNCONFIRMED, takes it from §5 (adjacent, non-psychiatric sources) or from clinic practice:
such a value is a default the clinic reviews, never a guideline's requirement. Where the reference
gives no number the field is optional and the built-in protocols leave it unset; a clinic's own
protocol sets it.

Cross-field problems are raised as `FieldProblems`, each naming the path of the field at fault
relative to the model that found it; `protocols.loader` turns them into "path: message" lines.
"""

from collections.abc import Iterator, Mapping
from itertools import pairwise
from types import MappingProxyType
from typing import Annotated, Any, Generic, Literal, Self, TypeVar, cast, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

T = TypeVar("T")

Drug = Literal["esketamine", "racemic_ketamine"]
Route = Literal["intranasal", "iv", "im", "oral_sublingual"]
PreDoseCheckId = Literal[
    "blood_pressure",
    "fasting_food",
    "fasting_liquids",
    "nasal_steroid_decongestant_timing",
    "transport_home",
    "no_driving_acknowledged",
    "pregnancy_status",
    "new_medications",
    "substance_use_since_last_session",
    "craving_score",
    "rems_enrolment",
]
Vital = Literal["systolic_bp", "diastolic_bp", "heart_rate", "spo2", "respiratory_rate"]
VitalsAt = Literal[
    "pre_dose",
    "minutes_after_dose",
    "every_minutes_during",
    "every_minutes_after",
    "before_discharge",
]
ObservationStart = Literal["first_device", "dose_start", "infusion_end"]
Comparison = Literal["above", "below", "at_or_above", "at_or_below"]
ThresholdWhen = Literal["pre_dose", "during", "any"]
ThresholdAction = Literal["prescriber_decision", "hold", "alert"]
DischargeCriterionId = Literal[
    "min_observation_elapsed",
    "vitals_within_thresholds",
    "sedation_at_baseline",
    "transport_present",
    "prescriber_cleared",
]

DRUGS = cast(tuple[Drug, ...], get_args(Drug))
ROUTES = cast(tuple[Route, ...], get_args(Route))
PRE_DOSE_CHECK_IDS = cast(tuple[PreDoseCheckId, ...], get_args(PreDoseCheckId))
VITALS = cast(tuple[Vital, ...], get_args(Vital))
DISCHARGE_CRITERION_IDS = cast(tuple[DischargeCriterionId, ...], get_args(DischargeCriterionId))
DOSE_KINDS = ("fixed", "per_kg")

# Units of the vitals a threshold compares against (not clinical numbers).
VITAL_UNITS: Mapping[Vital, str] = MappingProxyType(
    {
        "systolic_bp": "mmHg",
        "diastolic_bp": "mmHg",
        "heart_rate": "beats/min",
        "spo2": "%",
        "respiratory_rate": "breaths/min",
    }
)
SPO2_CEILING = 100  # a percentage, not a clinical number

# Fasting checks must say how long before the dose; the nasal-spray timing check may.
CHECKS_WITH_MINUTES_REQUIRED: frozenset[PreDoseCheckId] = frozenset(
    {"fasting_food", "fasting_liquids"}
)
CHECKS_WITH_MINUTES_ALLOWED: frozenset[PreDoseCheckId] = CHECKS_WITH_MINUTES_REQUIRED | {
    "nasal_steroid_decongestant_timing"
}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# The reference tag(s) and section a value comes from, e.g. "[S19][S20] §1.2".
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$", max_length=64)]
# Lists arrive as JSON/TOML arrays and are kept as tuples; their items are still strict.
Seq = Annotated[tuple[T, ...], Strict(False)]
Mg = Annotated[int, Field(gt=0)]
MgList = Annotated[tuple[Mg, ...], Strict(False), Field(min_length=1)]
MgPerKg = Annotated[float, Field(gt=0)]
Minutes = Annotated[int, Field(gt=0)]
Hours = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(gt=0)]
Week = Annotated[int, Field(ge=1)]
HoursRange = Annotated[tuple[Hours, Hours], Strict(False)]


class FieldProblems(ValueError):
    """Every problem one validator found, each as (path relative to the model, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


def _raise_if_any(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise FieldProblems(problems)


def _mg_list(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Cited(_Frozen):
    """Anything that carries its source: a clinical number, a check, a criterion."""

    source: Source
    review_locally: bool = False


class Sourced(Cited, Generic[T]):
    """A clinical number (or text) with its source: `{ value = 2, source = "[S19] §1.2" }`."""

    value: T

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        # "Sourced[int]" rather than the full Annotated[...] spelling, in reprs and errors.
        return f"Sourced[{', '.join(_type_name(param) for param in params)}]"


def _type_name(annotation: object) -> str:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    origin = get_origin(annotation)
    if origin is not None:
        return getattr(origin, "__name__", str(origin))
    return getattr(annotation, "__name__", str(annotation))


# --- Dose ---------------------------------------------------------------------------------------


class FixedDose(_Frozen):
    """Fixed doses made of devices (esketamine nasal spray)."""

    kind: Literal["fixed"]
    allowed_mg: Sourced[MgList]
    first_dose_mg: Sourced[Mg]
    device_mg: Sourced[Mg]
    device_interval_minutes: Sourced[Minutes]
    max_per_session_mg: Sourced[Mg]
    # None: the reference gives no step-up limit beyond the allowed doses.
    max_step_up_mg: Sourced[Mg] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[tuple[str, str]] = []
        allowed = self.allowed_mg.value
        device = self.device_mg.value
        maximum = self.max_per_session_mg.value
        if len(set(allowed)) != len(allowed):
            problems.append(
                ("allowed_mg.value", f"lists a dose more than once: {_mg_list(allowed)}")
            )
        for index, mg in enumerate(allowed):
            if mg > maximum:
                problems.append(
                    (
                        f"allowed_mg.value.{index}",
                        f"{mg} mg is above max_per_session_mg ({maximum})",
                    )
                )
            if mg % device:
                problems.append(
                    (
                        f"allowed_mg.value.{index}",
                        f"{mg} mg is not a whole number of {device} mg devices",
                    )
                )
        first = self.first_dose_mg.value
        if first not in allowed:
            problems.append(
                ("first_dose_mg.value", f"{first} mg is not one of allowed_mg {_mg_list(allowed)}")
            )
        if self.max_step_up_mg is not None:
            step = self.max_step_up_mg.value
            if step > maximum:
                problems.append(
                    ("max_step_up_mg.value", f"{step} mg is above max_per_session_mg ({maximum})")
                )
            if step % device:
                problems.append(
                    (
                        "max_step_up_mg.value",
                        f"{step} mg is not a whole number of {device} mg devices",
                    )
                )
        _raise_if_any(problems)
        return self


class PerKgDose(_Frozen):
    """A weight-based dose: `mg_per_kg` by default, within `min_mg_per_kg`..`max_mg_per_kg`."""

    kind: Literal["per_kg"]
    mg_per_kg: Sourced[MgPerKg]
    min_mg_per_kg: Sourced[MgPerKg]
    max_mg_per_kg: Sourced[MgPerKg]
    # Required for IV protocols (checked on the protocol); a bolus route has none.
    infusion_minutes: Sourced[Minutes] | None = None
    max_step_up_mg_per_kg: Sourced[MgPerKg] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[tuple[str, str]] = []
        low, default, high = (
            self.min_mg_per_kg.value,
            self.mg_per_kg.value,
            self.max_mg_per_kg.value,
        )
        if low > high:
            problems.append(
                ("min_mg_per_kg.value", f"{low:g} mg/kg is above max_mg_per_kg ({high:g} mg/kg)")
            )
        else:
            if default < low:
                problems.append(
                    ("mg_per_kg.value", f"{default:g} mg/kg is below min_mg_per_kg ({low:g} mg/kg)")
                )
            if default > high:
                problems.append(
                    (
                        "mg_per_kg.value",
                        f"{default:g} mg/kg is above max_mg_per_kg ({high:g} mg/kg)",
                    )
                )
        if self.max_step_up_mg_per_kg is not None and self.max_step_up_mg_per_kg.value > high:
            step = self.max_step_up_mg_per_kg.value
            problems.append(
                (
                    "max_step_up_mg_per_kg.value",
                    f"{step:g} mg/kg is above max_mg_per_kg ({high:g} mg/kg)",
                )
            )
        _raise_if_any(problems)
        return self


Dose = Annotated[FixedDose | PerKgDose, Field(discriminator="kind")]


# --- Schedule -----------------------------------------------------------------------------------


class Phase(_Frozen):
    """Weeks `start_week`..`end_week` inclusive (None: open-ended, the last phase only)."""

    name: Text
    start_week: Week
    end_week: Week | None = None
    max_sessions_per_7_days: Sourced[Count]
    # None: the reference gives no minimum gap between sessions; a clinic sets one.
    min_interval_hours: Sourced[Hours] | None = None
    # Fixed-dose protocols only: narrows the protocol's allowed doses during this phase.
    allowed_mg: Sourced[MgList] | None = None

    @model_validator(mode="after")
    def _weeks_in_order(self) -> Self:
        if self.end_week is not None and self.end_week < self.start_week:
            raise FieldProblems(
                [("end_week", f"week {self.end_week} is before start_week ({self.start_week})")]
            )
        return self


class ReviewPoint(Cited):
    """A planned review, at a week of the course or after a numbered session."""

    week: Week | None = None
    after_session: Count | None = None
    what: Text

    @model_validator(mode="after")
    def _one_anchor(self) -> Self:
        if (self.week is None) == (self.after_session is None):
            raise FieldProblems([("week", "give exactly one of week and after_session")])
        return self


class Course(_Frozen):
    """The course's bounds; None where the reference gives none."""

    max_weeks: Sourced[Count] | None = None
    max_sessions: Sourced[Count] | None = None
    review_points: Seq[ReviewPoint] = ()

    @model_validator(mode="after")
    def _reviews_inside_course(self) -> Self:
        problems: list[tuple[str, str]] = []
        for index, point in enumerate(self.review_points):
            max_weeks, max_sessions = self.max_weeks, self.max_sessions
            if max_weeks is not None and point.week is not None and point.week > max_weeks.value:
                problems.append(
                    (
                        f"review_points.{index}.week",
                        f"week {point.week} is after max_weeks ({max_weeks.value})",
                    )
                )
            session = point.after_session
            if max_sessions is not None and session is not None and session > max_sessions.value:
                problems.append(
                    (
                        f"review_points.{index}.after_session",
                        f"session {session} is after max_sessions ({max_sessions.value})",
                    )
                )
        _raise_if_any(problems)
        return self


# --- Before, during and after the dose ---------------------------------------------------------


class PreDoseCheck(Cited):
    id: PreDoseCheckId
    what: Text
    # How long before the dose (fasting, nasal steroid/decongestant timing).
    minutes: Sourced[Minutes] | None = None

    @model_validator(mode="after")
    def _minutes_where_needed(self) -> Self:
        if self.id in CHECKS_WITH_MINUTES_REQUIRED and self.minutes is None:
            raise FieldProblems([("minutes", f"{self.id} needs how many minutes before the dose")])
        if self.id not in CHECKS_WITH_MINUTES_ALLOWED and self.minutes is not None:
            raise FieldProblems([("minutes", f"{self.id} takes no minutes")])
        return self


class VitalsCheck(Cited):
    """When vitals are taken. `minutes` is the time after the dose (`minutes_after_dose`) or the
    interval (`every_minutes_*`); None on an `every_minutes_*` entry means the reference gives no
    interval (continuous, or as the clinic sets), and `what` says which."""

    at: VitalsAt
    minutes: Sourced[Minutes] | None = None
    vitals: Annotated[tuple[Vital, ...], Strict(False), Field(min_length=1)]
    what: Text

    @model_validator(mode="after")
    def _minutes_match_at(self) -> Self:
        if self.at == "minutes_after_dose" and self.minutes is None:
            raise FieldProblems([("minutes", "minutes_after_dose needs minutes")])
        if self.at in ("pre_dose", "before_discharge") and self.minutes is not None:
            raise FieldProblems([("minutes", f"{self.at} takes no minutes")])
        if len(set(self.vitals)) != len(self.vitals):
            raise FieldProblems([("vitals", "lists a vital more than once")])
        return self


class HoldThreshold(_Frozen):
    """`vital` `comparison` `value` (in the vital's unit, VITAL_UNITS) `when` → `action`."""

    vital: Vital
    comparison: Comparison
    value: Sourced[Count]
    when: ThresholdWhen
    action: ThresholdAction

    @model_validator(mode="after")
    def _plausible(self) -> Self:
        if self.vital == "spo2" and self.value.value > SPO2_CEILING:
            raise FieldProblems([("value.value", f"SpO2 is a percentage, not {self.value.value}")])
        return self


class Monitoring(_Frozen):
    vitals_schedule: Annotated[tuple[VitalsCheck, ...], Strict(False), Field(min_length=1)]
    min_observation_minutes: Sourced[Minutes]
    observation_starts_at: ObservationStart
    hold_thresholds: Seq[HoldThreshold] = ()


class DischargeCriterion(Cited):
    id: DischargeCriterionId
    what: Text


class NoDriving(_Frozen):
    """What the patient is told, and the hours when the reference gives hours (low, high)."""

    text: Sourced[Text]
    hours: Sourced[HoursRange] | None = None

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.hours is not None and self.hours.value[0] > self.hours.value[1]:
            low, high = self.hours.value
            raise FieldProblems([("hours.value", f"{low:g} is above {high:g}")])
        return self


# --- The protocol -------------------------------------------------------------------------------


class ProtocolDefinition(_Frozen):
    """One protocol. Cross-field rules are field validators reading the fields declared before
    them (`info.data`), so each runs whatever else is wrong and a file gets every error at once."""

    id: Slug
    version: Annotated[int, Field(ge=1)]
    title: Text
    drug: Drug
    route: Route
    home_use_allowed: bool
    rems_required: bool
    dose: Dose
    phases: Annotated[tuple[Phase, ...], Strict(False), Field(min_length=1)]
    course: Course
    pre_dose_checks: Seq[PreDoseCheck]
    monitoring: Monitoring
    discharge_criteria: Annotated[
        tuple[DischargeCriterion, ...], Strict(False), Field(min_length=1)
    ]
    no_driving: NoDriving
    notes: Seq[Text] = ()

    # --- Esketamine: the label and the REMS, enforced as written -------------------------------

    @field_validator("route")
    @classmethod
    def _esketamine_route(cls, route: Route, info: ValidationInfo) -> Route:
        if info.data.get("drug") == "esketamine" and route != "intranasal":
            raise FieldProblems(
                [("", "esketamine is a nasal spray: route must be intranasal ([S10][S11] §1.1)")]
            )
        return route

    @field_validator("home_use_allowed")
    @classmethod
    def _esketamine_never_at_home(cls, allowed: bool, info: ValidationInfo) -> bool:
        if allowed and info.data.get("drug") == "esketamine":
            raise FieldProblems(
                [
                    (
                        "",
                        "must be false for esketamine: it is never dispensed for use at home "
                        "(SPRAVATO REMS [S8][S42] §1.9)",
                    )
                ]
            )
        return allowed

    @field_validator("rems_required")
    @classmethod
    def _esketamine_rems(cls, required: bool, info: ValidationInfo) -> bool:
        if not required and info.data.get("drug") == "esketamine":
            raise FieldProblems([("", "must be true for esketamine (SPRAVATO REMS [S4][S6] §1.9)")])
        return required

    # --- Dose, schedule and course ---------------------------------------------------------------

    @field_validator("dose")
    @classmethod
    def _dose_fits(cls, dose: FixedDose | PerKgDose, info: ValidationInfo) -> FixedDose | PerKgDose:
        problems: list[tuple[str, str]] = []
        if info.data.get("drug") == "esketamine" and dose.kind != "fixed":
            problems.append(("kind", "esketamine is dosed in fixed mg by device ([S10][S11] §1.1)"))
        iv = info.data.get("route") == "iv"
        if iv and isinstance(dose, PerKgDose) and dose.infusion_minutes is None:
            problems.append(("infusion_minutes", "an IV protocol needs infusion_minutes"))
        _raise_if_any(problems)
        return dose

    @field_validator("phases")
    @classmethod
    def _phases_fit(cls, phases: tuple[Phase, ...], info: ValidationInfo) -> tuple[Phase, ...]:
        problems = _contiguity_problems(phases)
        dose = info.data.get("dose")
        if dose is not None:
            problems += _phase_dose_problems(phases, dose)
        _raise_if_any(problems)
        return phases

    @field_validator("course")
    @classmethod
    def _course_covers_phases(cls, course: Course, info: ValidationInfo) -> Course:
        phases: tuple[Phase, ...] | None = info.data.get("phases")
        if course.max_weeks is None or phases is None:
            return course
        max_weeks = course.max_weeks.value
        problems: list[tuple[str, str]] = []
        for index, phase in enumerate(phases):
            if phase.start_week > max_weeks:
                problems.append(
                    (
                        "max_weeks.value",
                        f"phase {index} ({phase.name!r}) starts at week {phase.start_week}, "
                        f"after max_weeks ({max_weeks})",
                    )
                )
            elif phase.end_week is not None and phase.end_week > max_weeks:
                problems.append(
                    (
                        "max_weeks.value",
                        f"phase {index} ({phase.name!r}) ends at week {phase.end_week}, "
                        f"after max_weeks ({max_weeks})",
                    )
                )
        _raise_if_any(problems)
        return course

    # --- Checks, monitoring, discharge -----------------------------------------------------------

    @field_validator("pre_dose_checks")
    @classmethod
    def _checks_fit(
        cls, checks: tuple[PreDoseCheck, ...], info: ValidationInfo
    ) -> tuple[PreDoseCheck, ...]:
        problems = _duplicates([check.id for check in checks], "id")
        ids = {check.id for check in checks}
        rems_required = info.data.get("rems_required")
        if rems_required is True and "rems_enrolment" not in ids:
            problems.append(("", "rems_required needs a rems_enrolment check"))
        if rems_required is False and "rems_enrolment" in ids:
            problems.append(("", "a rems_enrolment check needs rems_required = true"))
        _raise_if_any(problems)
        return checks

    @field_validator("monitoring")
    @classmethod
    def _observation_start_fits(cls, monitoring: Monitoring, info: ValidationInfo) -> Monitoring:
        starts_at = monitoring.observation_starts_at
        dose = info.data.get("dose")
        if starts_at == "first_device" and dose is not None and not isinstance(dose, FixedDose):
            raise FieldProblems(
                [("observation_starts_at", "first_device needs a fixed (device) dose")]
            )
        route = info.data.get("route")
        if starts_at == "infusion_end" and route is not None and route != "iv":
            raise FieldProblems(
                [("observation_starts_at", f"infusion_end needs route iv, not {route}")]
            )
        return monitoring

    @field_validator("discharge_criteria")
    @classmethod
    def _criteria_fit(
        cls, criteria: tuple[DischargeCriterion, ...]
    ) -> tuple[DischargeCriterion, ...]:
        problems = _duplicates([criterion.id for criterion in criteria], "id")
        if "min_observation_elapsed" not in {criterion.id for criterion in criteria}:
            problems.append(("", "must include min_observation_elapsed"))
        _raise_if_any(problems)
        return criteria


def _duplicates(ids: list[str], field: str) -> list[tuple[str, str]]:
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(ids):
        if item in seen:
            problems.append((f"{index}.{field}", f"{item!r} is listed more than once"))
        seen.add(item)
    return problems


def _contiguity_problems(phases: tuple[Phase, ...]) -> list[tuple[str, str]]:
    """Phases run from week 1 without gaps or overlaps; only the last may be open-ended."""
    problems: list[tuple[str, str]] = []
    if phases[0].start_week != 1:
        problems.append(
            ("0.start_week", f"the first phase must start at week 1, not {phases[0].start_week}")
        )
    for index, (earlier, later) in enumerate(pairwise(phases)):
        if earlier.end_week is None:
            problems.append(
                (f"{index}.end_week", "only the last phase may be open-ended (no end_week)")
            )
            continue
        expected = earlier.end_week + 1
        if later.start_week > expected:
            problems.append(
                (
                    f"{index + 1}.start_week",
                    f"week {later.start_week} leaves a gap after week {earlier.end_week} "
                    f"(phase {earlier.name!r}); it should be {expected}",
                )
            )
        elif later.start_week < expected:
            problems.append(
                (
                    f"{index + 1}.start_week",
                    f"week {later.start_week} overlaps phase {earlier.name!r} (weeks "
                    f"{earlier.start_week}-{earlier.end_week}); it should be {expected}",
                )
            )
    return problems


def _phase_dose_problems(
    phases: tuple[Phase, ...], dose: FixedDose | PerKgDose
) -> list[tuple[str, str]]:
    """A phase's allowed_mg narrows a fixed dose's, and keeps the first dose in the first phase."""
    problems: list[tuple[str, str]] = []
    for index, phase in enumerate(phases):
        if phase.allowed_mg is None:
            continue
        if not isinstance(dose, FixedDose):
            problems.append((f"{index}.allowed_mg", "only a fixed-dose protocol can narrow doses"))
            continue
        allowed = dose.allowed_mg.value
        outside = tuple(mg for mg in phase.allowed_mg.value if mg not in allowed)
        if outside:
            problems.append(
                (
                    f"{index}.allowed_mg.value",
                    f"{_mg_list(outside)} mg not in dose.allowed_mg {_mg_list(allowed)}",
                )
            )
        elif index == 0 and dose.first_dose_mg.value not in phase.allowed_mg.value:
            problems.append(
                (
                    "0.allowed_mg.value",
                    f"leaves out dose.first_dose_mg ({dose.first_dose_mg.value} mg)",
                )
            )
    return problems


def iter_cited(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Cited]]:
    """Every sourced value, check, criterion and review point in `model`, with its field path
    (e.g. "phases.0.max_sessions_per_7_days"): what a UI labels "default, review locally"."""
    for name in type(model).model_fields:
        yield from _walk(getattr(model, name), f"{prefix}.{name}" if prefix else name)


def _walk(value: object, path: str) -> Iterator[tuple[str, Cited]]:
    if isinstance(value, Cited):
        yield path, value
    if isinstance(value, BaseModel):
        yield from iter_cited(value, path)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}")

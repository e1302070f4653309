"""A plan's limits in the form the pure booking rules read (``protocols.scheduling``): the
protocol's numbers, with mg/kg limits turned into mg for this patient. Shared by booking and by the
dependence watch (a plan's maximum per session), so the conversion is done in one place."""

from ketaguard.plans.models import TreatmentPlan
from ketaguard.protocols.definition import FixedDose, ProtocolDefinition
from ketaguard.protocols.scheduling import (
    CourseLimits,
    DoseLimits,
    FixedDoseLimits,
    PerKgDoseLimits,
    PhaseLimits,
    PlanFacts,
)


def dose_limits(definition: ProtocolDefinition, plan: TreatmentPlan) -> DoseLimits:
    dose = definition.dose
    if isinstance(dose, FixedDose):
        return FixedDoseLimits(
            allowed_mg=tuple(float(mg) for mg in dose.allowed_mg.value),
            first_dose_mg=float(dose.first_dose_mg.value),
            max_per_session_mg=float(dose.max_per_session_mg.value),
            max_step_up_mg=float(dose.max_step_up_mg.value) if dose.max_step_up_mg else None,
        )
    # mg/kg limits become mg for this patient at the weight the plan was calculated with.
    weight = float(str(plan.dose_calculation["weight_kg"]))
    step = dose.max_step_up_mg_per_kg
    return PerKgDoseLimits(
        min_mg=round(weight * float(dose.min_mg_per_kg.value), 1),
        max_mg=round(weight * float(dose.max_mg_per_kg.value), 1),
        max_step_up_mg=round(weight * float(step.value), 1) if step else None,
    )


def plan_facts(plan: TreatmentPlan, definition: ProtocolDefinition, timezone: str) -> PlanFacts:
    return PlanFacts(
        status=plan.status.value,
        start_date=plan.start_date,
        timezone=timezone,
        phases=tuple(
            PhaseLimits(
                name=phase.name,
                start_week=phase.start_week,
                end_week=phase.end_week,
                max_sessions_per_7_days=phase.max_sessions_per_7_days.value,
                min_interval_hours=(
                    float(phase.min_interval_hours.value) if phase.min_interval_hours else None
                ),
                allowed_mg=(
                    tuple(float(mg) for mg in phase.allowed_mg.value) if phase.allowed_mg else None
                ),
            )
            for phase in definition.phases
        ),
        dose=dose_limits(definition, plan),
        course=CourseLimits(
            max_weeks=definition.course.max_weeks.value if definition.course.max_weeks else None,
            max_sessions=(
                definition.course.max_sessions.value if definition.course.max_sessions else None
            ),
            planned_end=plan.planned_end_date,
        ),
    )

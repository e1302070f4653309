"""Which plan status may follow which. Approval (draft -> active) has its own checks."""

from ketaguard.plans.models import PlanStatus

TRANSITIONS: dict[PlanStatus, frozenset[PlanStatus]] = {
    PlanStatus.draft: frozenset({PlanStatus.active, PlanStatus.discontinued}),
    PlanStatus.active: frozenset(
        {PlanStatus.paused, PlanStatus.completed, PlanStatus.discontinued}
    ),
    PlanStatus.paused: frozenset({PlanStatus.active, PlanStatus.discontinued}),
    PlanStatus.completed: frozenset(),
    PlanStatus.discontinued: frozenset(),
}


def allowed(current: PlanStatus, target: PlanStatus) -> bool:
    return target in TRANSITIONS[current]


def explain_refusal(current: PlanStatus, target: PlanStatus) -> str:
    options = sorted(status.value for status in TRANSITIONS[current])
    then = f"it can go to {', '.join(options)}" if options else "it is final"
    return f"A {current.value} plan cannot become {target.value}; {then}"

"""The session state machine: which action may happen in which state."""

from ketaguard.kit.errors import Conflict
from ketaguard.sessions.models import SessionStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.scheduled: frozenset({S.checked_in, S.cancelled, S.no_show}),
    S.checked_in: frozenset({S.pre_dose_cleared, S.aborted}),
    S.pre_dose_cleared: frozenset({S.dosed, S.aborted}),
    S.dosed: frozenset({S.monitoring, S.aborted}),
    S.monitoring: frozenset({S.ready_for_discharge, S.aborted}),
    # A reading that trips a threshold after the assessment sends the patient back to monitoring.
    S.ready_for_discharge: frozenset({S.discharged, S.monitoring, S.aborted}),
    S.discharged: frozenset(),
    S.cancelled: frozenset(),
    S.no_show: frozenset(),
    S.aborted: frozenset(),
}

# Where vital signs and ratings may be recorded: from arrival until the patient leaves.
RECORDING_STATES = frozenset(
    {S.checked_in, S.pre_dose_cleared, S.dosed, S.monitoring, S.ready_for_discharge}
)
# After the dose, readings are judged against the "during" thresholds.
AFTER_DOSE_STATES = frozenset({S.dosed, S.monitoring, S.ready_for_discharge})


def require_transition(current: S, target: S) -> None:
    if target not in TRANSITIONS[current]:
        raise Conflict(
            f"The session is {current.value}; it cannot become {target.value}",
            current=current.value,
        )


def require_state(current: S, allowed: frozenset[S], doing: str) -> None:
    if current not in allowed:
        states = ", ".join(sorted(state.value for state in allowed))
        raise Conflict(
            f"The session is {current.value}; {doing} is possible only when it is {states}",
            current=current.value,
        )

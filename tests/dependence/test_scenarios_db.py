"""The four synthetic scenarios built through the services on the database: every record stored
as the API stores it, judged as it is stored, giving the signals, status and review each must.

Where the services cannot store what a pure scenario holds, the database version says so and
expects what the services make of it instead."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ketaguard.dependence.evaluation import assess
from ketaguard.dependence.models import ReviewStatus
from ketaguard.dependence.signals import Severity
from ketaguard.dependence.status import DependenceStatus
from ketaguard.plans.models import RequestDecision, RequestKind
from tests.dependence import scenarios
from tests.dependence.builders import Course, enrol, set_settings, urinary
from tests.factories import Personas

WATCH, REVIEW, URGENT = Severity.watch, Severity.review_needed, Severity.urgent

# (day, craving, ICSI, SDS, PHQ-9) of each check-in, as in the pure scenario.
_BENIGN_CHECK_INS = (
    (6, 1, 1, 1, 15),
    (13, 0, 1, None, 10),
    (20, 1, 0, 1, 8),
    (27, 0, 1, None, 7),
    (41, 1, 0, 1, 6),
)
_BENIGN_DAYS = (0, 3, 7, 10, 14, 17, 21, 24, 31, 38)


def benign_course(db: Session, personas: Personas) -> Course:
    course = enrol(
        db,
        personas,
        phq9_total=20,
        auditc=(1, 1, 0),
        substance_use=[
            {"substance": "alcohol", "ever": True, "last_12_months": True, "current": True}
        ],
    )
    check_ins = {entry[0]: entry for entry in _BENIGN_CHECK_INS}
    for day in sorted({*_BENIGN_DAYS, *check_ins}):
        if day in check_ins:
            _, craving, icsi, sds, phq9 = check_ins[day]
            parts = {"craving": craving, "urinary": urinary(), "icsi": icsi, "phq9": phq9}
            course.check_in(day, **parts, **({} if sds is None else {"sds": sds}))
        else:
            n = _BENIGN_DAYS.index(day)
            course.dose(day, 56 if n == 0 else 84, craving=(0, 1)[n % 2])
    return course


def dose_escalation_with_fading_response(db: Session, personas: Personas) -> Course:
    course = enrol(db, personas, protocol="ketamine-iv-0.5", phq9_total=22, auditc=(1, 1, 0))
    for day in (0, 2, 4, 7):
        course.dose(day, 35)
    course.check_in(7, phq9=14, craving=2)
    for day in (9, 11):
        course.dose(day, 35)
    course.check_in(14, phq9=10, craving=2)
    # Past the 6-infusion course and the 3-week induction: each needs the prescriber's override.
    past = "Maintenance infusion agreed after the induction course"
    course.dose(28, 35, override=past)
    course.check_in(28, phq9=9, craving=3)
    course.ask(40, RequestKind.higher_dose, RequestDecision.declined)
    course.dose(42, 40, override=past)
    course.check_in(45, phq9=13, craving=3)
    course.dose(49, 45, override=past)
    course.dose(56, 50, override=past)
    course.check_in(60, phq9=15, craving=3)
    return course


def reported_outside_use(db: Session, personas: Personas) -> Course:
    course = enrol(
        db,
        personas,
        dast10_yes=frozenset({1, 2}),
        auditc=(1, 1, 0),
        sds_total=None,
        substance_use=[
            {"substance": "cannabis", "ever": True, "last_12_months": True, "current": False}
        ],
    )
    for day in (0, 3, 7, 10):
        course.dose(day, 56)
    course.dose(14, 56, craving=3)
    course.check_in(
        20,
        craving=8,
        substance_use={
            "used": True,
            "entries": [
                {
                    "substance": "ketamine",
                    "used_on": (course.start + timedelta(days=19)).isoformat(),
                    "amount": "2 bumps",
                },
                {
                    "substance": "other",
                    "name": "cannabis",
                    "used_on": (course.start + timedelta(days=18)).isoformat(),
                    "amount": "one joint",
                },
            ],
        },
    )
    # Before the next session a nurse notes use since the last one; the dose is not given.
    session = course.book(24, 56)
    course.pre_dose(session, 24, craving=5, use="Used ketamine at a party on Saturday")
    return course


def bladder_symptoms(db: Session, personas: Personas) -> Course:
    course = enrol(db, personas, auditc=(1, 1, 0))
    visits = {
        6: ((), 1),
        20: ((), 3),
        34: (("daytime_frequency", "urgency"), 6),
        48: (("daytime_frequency", "urgency", "bladder_pain"), 9),
    }
    for n in range(8):
        course.dose(7 * n, 56 if n == 0 else 84)
        for day, (present, total) in visits.items():
            if 7 * n < day < 7 * (n + 1):
                course.check_in(day, urinary=urinary(*present), icsi=total)
    return course


@dataclass(frozen=True)
class DbScenario:
    build: Callable[[Session, Personas], Course]
    expected: tuple[tuple[str, Severity], ...]
    status: DependenceStatus
    review: Severity | None
    # The pure scenario it stores, and whether the services can store all of it.
    pure: Callable[[], scenarios.Scenario]
    same_as_pure: bool = True


DB_SCENARIOS = {
    "benign course": DbScenario(
        benign_course, (), DependenceStatus.none, None, scenarios.benign_course
    ),
    # The pure scenario gives 40 mg against 35 mg planned (dose_escalation.above_plan,
    # review_needed). The services refuse to give more than the booking planned, so here the
    # 40 mg session is booked at 40 mg: no above_plan signal. The sessions after the course and
    # the induction are booked under the prescriber's override, each a drug_seeking.override.
    "dose escalation with fading response": DbScenario(
        dose_escalation_with_fading_response,
        (
            ("dose_escalation.rising", WATCH),
            ("tolerance.fading_response", WATCH),
            ("drug_seeking.request", WATCH),
            *(("drug_seeking.override", WATCH),) * 4,
        ),
        DependenceStatus.watch,
        None,
        scenarios.dose_escalation_with_fading_response,
        same_as_pure=False,
    ),
    "reported outside use": DbScenario(
        reported_outside_use,
        (
            ("outside_use.ketamine", URGENT),
            ("outside_use.other_substance", REVIEW),
            ("outside_use.unspecified", REVIEW),
            ("craving.at_or_above_threshold", REVIEW),
            ("baseline_risk.substance_history", Severity.info),
        ),
        DependenceStatus.urgent,
        URGENT,
        scenarios.reported_outside_use,
    ),
    "bladder symptoms": DbScenario(
        bladder_symptoms,
        (
            ("urinary_symptoms.new_symptoms", REVIEW),
            ("urinary_symptoms.new_symptoms", REVIEW),
            ("urinary_symptoms.icsi_rising", WATCH),
        ),
        DependenceStatus.review_needed,
        REVIEW,
        scenarios.bladder_symptoms,
    ),
}


@pytest.mark.parametrize("name", DB_SCENARIOS)
def test_scenario_on_the_database(name: str, db: Session, personas: Personas) -> None:
    scenario = DB_SCENARIOS[name]
    set_settings(db, personas)
    course = scenario.build(db, personas)

    signals = course.open_signals()
    assert sorted((s.rule_id, s.severity) for s in signals) == sorted(scenario.expected)
    if scenario.same_as_pure:
        assert sorted(scenario.expected) == sorted(scenario.pure().expected)
    assessment = assess(db, course.patient)
    assert assessment.status == scenario.status
    for signal in signals:
        assert signal.rule_id in assessment.explanation
        assert signal.evidence, signal.rule_id

    reviews = course.reviews()
    if scenario.review is None:
        assert reviews == []
    else:
        [review] = reviews
        assert (review.severity, review.status) == (scenario.review, ReviewStatus.open)
        assert review.plan_id == course.plan.id
        assert review.assigned_to_id == personas.prescriber_a.id
        hours = 4 if scenario.review is URGENT else 72
        assert review.due_at - review.opened_at == timedelta(hours=hours)
        assert "the clinic's" in review.due_note

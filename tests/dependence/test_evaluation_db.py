"""``reevaluate`` on the database: signals kept by key, trends resolved and reopened, the review
opened once and raised, every hook calling it in the same transaction, and all of it audited."""

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.audit.models import AuditEvent
from ketaguard.auth.service import principal_for_user
from ketaguard.dependence.evaluation import assess, reevaluate
from ketaguard.dependence.models import (
    Closure,
    DecisionKind,
    DependenceSignal,
    ReviewStatus,
    SignalState,
)
from ketaguard.dependence.schemas import DecisionCreate
from ketaguard.dependence.service import decide
from ketaguard.dependence.signals import Severity
from ketaguard.dependence.status import DependenceStatus
from ketaguard.intake.schemas import IntakeData
from ketaguard.intake.service import record_intake
from ketaguard.plans.models import RequestDecision, RequestKind
from ketaguard.screening.schemas import ResponseCreate
from ketaguard.screening.service import administer
from tests.dependence.builders import CONTEXT, Course, enrol, ketamine_use, sds, set_settings
from tests.factories import INTAKE, Personas, make_patient


def _events(db: Session, action: str) -> int:
    return db.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def _by_rule(course: Course) -> dict[str, DependenceSignal]:
    return {s.rule_id: s for s in course.open_signals()}


def _course(db: Session, personas: Personas, **settings: object) -> Course:
    set_settings(db, personas, **settings)
    return enrol(db, personas, start_days_ago=30, auditc=(1, 1, 0))


def test_nothing_is_judged_before_a_plan_is_approved(db: Session, personas: Personas) -> None:
    patient = make_patient(db, personas.clinic_a)
    assert reevaluate(db, patient.id, CONTEXT) is None
    nurse = principal_for_user(db, personas.nurse_a, None)
    body = ResponseCreate(instrument="dast10", answers={f"dast10-{n}": 1 for n in range(1, 11)})
    administer(db, nurse, CONTEXT, patient.id, body)
    assert db.scalar(select(func.count()).select_from(DependenceSignal)) == 0


def test_judging_again_changes_nothing(db: Session, personas: Personas) -> None:
    course = _course(db, personas)
    course.check_in(3, memory="mild")
    before = [(s.id, s.severity, s.summary) for s in course.open_signals()]
    events = _events(db, "dependence.evaluate")
    evaluated = reevaluate(db, course.patient.id, CONTEXT)
    assert evaluated is not None
    assert (evaluated.raised, evaluated.resolved) == ([], [])
    assert [(s.id, s.severity, s.summary) for s in course.open_signals()] == before
    assert _events(db, "dependence.evaluate") == events
    assert [s.rule_id for s in course.open_signals()] == ["memory_complaint.reported"]


def test_a_check_in_raises_its_signals_in_the_same_transaction(
    db: Session, personas: Personas
) -> None:
    course = _course(db, personas)
    checkin = course.check_in(3, craving=9)
    [signal] = course.open_signals()
    assert (signal.rule_id, signal.severity) == (
        "craving.at_or_above_threshold",
        Severity.review_needed,
    )
    assert signal.evidence[0]["kind"] == "check_in"
    assert signal.evidence[0]["record_id"] == str(checkin.id)
    assert "threshold of 7" in signal.summary
    assert "this clinic's setting, not from the clinical reference" in signal.source
    [review] = course.reviews()
    assert review.severity is Severity.review_needed
    evaluated = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "dependence.evaluate")
    ).all()[-1]
    assert json.loads(evaluated.detail)["raised"][0]["rule_id"] == "craving.at_or_above_threshold"
    assert _events(db, "dependence.review.open") == 1


def test_a_trend_no_longer_given_is_resolved_and_comes_back(
    db: Session, personas: Personas
) -> None:
    course = _course(db, personas)
    for day, craving in ((1, 2), (2, 3), (3, 4)):
        course.check_in(day, craving=craving)
    rising = _by_rule(course)["craving.rising"]
    assert rising.trend

    # The clinic switches the rule off: the trend is no longer given, so it is resolved.
    set_settings(db, personas, craving_rising_reports=None)
    db.refresh(rising)
    assert (rising.state, rising.closure) == (SignalState.closed, Closure.auto_resolved)
    assert rising.closed_reason is not None
    assert "Resolved automatically" in rising.closed_reason
    assert "craving.rising is off" in assess(db, course.patient).explanation

    set_settings(db, personas)
    db.refresh(rising)
    assert (rising.state, rising.closure, rising.closed_at) == (SignalState.open, None, None)

    # A lower craving ends the run for good.
    course.check_in(4, craving=1)
    db.refresh(rising)
    assert rising.state is SignalState.closed
    assert "craving.rising" not in _by_rule(course)


def test_an_event_stays_open_when_its_rule_is_switched_off(db: Session, personas: Personas) -> None:
    course = _course(db, personas)
    course.check_in(3, craving=9)
    set_settings(db, personas, craving_threshold=None)
    assert "craving.at_or_above_threshold" in _by_rule(course)
    assessment = assess(db, course.patient)
    assert assessment.status is DependenceStatus.review_needed
    assert (
        "craving.at_or_above_threshold is off: the clinic has not set a craving threshold"
    ) in assessment.explanation


def test_an_override_booking_is_watched_from_the_booking(db: Session, personas: Personas) -> None:
    course = _course(db, personas)
    course.dose(0, 56)
    course.dose(3, 84)
    session = course.book(5, 84, override="Patient travelling; agreed to bring it forward")
    signal = _by_rule(course)["drug_seeking.override"]
    assert signal.severity is Severity.watch
    assert signal.evidence[0]["record_id"] == str(session.id)
    assert "not dosed yet" in str(signal.evidence[0]["description"])
    course.pre_dose(session, 5, craving=None, use=None)
    course.give(session, 5, 84)
    # Once dosed it is the same signal (the same key), now naming the dose given.
    [dosed] = [s for s in course.open_signals() if s.rule_id == "drug_seeking.override"]
    assert dosed.id == signal.id
    assert "84 mg given" in str(dosed.evidence[0]["description"])
    assert "Patient travelling" in dosed.summary


def test_new_baseline_facts_raise_open_signals_and_open_a_review(
    db: Session, personas: Personas
) -> None:
    course = _course(db, personas)
    course.check_in(3, memory="moderate")
    memory = _by_rule(course)["memory_complaint.reported"]
    assert (memory.severity, memory.raised_from) == (Severity.watch, None)
    assert course.reviews() == []

    nurse = principal_for_user(db, personas.nurse_a, None)
    ketamine = {"substance": "ketamine", "ever": True, "last_12_months": False, "current": False}
    intake = IntakeData.model_validate({**INTAKE, "substance_use": [ketamine]})
    record_intake(db, nurse, CONTEXT, course.patient.id, intake, "Disclosed past use")
    db.refresh(memory)
    assert (memory.severity, memory.raised_from) == (Severity.review_needed, Severity.watch)
    assert memory.raised_by[0]["kind"] == "intake"
    assert "baseline_risk.ketamine_history" in _by_rule(course)
    [review] = course.reviews()
    assert review.severity is Severity.review_needed


def test_requests_repeat_into_a_review_and_an_answer_updates_the_evidence(
    db: Session, personas: Personas
) -> None:
    course = _course(db, personas)
    course.ask(2, RequestKind.extra)
    assert [s.rule_id for s in course.open_signals()] == ["drug_seeking.request"]
    assert course.reviews() == []
    course.ask(9, RequestKind.earlier, RequestDecision.declined)
    rules = sorted(s.rule_id for s in course.open_signals())
    assert rules == [
        "drug_seeking.repeated_requests",
        "drug_seeking.request",
        "drug_seeking.request",
    ]
    declined = [s for s in course.open_signals() if "(declined)" in s.summary]
    assert len(declined) == 1
    [review] = course.reviews()
    assert review.severity is Severity.review_needed


def test_a_review_is_raised_to_urgent_and_never_given_longer(
    db: Session, personas: Personas
) -> None:
    course = _course(db, personas)
    course.check_in(3, craving=9)
    [review] = course.reviews()
    assert review.due_at - review.opened_at == timedelta(hours=72)
    course.check_in(
        4,
        substance_use=ketamine_use(course, 3, "a line"),
    )
    [raised] = course.reviews()
    assert raised.id == review.id
    assert raised.severity is Severity.urgent
    assert raised.due_at - raised.opened_at < timedelta(hours=72)
    assert "urgent_review_due_hours" in raised.due_note
    assert _events(db, "dependence.review.raise") == 1


def test_without_clinic_settings_a_review_is_due_at_once_and_says_why(
    db: Session, personas: Personas
) -> None:
    course = enrol(db, personas, start_days_ago=30, auditc=(1, 1, 0))
    course.check_in(
        3,
        urinary={
            "daytime_frequency": True,
            "nocturia": False,
            "urgency": False,
            "dysuria": False,
            "haematuria": False,
            "bladder_pain": False,
        },
    )
    [review] = course.reviews()
    assert review.due_at == review.opened_at
    assert review.due_note.startswith("Due at once: the clinic has not set review_due_hours")
    explanation = assess(db, course.patient).explanation
    assert "Not watched, or watched less, because the clinic has not set a number" in explanation
    for rule in ("craving.at_or_above_threshold", "sds.rising", "dose_escalation.rising"):
        assert f"- {rule} is off" in explanation


def test_a_newer_dsm5_checklist_replaces_the_older(db: Session, personas: Personas) -> None:
    course = _course(db, personas)
    prescriber = principal_for_user(db, personas.prescriber_a, None)

    def checklist(day: int, *met: int) -> None:
        answers = {f"kud-{n}": int(n in met) for n in range(1, 11)}
        body = ResponseCreate(
            instrument="ketamine-use-disorder",
            answers=answers,
            completed_at=course.at(day),
            supervised=True,
        )
        administer(db, prescriber, CONTEXT, course.patient.id, body)

    checklist(3, 1, 2, 4, 5)
    moderate = _by_rule(course)["dsm5_criteria.moderate"]
    assert moderate.severity is Severity.urgent
    # Tolerance alone is not counted under supervision (reference §4.1 [S115]).
    checklist(10, 10)
    db.refresh(moderate)
    assert (moderate.state, moderate.closure) == (SignalState.closed, Closure.auto_resolved)
    assert "dsm5_criteria.below_threshold" not in _by_rule(course)


def test_a_signal_closed_by_a_decision_stays_closed(db: Session, personas: Personas) -> None:
    course = _course(db, personas)
    course.check_in(3, craving=9)
    [review] = course.reviews()
    decide(
        db,
        course.prescriber,
        CONTEXT,
        review.id,
        DecisionCreate(
            kind=DecisionKind.continue_,
            reason="Craving discussed; coping plan agreed with the patient",
            follow_up_on=course.start + timedelta(days=40),
        ),
    )
    assert course.open_signals() == []
    evaluated = reevaluate(db, course.patient.id, CONTEXT)
    assert evaluated is not None
    assert evaluated.assessment.status is DependenceStatus.none
    assert course.open_signals() == []
    assert [r.status for r in course.reviews()] == [ReviewStatus.decided]
    # New evidence is a new signal, and a new review.
    course.check_in(5, craving=8)
    assert [s.rule_id for s in course.open_signals()] == ["craving.at_or_above_threshold"]
    assert sorted(r.status for r in course.reviews()) == [ReviewStatus.decided, ReviewStatus.open]


def test_a_substance_note_before_a_dose_is_judged_before_the_dose(
    db: Session, personas: Personas
) -> None:
    course = _course(db, personas)
    session = course.book(2, 56)
    course.pre_dose(session, 2, craving=2, use="Some ketamine at the weekend")
    signal = _by_rule(course)["outside_use.unspecified"]
    assert signal.evidence[0]["record_id"] == str(session.id)
    [review] = course.reviews()
    assert review.severity is Severity.review_needed


def test_an_sds_re_screen_at_the_clinic_is_read_in_the_same_transaction(
    db: Session, personas: Personas
) -> None:
    course = _course(db, personas)  # screened with an SDS of 1 before the plan started
    assert "sds.rising" not in _by_rule(course)
    nurse = principal_for_user(db, personas.nurse_a, None)
    body = ResponseCreate(instrument="sds", answers=sds(4), completed_at=course.at(20))
    response, _ = administer(db, nurse, CONTEXT, course.patient.id, body)

    rising = _by_rule(course)["sds.rising"]
    assert [e["kind"] for e in rising.evidence] == ["screening_response", "screening_response"]
    assert rising.evidence[-1]["record_id"] == str(response.id)

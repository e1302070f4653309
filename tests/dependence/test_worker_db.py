"""The worker's dependence jobs: an overdue review escalates once, to the medical lead or every
prescriber; a referral's follow-up is reminded until the referral is closed. Messages say nothing
clinical."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert, AlertSeverity
from ketaguard.alerts.worker import run_once
from ketaguard.auth.service import principal_for_user
from ketaguard.checkins.models import OutboxMessage
from ketaguard.clinics.models import Role
from ketaguard.config import Settings
from ketaguard.dependence import referrals
from ketaguard.dependence.models import (
    DecisionKind,
    DependenceReview,
    Referral,
    ReferralStatus,
    ReferralTo,
)
from ketaguard.dependence.schemas import DecisionCreate, ReferralCreate, ReferralStatusChange
from ketaguard.dependence.service import decide
from ketaguard.dependence.worker import (
    ESCALATION_RULE,
    escalate_overdue_reviews,
    queue_referral_reminders,
)
from ketaguard.kit.time import utcnow
from tests.checkins.test_outbox import CLINICAL_WORDS
from tests.dependence.builders import CONTEXT, Course, enrol, ketamine_use, set_settings
from tests.factories import Personas, make_staff


def _clinical(message: OutboxMessage) -> list[str]:
    text = f"{message.subject} {message.body}".lower()
    return [word for word in (*CLINICAL_WORDS, "referral", "review", "urology") if word in text]


def _urgent_review(db: Session, personas: Personas) -> tuple[Course, DependenceReview]:
    course = enrol(db, personas, start_days_ago=20, auditc=(1, 1, 0))
    course.check_in(
        3,
        substance_use=ketamine_use(course, 2),
    )
    [review] = course.reviews()
    return course, review


def test_an_overdue_review_escalates_once_to_the_medical_lead(
    db: Session, personas: Personas, settings: Settings
) -> None:
    set_settings(db, personas, medical_lead_id=str(personas.prescriber_a.id))
    make_staff(db, personas.clinic_a, Role.prescriber)
    _, review = _urgent_review(db, personas)
    assert review.due_at - review.opened_at == timedelta(hours=4)

    assert escalate_overdue_reviews(db, CONTEXT, review.due_at - timedelta(minutes=1)) == []
    later = review.due_at + timedelta(minutes=1)
    first = run_once(db, settings, later)
    second = run_once(db, settings, later + timedelta(minutes=5))
    assert (first.reviews_escalated, second.reviews_escalated) == (1, 0)
    # A second worker racing the first finds the claim taken.
    assert escalate_overdue_reviews(db, CONTEXT, later) == []

    db.refresh(review)
    assert review.escalated_at == later
    assert review.escalated_to == [str(personas.prescriber_a.id)]
    [alert] = db.scalars(select(Alert).where(Alert.rule == ESCALATION_RULE)).all()
    assert alert.severity is AlertSeverity.urgent
    assert alert.evidence["review_id"] == str(review.id)
    assert "not decided; escalated to" in alert.message
    [message] = db.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("dependence-escalation"))
    ).all()
    assert message.recipient == personas.prescriber_a.email
    assert _clinical(message) == []


def test_without_a_medical_lead_every_prescriber_is_told(db: Session, personas: Personas) -> None:
    # No settings at all: the review is due at once.
    other = make_staff(db, personas.clinic_a, Role.prescriber)
    _, review = _urgent_review(db, personas)
    [escalated] = escalate_overdue_reviews(db, CONTEXT, utcnow())
    assert escalated.id == review.id
    assert sorted(escalated.escalated_to) == sorted([str(personas.prescriber_a.id), str(other.id)])
    recipients = db.scalars(select(OutboxMessage.recipient)).all()
    assert sorted(recipients) == sorted([personas.prescriber_a.email, other.email])


def test_a_decided_review_never_escalates(db: Session, personas: Personas) -> None:
    course, review = _urgent_review(db, personas)
    decide(
        db,
        course.prescriber,
        CONTEXT,
        review.id,
        DecisionCreate(
            kind=DecisionKind.continue_,
            reason="Single lapse; relapse plan agreed with the patient",
            follow_up_on=course.start + timedelta(days=30),
        ),
    )
    assert escalate_overdue_reviews(db, CONTEXT, utcnow() + timedelta(days=3)) == []


def test_referral_follow_ups_are_reminded_until_the_referral_is_closed(
    db: Session, personas: Personas
) -> None:
    course = enrol(db, personas, start_days_ago=20, auditc=(1, 1, 0))
    nurse = principal_for_user(db, personas.nurse_a, None)
    now = utcnow()
    today = referrals.local_today(db, personas.clinic_a.id, now)
    referral = referrals.create_referral(
        db,
        nurse,
        CONTEXT,
        course.patient.id,
        ReferralCreate(
            referred_to=ReferralTo.urology,
            name="Harbourside Urology",
            note="New urgency and frequency",
            next_follow_up_on=today,
        ),
    )

    [message] = queue_referral_reminders(db, CONTEXT, now)
    assert message.recipient == personas.nurse_a.email
    assert _clinical(message) == []
    assert queue_referral_reminders(db, CONTEXT, now + timedelta(hours=1)) == []

    referrals.change_status(
        db,
        nurse,
        CONTEXT,
        referral.id,
        ReferralStatusChange(
            status=ReferralStatus.accepted, next_follow_up_on=today + timedelta(days=7)
        ),
    )
    assert queue_referral_reminders(db, CONTEXT, now + timedelta(days=2)) == []
    assert len(queue_referral_reminders(db, CONTEXT, now + timedelta(days=8))) == 1

    referrals.change_status(
        db,
        nurse,
        CONTEXT,
        referral.id,
        ReferralStatusChange(status=ReferralStatus.attended, note="Seen in clinic"),
    )
    db.flush()
    db.refresh(referral)
    assert referral.next_follow_up_on is None
    assert referral.closed_at is not None
    assert [entry["status"] for entry in referral.history] == ["sent", "accepted", "attended"]
    assert queue_referral_reminders(db, CONTEXT, now + timedelta(days=60)) == []
    count = db.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.dedupe_key.startswith(f"referral-follow-up:{referral.id}"))
    )
    assert count == 2
    assert db.get_one(Referral, referral.id).status is ReferralStatus.attended


def test_a_review_raised_to_urgent_after_its_escalation_is_escalated_again(
    db: Session, personas: Personas
) -> None:
    set_settings(db, personas, medical_lead_id=str(personas.prescriber_a.id))
    course = enrol(db, personas, start_days_ago=20, auditc=(1, 1, 0))
    course.check_in(2, craving=9)
    [review] = course.reviews()
    assert review.severity.value == "review_needed"
    [first] = escalate_overdue_reviews(db, CONTEXT, review.due_at + timedelta(minutes=1))

    _, raised = _urgent_review(db, personas)
    assert raised.id == review.id
    db.refresh(review)
    assert (review.severity.value, review.escalated_at) == ("urgent", None)
    assert escalate_overdue_reviews(db, CONTEXT, review.due_at - timedelta(minutes=1)) == []
    [again] = escalate_overdue_reviews(db, CONTEXT, review.due_at + timedelta(minutes=1))
    assert again.id == first.id
    severities = db.scalars(
        select(Alert.severity).where(Alert.rule == ESCALATION_RULE).order_by(Alert.raised_at)
    ).all()
    assert severities == [AlertSeverity.same_day, AlertSeverity.urgent]
    messages = db.scalar(
        select(func.count()).where(OutboxMessage.dedupe_key.startswith("dependence-escalation"))
    )
    assert messages == 2

"""The demo's dependence watch: each clinic's numbers, and patients in every status with the
evidence behind it. Synthetic; everything goes through the services the API uses.

By this step the earlier ones have raised the signals as their records were stored: Sam's catch-up
session booked past the plan's limits (watch), Casey's declined request for an earlier session,
raised by a history of alcohol treatment and a positive AUDIT-C (review_needed), Robin's report
of ketamine use outside sessions (urgent). Here Downtown sets its numbers, Casey's prescriber
decides on the review (closer monitoring: none left open), Robin is referred to urology for new
bladder symptoms, and Jamie, at Harbor, reports strong craving (review_needed). Harbor sets only
some numbers, so its patients' explanations name the rules switched off.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.auth.service import principal_for_user
from ketaguard.checkins.schemas import CheckinCreate
from ketaguard.checkins.service import submit_checkin
from ketaguard.dependence import referrals, service
from ketaguard.dependence.models import DecisionKind, DependenceReview, ReferralTo, ReviewStatus
from ketaguard.dependence.schemas import DecisionCreate, ReferralCreate, SettingsIn
from ketaguard.kit.demo import DemoContext, acting_as
from ketaguard.kit.time import utcnow

# The demo clinics' own choices, not recommendations: the clinical reference gives none of these.
DOWNTOWN_SETTINGS = {
    "craving_threshold": 7,
    "craving_rising_reports": 3,
    "rising_dose_sessions": 3,
    "repeated_requests": 2,
    "repeated_requests_days": 30,
    "sds_rising_scores": 2,
    "icsi_rising_scores": 3,
    "phq9_fading_rise_points": 4,
    "review_due_hours": 72,
    "urgent_review_due_hours": 4,
}
HARBOR_SETTINGS = {
    "craving_threshold": 7,
    "craving_rising_reports": None,
    "rising_dose_sessions": None,
    "repeated_requests": None,
    "repeated_requests_days": None,
    "sds_rising_scores": None,
    "icsi_rising_scores": None,
    "phq9_fading_rise_points": None,
    "review_due_hours": 48,
    "urgent_review_due_hours": None,
    "medical_lead_id": None,
}


def _settings(db: Session, ctx: DemoContext) -> None:
    downtown = principal_for_user(db, ctx.staff["prescriber.downtown"], None)
    body = SettingsIn.model_validate(
        {**DOWNTOWN_SETTINGS, "medical_lead_id": str(ctx.staff["prescriber.downtown"].id)}
    )
    service.update_settings(db, downtown, acting_as(downtown), ctx.clinics["downtown"].id, body)
    harbor = principal_for_user(db, ctx.staff["prescriber.harbor"], None)
    service.update_settings(
        db,
        harbor,
        acting_as(harbor),
        ctx.clinics["harbor"].id,
        SettingsIn.model_validate(HARBOR_SETTINGS),
    )


def _casey(db: Session, ctx: DemoContext) -> None:
    """The prescriber reviewed Casey's request with her history in mind: check-ins closer."""
    patient = ctx.patients["DT-0004"]
    review = db.scalars(
        select(DependenceReview).where(
            DependenceReview.patient_id == patient.id,
            DependenceReview.status == ReviewStatus.open,
        )
    ).one()
    prescriber = principal_for_user(db, ctx.staff["prescriber.downtown"], None)
    today = referrals.local_today(db, patient.clinic_id)
    service.decide(
        db,
        prescriber,
        acting_as(prescriber),
        review.id,
        DecisionCreate(
            kind=DecisionKind.closer_monitoring,
            reason=(
                "Asked to bring a session forward; past alcohol treatment. Discussed: no craving, "
                "no use. Weekly check-ins asking everything until the follow-up."
            ),
            follow_up_on=today + timedelta(days=28),
        ),
    )


def _robin(db: Session, ctx: DemoContext) -> None:
    """New urinary urgency and frequency: referred to urology (reference §4.3)."""
    patient = ctx.patients["DT-0005"]
    nurse = principal_for_user(db, ctx.staff["nurse.downtown"], None)
    referrals.create_referral(
        db,
        nurse,
        acting_as(nurse),
        patient.id,
        ReferralCreate(
            referred_to=ReferralTo.urology,
            name="Northwind Urology (demo)",
            note="New urgency and daytime frequency reported at the check-in",
            next_follow_up_on=referrals.local_today(db, patient.clinic_id) + timedelta(days=3),
        ),
    )


def _jamie(db: Session, ctx: DemoContext) -> None:
    """Two days after the infusion, by phone: strong craving, nothing else."""
    patient = ctx.patients["HB-0002"]
    nurse = principal_for_user(db, ctx.staff["nurse.harbor"], None)
    body = CheckinCreate.model_validate(
        {
            "completed_at": (utcnow() - timedelta(days=2)).isoformat(),
            "craving": 8,
            "substance_use": {"used": False},
            "note": "Called the clinic; craving since the infusion, no use.",
        }
    )
    submit_checkin(db, nurse, acting_as(nurse), patient.id, body)


def dependence_demo(db: Session, ctx: DemoContext) -> None:
    _settings(db, ctx)
    _casey(db, ctx)
    _robin(db, ctx)
    _jamie(db, ctx)

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.audit.models import AuditEvent
from ketaguard.audit.service import verify_chain
from ketaguard.auth.models import User
from ketaguard.auth.passwords import verify_password
from ketaguard.clinics.models import Clinic, Membership, Role
from ketaguard.demo import DEMO_PASSWORD, DEMO_STEPS, build_demo, demo_exists, demo_logins
from ketaguard.patients.models import CareStatus, Patient
from ketaguard.plans.models import PlanStatus, RequestDecision, SessionRequest, TreatmentPlan
from ketaguard.rems.form import deadline_state
from ketaguard.screening.models import EligibilityDecision
from ketaguard.sessions.models import RemsForm, SessionStatus, TreatmentSession, VitalReading


def test_demo_builds_two_clinics_with_every_role_and_patients_at_many_stages(db: Session) -> None:
    assert not demo_exists(db)
    assert list(build_demo(db)) == [label for label, _ in DEMO_STEPS]
    assert demo_exists(db)

    clinics = db.scalars(select(Clinic)).all()
    assert len(clinics) == 2
    for clinic in clinics:
        roles = Counter(
            db.scalars(select(Membership.role).where(Membership.clinic_id == clinic.id))
        )
        assert set(roles) == set(Role), clinic.name
        patients = db.scalar(
            select(func.count()).select_from(Patient).where(Patient.clinic_id == clinic.id)
        )
        assert patients is not None
        assert patients >= 3

    stages = set(db.scalars(select(Patient.care_status)))
    assert stages >= {CareStatus.referred, CareStatus.screening, CareStatus.in_treatment}
    assert len(stages) >= 5


def test_every_printed_demo_login_works_with_the_demo_password(db: Session) -> None:
    list(build_demo(db))
    for login in demo_logins():
        user = db.scalar(select(User).where(User.email == login.email))
        assert user is not None, login.email
        assert verify_password(user.password_hash, DEMO_PASSWORD)


def test_demo_has_patients_across_eligibility_outcomes_and_risk_tiers(db: Session) -> None:
    list(build_demo(db))
    decided = db.execute(
        select(EligibilityDecision.computed_eligibility, EligibilityDecision.computed_risk_tier)
    ).all()
    assert {e for e, _ in decided} == {
        "eligible",
        "eligible_with_precautions",
        "not_eligible",
        "needs_review",
    }
    assert {t for _, t in decided} == {"low", "elevated", "high"}
    signed = db.scalars(
        select(EligibilityDecision).where(EligibilityDecision.signed_off_at.is_not(None))
    ).all()
    assert 0 < len(signed) < len(decided)
    assert "suicide_risk.phq9_item9" in db.scalars(select(Alert.rule)).all()
    assert verify_chain(db).ok


def test_demo_has_plans_in_every_state_a_refused_booking_and_an_override(db: Session) -> None:
    list(build_demo(db))
    assert set(db.scalars(select(TreatmentPlan.status))) == set(PlanStatus)
    bookings = db.execute(select(AuditEvent.action, AuditEvent.outcome)).all()
    assert ("session.book", "denied") in bookings
    assert ("session.book.override", "success") in bookings
    overridden = db.scalars(
        select(TreatmentSession).where(TreatmentSession.override_reason.is_not(None))
    ).one()
    assert overridden.overridden_rules == ["too_many_in_7_days"]
    assert db.scalars(select(SessionRequest.decision)).all() == [RequestDecision.declined]


def test_demo_has_run_sessions_with_vitals_alerts_and_rems_forms_in_every_state(
    db: Session,
) -> None:
    list(build_demo(db))
    discharged = db.scalars(
        select(TreatmentSession).where(TreatmentSession.status == SessionStatus.discharged)
    ).all()
    assert len(discharged) >= 5
    assert db.scalar(select(func.count()).select_from(VitalReading)) >= 50
    forms = db.scalars(select(RemsForm)).all()
    today = max(f.due_on for f in forms) - timedelta(days=3)
    states = {deadline_state(f.due_on, today, f.submitted_on) for f in forms}
    assert states == {"submitted", "overdue", "due_soon", "pending"}
    acknowledged = db.scalars(select(Alert).where(Alert.acknowledged_at.is_not(None))).all()
    assert [a.severity.value for a in acknowledged] == ["urgent"]

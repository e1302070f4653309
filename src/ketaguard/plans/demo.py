"""Demo treatment plans in every state, with bookings, a refused booking, an audited override
and a patient's request. All synthetic; everything goes through the services the API uses."""

from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.auth.service import principal_for_user
from ketaguard.kit.demo import DemoContext, acting_as
from ketaguard.kit.time import utcnow
from ketaguard.plans import requests
from ketaguard.plans.models import PlanStatus, RequestDecision, RequestKind, TreatmentPlan
from ketaguard.plans.schemas import Goal, PlanCreate, RequestCreate
from ketaguard.plans.service import change_status, create_plan, get_plan
from ketaguard.sessions import booking
from ketaguard.sessions.schemas import BookingRequest

GOALS = [
    Goal(kind="phq9_response", description="PHQ-9 at least 50% below baseline", by_week=4),
    Goal(kind="phq9_remission", description="PHQ-9 below 5", by_week=8),
]
SESSION_TIME = time(9, 0)


def _plan(
    db: Session,
    prescriber: Principal,
    record: str,
    ctx: DemoContext,
    *,
    protocol: str,
    start: date,
    statuses: list[tuple[PlanStatus, str]],
) -> TreatmentPlan:
    patient = ctx.patients[record]
    plan = create_plan(
        db,
        prescriber,
        acting_as(prescriber),
        patient.id,
        PlanCreate(protocol=protocol, start_date=start, goals=GOALS),
    )
    for status, reason in statuses:
        change_status(db, prescriber, acting_as(prescriber), plan.id, status, reason)
    return plan


def _book(
    db: Session,
    who: Principal,
    plan: TreatmentPlan,
    day: date,
    dose: float | None = None,
    override: str | None = None,
) -> None:
    body = BookingRequest(
        local_start=datetime.combine(day, SESSION_TIME), dose_mg=dose, override_reason=override
    )
    booking.book(db, who, acting_as(who), plan.id, body)


def _refused(db: Session, who: Principal, plan: TreatmentPlan, day: date, dose: float) -> None:
    """Show a refused booking as the API records it, without ending the demo's transaction."""
    _, patient = get_plan(db, who, plan.id, Permission.session_book)
    body = BookingRequest(local_start=datetime.combine(day, SESSION_TIME), dose_mg=dose)
    evaluation = booking.evaluate(db, plan, patient, body)
    assert evaluation.violations, "the demo's refused booking must break a rule"
    booking.record_refusal(db, acting_as(who), patient, plan, evaluation.violations, None)


def plans_demo(db: Session, ctx: DemoContext) -> None:
    today = utcnow().date()
    dt_prescriber = principal_for_user(db, ctx.staff["prescriber.downtown"], None)
    dt_nurse = principal_for_user(db, ctx.staff["nurse.downtown"], None)
    hb_prescriber = principal_for_user(db, ctx.staff["prescriber.harbor"], None)
    approve = (PlanStatus.active, "Signed eligibility; treatment-resistant depression confirmed")

    # Sam: induction under way, twice a week; a third session in one week is refused, and a
    # prescriber books a catch-up past the limit with a reason.
    start = today - timedelta(days=14)
    sam = _plan(
        db,
        dt_prescriber,
        "DT-0003",
        ctx,
        protocol="esketamine-trd",
        start=start,
        statuses=[approve],
    )
    for offset, dose in ((0, 56), (3, 84), (7, 84), (10, 84), (14, 84)):
        _book(db, dt_nurse, sam, start + timedelta(days=offset), dose)
    _refused(db, dt_nurse, sam, start + timedelta(days=15), 84)
    _book(
        db,
        dt_prescriber,
        sam,
        start + timedelta(days=16),
        84,
        override="Session on day 10 was cut short by a fire alarm; repeating it as agreed",
    )

    # Casey: an induction course completed, then a maintenance plan running.
    _plan(
        db,
        dt_prescriber,
        "DT-0004",
        ctx,
        protocol="esketamine-trd",
        start=today - timedelta(days=70),
        statuses=[approve, (PlanStatus.completed, "Induction done; response at week 4")],
    )
    casey = _plan(
        db,
        dt_prescriber,
        "DT-0004",
        ctx,
        protocol="esketamine-trd",
        start=today - timedelta(days=35),
        statuses=[approve],
    )
    _book(db, dt_nurse, casey, today - timedelta(days=35), 56)
    request = requests.record_request(
        db,
        dt_nurse,
        acting_as(dt_nurse),
        casey.id,
        RequestCreate(kind=RequestKind.earlier, details="Asked to bring next session forward"),
    )
    requests.decide(
        db,
        dt_prescriber,
        acting_as(dt_prescriber),
        request.id,
        RequestDecision.declined,
        "Within the plan's frequency; reviewed craving score",
    )

    # Robin: paused while a dependence concern is reviewed.
    _plan(
        db,
        dt_prescriber,
        "DT-0005",
        ctx,
        protocol="esketamine-trd",
        start=today - timedelta(days=21),
        statuses=[approve, (PlanStatus.paused, "Reported ketamine use outside sessions")],
    )

    # Jamie: IV ketamine dosed by weight.
    jamie = _plan(
        db,
        hb_prescriber,
        "HB-0002",
        ctx,
        protocol="ketamine-iv-0.5",
        start=today - timedelta(days=4),
        statuses=[approve],
    )
    _book(db, hb_prescriber, jamie, today - timedelta(days=4))

    # Quinn: an earlier plan discontinued, a new one drafted and awaiting approval.
    _plan(
        db,
        hb_prescriber,
        "HB-0003",
        ctx,
        protocol="esketamine-trd",
        start=today - timedelta(days=60),
        statuses=[(PlanStatus.discontinued, "Patient moved away before starting")],
    )
    _plan(
        db,
        hb_prescriber,
        "HB-0003",
        ctx,
        protocol="esketamine-trd",
        start=today + timedelta(days=7),
        statuses=[],
    )

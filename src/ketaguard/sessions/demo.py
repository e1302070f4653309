"""Demo sessions run from check-in to discharge, with vitals, ratings, alerts and REMS forms in
every deadline state. Synthetic; everything goes through the services the API uses."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert
from ketaguard.alerts.service import acknowledge
from ketaguard.auth.principal import Principal
from ketaguard.auth.service import principal_for_user
from ketaguard.kit.demo import DemoContext, acting_as
from ketaguard.monitoring.vitals import Reading
from ketaguard.plans.models import TreatmentPlan
from ketaguard.protocols.loader import load_builtin
from ketaguard.sessions import rems, run
from ketaguard.sessions.models import ReadingSource, SessionStatus, TreatmentSession
from ketaguard.sessions.schemas_run import (
    DischargeIn,
    DoseComplete,
    DoseStart,
    PreDoseIn,
    RatingIn,
    ReadingIn,
)


def _vitals(at: datetime, sbp: int, dbp: int) -> list[Reading]:
    values = {
        "systolic_bp": sbp,
        "diastolic_bp": dbp,
        "heart_rate": 74,
        "spo2": 97,
        "respiratory_rate": 14,
    }
    return [Reading(vital=v, value=x, measured_at=at) for v, x in values.items()]  # type: ignore[arg-type]


def _run(
    db: Session,
    session: TreatmentSession,
    protocol: str,
    nurse: Principal,
    prescriber: Principal,
    *,
    during_bp: tuple[int, int] = (138, 86),
    moaas_after: int = 5,
) -> None:
    start = session.scheduled_at
    definition = load_builtin()[protocol]
    run.check_in(db, nurse, acting_as(nurse), session.id)
    checks: dict[str, bool] = {check.id: True for check in definition.pre_dose_checks}
    pre = [
        ReadingIn(vital=r.vital, value=r.value, measured_at=r.measured_at)
        for r in _vitals(start + timedelta(minutes=5), 126, 80)
    ]
    run.clear_pre_dose(
        db,
        nurse,
        acting_as(nurse),
        session.id,
        PreDoseIn(checks=checks, vitals=pre, moaas=5, craving=1),
    )
    dosed = start + timedelta(minutes=15)
    dose = session.planned_dose_mg
    run.start_dose(
        db,
        nurse,
        acting_as(nurse),
        session.id,
        DoseStart(dose_mg=dose, lot_number="DEMO-LOT-0426", started_at=dosed),
    )
    if protocol.startswith("esketamine"):
        devices = [dosed + timedelta(minutes=5 * n) for n in range(round(dose / 28))]
        complete = DoseComplete(device_times=devices)
    else:
        complete = DoseComplete(infusion_ended_at=dosed + timedelta(minutes=40))
    run.complete_dose(db, nurse, acting_as(nurse), session.id, complete)
    forty = dosed + timedelta(minutes=40)
    run.ingest_vitals(
        db,
        nurse,
        acting_as(nurse),
        session.id,
        _vitals(forty, *during_bp),
        source=ReadingSource.device,
        device_key="chair-monitor-2",
    )
    run.rate(
        db,
        nurse,
        acting_as(nurse),
        session.id,
        RatingIn(scale="moaas", answers={"moaas-1": moaas_after}, measured_at=forty),
    )
    late = dosed + timedelta(minutes=125)
    run.ingest_vitals(
        db,
        nurse,
        acting_as(nurse),
        session.id,
        _vitals(late, 130, 82),
        source=ReadingSource.device,
        device_key="chair-monitor-2",
    )
    run.rate(
        db,
        nurse,
        acting_as(nurse),
        session.id,
        RatingIn(scale="moaas", answers={"moaas-1": 5}, measured_at=late),
    )
    run.clear_for_discharge(db, prescriber, acting_as(prescriber), session.id)
    run.discharge(
        db,
        nurse,
        acting_as(nurse),
        session.id,
        DischargeIn(
            transport_present=True,
            ended_at=late + timedelta(minutes=2),
            rems_ready_to_leave_minutes=100,
        ),
        "Noah Nash",
    )


def _sessions(db: Session, record: str, ctx: DemoContext) -> list[TreatmentSession]:
    patient = ctx.patients[record]
    return list(
        db.scalars(
            select(TreatmentSession)
            .join(TreatmentPlan, TreatmentPlan.id == TreatmentSession.plan_id)
            .where(
                TreatmentSession.patient_id == patient.id,
                TreatmentSession.status == SessionStatus.scheduled,
            )
            .order_by(TreatmentSession.scheduled_at)
        )
    )


def sessions_demo(db: Session, ctx: DemoContext) -> None:
    nurse = principal_for_user(db, ctx.staff["nurse.downtown"], None)
    prescriber = principal_for_user(db, ctx.staff["prescriber.downtown"], None)
    # Sam's first four sessions: 14, 11, 7 and 4 days ago, so their REMS forms are submitted,
    # overdue, due soon and pending. The second had a sedation dip (a routine alert, still open).
    sam = _sessions(db, "DT-0003", ctx)[:4]
    for n, session in enumerate(sam):
        _run(db, session, "esketamine-trd", nurse, prescriber, moaas_after=3 if n == 1 else 5)
    first_form = rems.forms(db, nurse, sam[0].scheduled_at + timedelta(days=30), None)[0][0]
    rems.mark_submitted(
        db,
        nurse,
        acting_as(nurse),
        first_form.id,
        (sam[0].scheduled_at + timedelta(days=2)).date(),
        "online",
        sam[0].scheduled_at + timedelta(days=2),
    )

    # Jamie's IV infusion: blood pressure crossed the crisis threshold during the infusion; the
    # urgent alert was acknowledged with the action taken.
    hb_nurse = principal_for_user(db, ctx.staff["nurse.harbor"], None)
    hb_prescriber = principal_for_user(db, ctx.staff["prescriber.harbor"], None)
    [jamie] = _sessions(db, "HB-0002", ctx)
    _run(db, jamie, "ketamine-iv-0.5", hb_nurse, hb_prescriber, during_bp=(184, 106))
    alert = db.scalars(select(Alert).where(Alert.session_id == jamie.id)).first()
    if alert is not None:
        acknowledge(
            db,
            hb_nurse,
            acting_as(hb_nurse),
            alert.id,
            "Infusion slowed; BP rechecked at 5 and 10 minutes, settling; prescriber informed",
        )

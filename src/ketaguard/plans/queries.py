"""Reads of plans that the other domains share; kept apart from plans.service, whose imports
reach the dependence watch, which needs these."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.plans.models import TreatmentPlan


def latest_approved_plan(db: Session, patient_id: uuid.UUID) -> TreatmentPlan | None:
    """The plan the patient is on: the latest one a prescriber approved."""
    return db.scalar(
        select(TreatmentPlan)
        .where(TreatmentPlan.patient_id == patient_id, TreatmentPlan.approved_at.is_not(None))
        .order_by(TreatmentPlan.approved_at.desc())
        .limit(1)
    )

"""Fixtures for the check-in API's tests and the portal's pages: an active plan for patient A and
a check-in open now."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from ketaguard.checkins.models import CheckinDue
from ketaguard.plans.models import TreatmentPlan
from tests.checkins.test_dues import book, dues, local_today
from tests.factories import Personas, make_active_plan


@pytest.fixture
def plan(eligible: Personas, db: Session) -> TreatmentPlan:
    return make_active_plan(db, eligible, start=local_today())


@pytest.fixture
def open_due(eligible: Personas, db: Session, plan: TreatmentPlan) -> CheckinDue:
    """The check-in before tomorrow's session: open now (48 hours before it)."""
    session = book(db, eligible, plan, datetime.combine(local_today() + timedelta(days=1), time(9)))
    return dues(db, plan)[f"session:{session.id}:before"]

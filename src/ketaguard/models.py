"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from ketaguard.alerts.models import Alert
from ketaguard.audit.models import AuditEvent, AuditHead
from ketaguard.auth.models import (
    ApiToken,
    BreakGlassGrant,
    LoginFailure,
    LoginSession,
    RecoveryCode,
    User,
)
from ketaguard.checkins.models import Checkin, CheckinDue, CheckinSchedule, OutboxMessage
from ketaguard.clinics.models import Clinic, Membership, Organisation
from ketaguard.dependence.models import (
    DependenceDecision,
    DependenceReview,
    DependenceSettings,
    DependenceSignal,
    Referral,
)
from ketaguard.intake.models import IntakeVersion
from ketaguard.patients.models import Patient
from ketaguard.plans.models import PlanStatusChange, SessionRequest, TreatmentPlan
from ketaguard.protocols.models import ProtocolVersion
from ketaguard.screening.models import EligibilityDecision, ScreeningResponse
from ketaguard.sessions.models import (
    AdverseEvent,
    RemsForm,
    SessionRating,
    TreatmentSession,
    VitalReading,
)

__all__ = [
    "AdverseEvent",
    "Alert",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "BreakGlassGrant",
    "Checkin",
    "CheckinDue",
    "CheckinSchedule",
    "Clinic",
    "DependenceDecision",
    "DependenceReview",
    "DependenceSettings",
    "DependenceSignal",
    "EligibilityDecision",
    "IntakeVersion",
    "LoginFailure",
    "LoginSession",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "Patient",
    "PlanStatusChange",
    "ProtocolVersion",
    "RecoveryCode",
    "Referral",
    "RemsForm",
    "ScreeningResponse",
    "SessionRating",
    "SessionRequest",
    "TreatmentPlan",
    "TreatmentSession",
    "User",
    "VitalReading",
]

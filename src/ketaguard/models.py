"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from ketaguard.audit.models import AuditEvent, AuditHead
from ketaguard.auth.models import (
    ApiToken,
    BreakGlassGrant,
    LoginFailure,
    LoginSession,
    RecoveryCode,
    User,
)
from ketaguard.clinics.models import Clinic, Membership, Organisation
from ketaguard.patients.models import Patient

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "BreakGlassGrant",
    "Clinic",
    "LoginFailure",
    "LoginSession",
    "Membership",
    "Organisation",
    "Patient",
    "RecoveryCode",
    "User",
]

"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from ketaguard.auth.models import User
from ketaguard.clinics.models import Clinic, Membership, Organisation
from ketaguard.patients.models import Patient

__all__ = ["Clinic", "Membership", "Organisation", "Patient", "User"]

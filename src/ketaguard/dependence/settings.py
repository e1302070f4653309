"""Each clinic's numbers for the dependence watch, read as ``SignalThresholds``, and the review due
times they set. The clinical reference gives none of them: every one is the clinic's choice, and
an unset one switches off only what needs it, which the status explanation names."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.clinics.models import Clinic
from ketaguard.dependence.models import DependenceSettings
from ketaguard.dependence.signals import Severity
from ketaguard.dependence.thresholds import CLINIC_SETTINGS, SignalThresholds

# What every clinic setting's source says: it is a local choice, never the reference's.
CLINIC_SETTING_SOURCE = "the clinic's setting: not from the clinical reference; review locally"
# The thresholds a clinic stores here; the SDS cut-off is Clinic.sds_cutoff, shared with scoring.
STORED_THRESHOLDS = tuple(s.name for s in CLINIC_SETTINGS if s.name != "sds_cutoff")
# Hours from opening a review to its due time, by the status that opened it.
DUE_HOURS_SETTING = {
    Severity.review_needed: "review_due_hours",
    Severity.urgent: "urgent_review_due_hours",
}


def settings_of(db: Session, clinic_id: uuid.UUID) -> DependenceSettings | None:
    return db.scalar(select(DependenceSettings).where(DependenceSettings.clinic_id == clinic_id))


def thresholds_of(clinic: Clinic, settings: DependenceSettings | None) -> SignalThresholds:
    """The clinic's thresholds; a clinic that has stored nothing has set nothing."""
    if settings is None:
        settings = DependenceSettings()
    return SignalThresholds(
        craving_threshold=settings.craving_threshold,
        craving_rising_reports=settings.craving_rising_reports,
        rising_dose_sessions=settings.rising_dose_sessions,
        repeated_requests=settings.repeated_requests,
        repeated_requests_days=settings.repeated_requests_days,
        sds_rising_scores=settings.sds_rising_scores,
        icsi_rising_scores=settings.icsi_rising_scores,
        phq9_fading_rise_points=settings.phq9_fading_rise_points,
        sds_cutoff=clinic.sds_cutoff,
    )


def review_due(
    settings: DependenceSettings | None, severity: Severity, opened_at: datetime
) -> tuple[datetime, str]:
    """When a review opened at ``severity`` is due, and how that was reached, in words."""
    name = DUE_HOURS_SETTING[severity]
    hours: int | None = getattr(settings, name) if settings else None
    if hours is None:
        return opened_at, (
            f"Due at once: the clinic has not set {name}, the hours it allows to review a "
            f"{severity.value} status (a clinic setting: the clinical reference gives no time)."
        )
    return opened_at + timedelta(hours=hours), (
        f"Due {hours} hours after it opened: the clinic's {name} ({CLINIC_SETTING_SOURCE})."
    )

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketaguard.clinics.models import Clinic
from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum


class CareStatus(StrEnum):
    """Where a patient is in the clinic's pathway, as the front desk would file it."""

    referred = "referred"
    screening = "screening"
    in_treatment = "in_treatment"
    maintenance = "maintenance"
    paused = "paused"
    discharged = "discharged"


class Patient(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("clinic_id", "record_number"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    # The clinic's own chart number, unique within the clinic.
    record_number: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    care_status: Mapped[CareStatus] = mapped_column(
        str_enum(CareStatus, "care_status"), default=CareStatus.referred
    )

    clinic: Mapped[Clinic] = relationship(lazy="raise")

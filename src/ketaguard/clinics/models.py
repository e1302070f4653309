"""Tenancy: an organisation runs clinics; staff work in clinics through memberships with a role."""

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin, str_enum


class Role(StrEnum):
    admin = "admin"
    prescriber = "prescriber"
    nurse = "nurse"
    therapist = "therapist"
    front_desk = "front_desk"


class Organisation(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "organisation"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Minutes without activity after which a login session ends (ONC (d)(5)); default 15.
    idle_timeout_minutes: Mapped[int] = mapped_column(default=15)
    # Admins and prescribers always need MFA; this extends the requirement to every account.
    require_mfa_for_all: Mapped[bool] = mapped_column(default=False)

    clinics: Mapped[list["Clinic"]] = relationship(
        back_populates="organisation", lazy="raise", order_by="Clinic.name"
    )


class Clinic(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "clinic"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # IANA zone used to display times and to schedule in local days; storage is always UTC.
    timezone: Mapped[str] = mapped_column(String(64))
    # Screening cut-offs the clinic chooses. PCL-5: provisional PTSD at 31-33 or more, 33 by
    # default ([S72][S73], reference §3.1). SDS: no ketamine cut-off is published (§3.1), so none
    # until the clinic sets one.
    pcl5_cutoff: Mapped[int] = mapped_column(default=33)
    sds_cutoff: Mapped[int | None]
    # How many days a screening result counts as current for an eligibility decision. The
    # reference gives no number, so each clinic must set one before decisions can be made.
    screening_valid_days: Mapped[int | None]

    organisation: Mapped[Organisation] = relationship(back_populates="clinics", lazy="raise")


class Membership(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "clinic_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))

    clinic: Mapped[Clinic] = relationship(lazy="raise")

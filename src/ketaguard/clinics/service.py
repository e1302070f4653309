import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from ketaguard.audit.service import AuditContext, record
from ketaguard.clinics.models import Clinic, Membership, Organisation, Role
from ketaguard.kit.errors import Conflict, InvalidInput

_IANA_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe"}
    | {"Indian", "Pacific", "Etc"}
)


def validate_timezone(name: str) -> ZoneInfo:
    # Clinics are places: an Area/Location zone (or UTC). This also keeps out names the system's
    # zone database has but IANA does not define, such as "localtime" or "posixrules".
    area_location = "/" in name and name.split("/", 1)[0] in _IANA_AREAS
    if not (name == "UTC" or (area_location and name in available_timezones())):
        raise InvalidInput(f"{name!r} is not an IANA timezone (e.g. America/Chicago)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{name!r} is not an IANA timezone (e.g. America/Chicago)") from exc


def _require_name(name: str, what: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput(f"{what} name must not be empty")
    return cleaned


def find_organisation(db: Session, name: str) -> Organisation | None:
    return db.scalar(select(Organisation).where(Organisation.name == name.strip()))


def create_organisation(db: Session, name: str) -> Organisation:
    cleaned = _require_name(name, "Organisation")
    if find_organisation(db, cleaned) is not None:
        raise Conflict(f"An organisation named {cleaned!r} already exists")
    organisation = Organisation(name=cleaned)
    db.add(organisation)
    db.flush()
    return organisation


def create_clinic(db: Session, organisation: Organisation, *, name: str, timezone: str) -> Clinic:
    cleaned = _require_name(name, "Clinic")
    validate_timezone(timezone)
    duplicate = db.scalar(
        select(Clinic).where(Clinic.organisation_id == organisation.id, Clinic.name == cleaned)
    )
    if duplicate is not None:
        raise Conflict(f"{organisation.name} already has a clinic named {cleaned!r}")
    clinic = Clinic(organisation_id=organisation.id, name=cleaned, timezone=timezone)
    db.add(clinic)
    db.flush()
    return clinic


def add_membership(db: Session, *, user_id: uuid.UUID, clinic: Clinic, role: Role) -> Membership:
    existing = db.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.clinic_id == clinic.id)
    )
    if existing is not None:
        raise Conflict(f"The user already works in {clinic.name} as {existing.role.value}")
    membership = Membership(user_id=user_id, clinic_id=clinic.id, role=role)
    db.add(membership)
    db.flush()
    return membership


def update_screening_settings(
    db: Session,
    context: AuditContext,
    clinic: Clinic,
    changes: dict[str, int | None],
) -> Clinic:
    """Apply the fields the admin sent (None clears the SDS cut-off; others may not be cleared)."""
    if not changes:
        raise InvalidInput("Nothing to change")
    if "pcl5_cutoff" in changes and changes["pcl5_cutoff"] is None:
        raise InvalidInput("pcl5_cutoff cannot be cleared", field="pcl5_cutoff")
    before = {name: getattr(clinic, name) for name in changes}
    for name, value in changes.items():
        setattr(clinic, name, value)
    record(
        db,
        context,
        "clinic.screening_settings",
        clinic_id=clinic.id,
        resource_type="clinic",
        resource_id=clinic.id,
        detail={"before": before, "after": changes},
    )
    return clinic


def memberships_of(db: Session, user_id: uuid.UUID) -> list[Membership]:
    """A staff member's memberships, each with its clinic loaded, by clinic name."""
    return list(
        db.scalars(
            select(Membership)
            .join(Membership.clinic)
            .where(Membership.user_id == user_id)
            .options(contains_eager(Membership.clinic))
            .order_by(Clinic.name)
        )
    )

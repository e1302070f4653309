"""Stored protocol versions: built-ins synced from the package, clinic protocols added by admins."""

import uuid
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.principal import Principal
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow
from ketaguard.protocols.definition import ProtocolDefinition
from ketaguard.protocols.loader import ProtocolErrors, load_builtin, parse_protocol
from ketaguard.protocols.models import BUILTIN_OWNER, ProtocolVersion


def _stored(definition: ProtocolDefinition) -> dict[str, object]:
    return definition.model_dump(mode="json")


# A stored version never changes (an edit is a new row), so its parsed definition can be kept;
# parsing it again on every vital-sign request was a measurable share of the ingest time.
_DEFINITIONS: dict[uuid.UUID, ProtocolDefinition] = {}


def definition_of(version: ProtocolVersion) -> ProtocolDefinition:
    cached = _DEFINITIONS.get(version.id)
    if cached is None:
        cached = _DEFINITIONS[version.id] = ProtocolDefinition.model_validate(version.definition)
    return cached


def definition_by_id(db: Session, version_id: uuid.UUID) -> ProtocolDefinition:
    """The parsed definition, loading the stored row (and its large document) only once."""
    cached = _DEFINITIONS.get(version_id)
    return cached if cached is not None else definition_of(version_by_id(db, version_id))


def sync_builtin(db: Session) -> list[str]:
    """Store each built-in protocol version that is not stored yet; returns what was added.

    A built-in file's version number is what makes an edit a new version: plans made with an
    earlier one keep it.
    """
    added = []
    for key, definition in sorted(load_builtin().items()):
        exists = db.scalar(
            select(ProtocolVersion.id).where(
                ProtocolVersion.owner == BUILTIN_OWNER,
                ProtocolVersion.protocol_key == key,
                ProtocolVersion.version == definition.version,
            )
        )
        if exists is not None:
            continue
        _supersede(db, BUILTIN_OWNER, key)
        db.add(
            ProtocolVersion(
                owner=BUILTIN_OWNER,
                protocol_key=key,
                version=definition.version,
                title=definition.title,
                definition=_stored(definition),
            )
        )
        added.append(f"{key} v{definition.version}")
    db.flush()
    return added


def _supersede(db: Session, owner: str, key: str) -> None:
    current = db.scalar(
        select(ProtocolVersion).where(
            ProtocolVersion.owner == owner,
            ProtocolVersion.protocol_key == key,
            ProtocolVersion.superseded_at.is_(None),
        )
    )
    if current is not None:
        current.superseded_at = utcnow()


def _visible(principal: Principal | None) -> ColumnElement[bool]:
    if principal is None:
        return ProtocolVersion.owner == BUILTIN_OWNER
    return or_(
        ProtocolVersion.owner == BUILTIN_OWNER,
        ProtocolVersion.owner == str(principal.organisation_id),
    )


def current_versions(db: Session, principal: Principal | None) -> list[ProtocolVersion]:
    """The newest version of every protocol the principal's organisation may use."""
    return list(
        db.scalars(
            select(ProtocolVersion)
            .where(_visible(principal), ProtocolVersion.superseded_at.is_(None))
            .order_by(ProtocolVersion.protocol_key)
        )
    )


def find_version(
    db: Session, principal: Principal | None, key: str, version: int | None = None
) -> ProtocolVersion:
    query = select(ProtocolVersion).where(
        _visible(principal),
        ProtocolVersion.protocol_key == key,
    )
    if version is None:
        query = query.where(ProtocolVersion.superseded_at.is_(None))
    else:
        query = query.where(ProtocolVersion.version == version)
    found = db.scalar(query)
    if found is None:
        which = f"{key} v{version}" if version is not None else key
        raise NotFound(f"No protocol {which}")
    return found


def versions_of(db: Session, principal: Principal | None, key: str) -> list[ProtocolVersion]:
    """Every stored version of one protocol the principal may see, newest first."""
    return list(
        db.scalars(
            select(ProtocolVersion)
            .where(_visible(principal), ProtocolVersion.protocol_key == key)
            .order_by(ProtocolVersion.version.desc())
        )
    )


def check_clinic_protocol(
    db: Session, principal: Principal, text: str, fmt: Literal["toml", "json"]
) -> ProtocolDefinition:
    """Everything saving would check, without saving: valid, not a built-in, the next version."""
    try:
        definition = parse_protocol(text, fmt=fmt)
    except ProtocolErrors as exc:
        raise InvalidInput("The protocol is not valid", errors=exc.errors, field="text") from exc
    if definition.id in load_builtin():
        raise Conflict(
            f"{definition.id} is a built-in protocol; adapt it under a new id "
            f"(e.g. {definition.id}-{principal.organisation_id.hex[:6]})",
            field="text",
        )
    latest = db.scalar(
        select(func.max(ProtocolVersion.version)).where(
            ProtocolVersion.owner == str(principal.organisation_id),
            ProtocolVersion.protocol_key == definition.id,
        )
    )
    next_version = (latest or 0) + 1
    if definition.version != next_version:
        raise Conflict(
            f"{definition.id} is at version {latest or 0}; a change must be version {next_version}",
            field="text",
        )
    return definition


def save_clinic_protocol(
    db: Session,
    principal: Principal,
    context: AuditContext,
    text: str,
    fmt: Literal["toml", "json"],
) -> ProtocolVersion:
    """Add a protocol for the organisation, or a new version of one it already has."""
    definition = check_clinic_protocol(db, principal, text, fmt)
    owner = str(principal.organisation_id)
    _supersede(db, owner, definition.id)
    stored = ProtocolVersion(
        owner=owner,
        organisation_id=principal.organisation_id,
        protocol_key=definition.id,
        version=definition.version,
        title=definition.title,
        definition=_stored(definition),
        created_by_id=principal.user_id,
    )
    db.add(stored)
    db.flush()
    record(
        db,
        context,
        "protocol.save",
        resource_type="protocol_version",
        resource_id=stored.id,
        detail={"protocol": definition.id, "version": definition.version},
    )
    return stored


def version_by_id(db: Session, version_id: uuid.UUID) -> ProtocolVersion:
    return db.get_one(ProtocolVersion, version_id)


def organisation_versions(db: Session) -> list[ProtocolVersion]:
    """The newest version of every clinic-made protocol, for console tools that see them all."""
    return list(
        db.scalars(
            select(ProtocolVersion)
            .where(ProtocolVersion.owner != BUILTIN_OWNER, ProtocolVersion.superseded_at.is_(None))
            .order_by(ProtocolVersion.protocol_key)
        )
    )


def find_any_version(db: Session, key: str, version: int | None) -> ProtocolVersion:
    """A protocol by id from any owner, for console tools."""
    query = select(ProtocolVersion).where(ProtocolVersion.protocol_key == key)
    if version is None:
        query = query.where(ProtocolVersion.superseded_at.is_(None))
    else:
        query = query.where(ProtocolVersion.version == version)
    found = db.scalars(query).first()
    if found is None:
        raise NotFound(f"No protocol {key}" + (f" v{version}" if version else ""))
    return found

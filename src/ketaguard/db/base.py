"""The one declarative base: naming convention, UUID keys and UTC timestamps for every table."""

import uuid
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from sqlalchemy import Enum as SAEnum
from sqlalchemy import MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ketaguard.db.types import UTCDateTime
from ketaguard.kit.time import utcnow

# Explicit constraint names keep Alembic diffs identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def str_enum(enum_cls: type[Enum], name: str) -> SAEnum:
    """Store an enum as its value in a VARCHAR with a CHECK, the same on both databases."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in enum_cls),
        values_callable=lambda members: [str(m.value) for m in members],
        validate_strings=True,
    )

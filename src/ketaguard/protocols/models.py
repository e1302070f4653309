"""Protocol versions as stored: a plan points at the exact version it was made with."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ketaguard.db.base import Base, CreatedAtMixin, IdMixin

BUILTIN_OWNER = "builtin"


class ProtocolVersion(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "protocol_version"
    __table_args__ = (UniqueConstraint("owner", "protocol_key", "version"),)

    # "builtin" for protocols shipped with ketaguard, else the owning organisation's id; a text
    # column rather than a nullable key so the unique constraint holds on both databases.
    owner: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    protocol_key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    # The validated protocols.definition.ProtocolDefinition, exactly as it was at this version.
    definition: Mapped[dict[str, object]] = mapped_column(JSON)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    superseded_at: Mapped[datetime | None]

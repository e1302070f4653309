from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ketaguard.auth.deps import audit_context, require
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.db.session import DbSession
from ketaguard.protocols import service
from ketaguard.protocols.definition import iter_cited
from ketaguard.protocols.models import BUILTIN_OWNER, ProtocolVersion

router = APIRouter(prefix="/api/protocols", tags=["protocols"])


class ProtocolSummary(BaseModel):
    id: str
    version: int
    title: str
    builtin: bool


class ProtocolDetail(ProtocolSummary):
    definition: dict[str, Any]
    review_locally: list[str] = Field(
        description="Values that are defaults, not label facts: review them locally"
    )


class ProtocolUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["toml", "json"]
    text: str = Field(min_length=1, max_length=200_000)


def _summary(version: ProtocolVersion) -> ProtocolSummary:
    return ProtocolSummary(
        id=version.protocol_key,
        version=version.version,
        title=version.title,
        builtin=version.owner == BUILTIN_OWNER,
    )


def _detail(version: ProtocolVersion) -> ProtocolDetail:
    definition = service.definition_of(version)
    return ProtocolDetail(
        **_summary(version).model_dump(),
        definition=version.definition,
        review_locally=[path for path, item in iter_cited(definition) if item.review_locally],
    )


@router.get("", response_model=list[ProtocolSummary])
def list_protocols(
    db: DbSession, principal: Annotated[Principal, require(Permission.patient_read)]
) -> list[ProtocolSummary]:
    return [_summary(v) for v in service.current_versions(db, principal)]


@router.get("/{protocol_id}", response_model=ProtocolDetail)
def show_protocol(
    protocol_id: str,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.patient_read)],
    version: int | None = None,
) -> ProtocolDetail:
    return _detail(service.find_version(db, principal, protocol_id, version))


@router.post("", response_model=ProtocolDetail, status_code=201)
def save_protocol(
    body: ProtocolUpload,
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.protocol_manage)],
) -> ProtocolDetail:
    saved = service.save_clinic_protocol(
        db, principal, audit_context(request, principal), body.text, body.format
    )
    return _detail(saved)

"""Protocol pages: the protocols in use, one version's numbers with their sources, and adding a
clinic protocol (or a new version of one) from pasted or uploaded TOML or JSON, checked first if
the admin wants. The same service calls and permissions as /api/protocols: anyone who may read
patients may read protocols; adding one needs protocol:manage.
"""

from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from ketaguard.auth.deps import audit_context
from ketaguard.auth.permissions import Permission
from ketaguard.db.session import DbSession
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.protocols import service as protocols_service
from ketaguard.protocols.definition import ProtocolDefinition
from ketaguard.protocols.loader import FORMATS_BY_SUFFIX
from ketaguard.protocols.models import BUILTIN_OWNER
from ketaguard.protocols.routes import ProtocolUpload
from ketaguard.web.deps import Viewer, require_page
from ketaguard.web.forms import (
    FieldErrors,
    schema_errors,
    service_errors,
    text_limit,
    undone_if_refused,
)
from ketaguard.web.pages import render
from ketaguard.web.protocol_view import facts, review_count, sections

router = APIRouter(prefix="/protocols", include_in_schema=False)

ProtocolReader = Annotated[Viewer, require_page(Permission.patient_read)]
ProtocolManager = Annotated[Viewer, require_page(Permission.protocol_manage)]
FormText = Annotated[str, Form()]

PROTOCOLS_PAGE = "/protocols"
TEXT_LIMIT = text_limit(ProtocolUpload, "text")
# A UTF-8 character takes at most 4 bytes: a bigger file cannot fit, whatever it holds.
MAX_FILE_BYTES = TEXT_LIMIT * 4
FORMATS = (("toml", "TOML"), ("json", "JSON"))
LABELS = {"format": "Format", "text": "Protocol", "file": "Or upload its file"}
PROBLEMS = {
    "format": "Choose TOML or JSON",
    "text": f"Paste the protocol, or choose its file (at most {TEXT_LIMIT:,} characters)",
}
NOTICES = {"saved": "The protocol version is saved. New treatment plans can use it."}


@router.get("")
def protocols_page(
    request: Request, db: DbSession, viewer: ProtocolReader, done: str | None = None
) -> Response:
    return render(
        request,
        "protocols/list.html",
        viewer=viewer,
        versions=protocols_service.current_versions(db, viewer.principal),
        builtin_owner=BUILTIN_OWNER,
        can_manage=viewer.principal.can(Permission.protocol_manage),
        notice=NOTICES.get(done or ""),
    )


def _form_page(
    request: Request,
    viewer: Viewer,
    *,
    values: dict[str, str],
    errors: FieldErrors,
    problems: list[str] | None = None,
    checked: ProtocolDefinition | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "protocols/new.html",
        viewer=viewer,
        status_code=status_code,
        values=values,
        errors=errors,
        # "path: message" lines from the parser, shown under the protocol's own error.
        problems=[line.partition(": ")[::2] for line in problems or ()],
        labels=LABELS,
        formats=FORMATS,
        checked=checked,
        sections=sections(checked) if checked else (),
        text_limit=TEXT_LIMIT,
    )


@router.get("/new")
def new_protocol_page(request: Request, viewer: ProtocolManager) -> Response:
    return _form_page(request, viewer, values={"format": "toml", "text": ""}, errors={})


def _uploaded(file: UploadFile | None, fmt: str) -> tuple[str, str] | str | None:
    """The uploaded file's text and format, a problem with it, or None if none was chosen."""
    if file is None or not file.filename:
        return None
    fmt = FORMATS_BY_SUFFIX.get(PurePosixPath(file.filename).suffix.lower(), fmt)
    data = file.file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return f"The file is too big: a protocol has at most {TEXT_LIMIT:,} characters"
    try:
        return data.decode("utf-8-sig"), fmt
    except UnicodeDecodeError:
        return "The file is not text saved as UTF-8. Save it as UTF-8 and choose it again"


@router.post("")
def add_protocol(
    request: Request,
    db: DbSession,
    viewer: ProtocolManager,
    format: FormText = "toml",
    text: FormText = "",
    file: Annotated[UploadFile | None, File()] = None,
    action: FormText = "check",
) -> Response:
    uploaded = _uploaded(file, format)
    if isinstance(uploaded, str):
        values = {"format": format, "text": text}
        return _form_page(
            request, viewer, values=values, errors={"file": uploaded}, status_code=422
        )
    if uploaded is not None:
        # A chosen file replaces anything pasted; the form shows its text for the next step.
        text, format = uploaded
    values = {"format": format, "text": text}
    try:
        upload = ProtocolUpload.model_validate(values)
    except ValidationError as exc:
        errors = schema_errors(exc, PROBLEMS)
        return _form_page(request, viewer, values=values, errors=errors, status_code=422)
    principal = viewer.principal
    try:
        if action == "save":
            with undone_if_refused(db):
                saved = protocols_service.save_clinic_protocol(
                    db, principal, audit_context(request, principal), upload.text, upload.format
                )
        else:
            checked = protocols_service.check_clinic_protocol(
                db, principal, upload.text, upload.format
            )
    except (InvalidInput, Conflict) as exc:
        problems = exc.details.get("errors")
        return _form_page(
            request,
            viewer,
            values=values,
            errors=service_errors(exc, "text"),
            problems=problems if isinstance(problems, list) else None,
            status_code=exc.status_code,
        )
    if action == "save":
        return RedirectResponse(
            f"{PROTOCOLS_PAGE}/{saved.protocol_key}?version={saved.version}&done=saved",
            status_code=303,
        )
    return _form_page(request, viewer, values=values, errors={}, checked=checked)


@router.get("/{protocol_id}")
def protocol_page(
    request: Request,
    db: DbSession,
    viewer: ProtocolReader,
    protocol_id: str,
    version: str = "",
    done: str | None = None,
) -> Response:
    if version and not version.isdigit():
        raise NotFound(f"No protocol {protocol_id} v{version}")
    stored = protocols_service.find_version(
        db, viewer.principal, protocol_id, int(version) if version else None
    )
    definition = protocols_service.definition_of(stored)
    return render(
        request,
        "protocols/show.html",
        viewer=viewer,
        stored=stored,
        definition=definition,
        builtin=stored.owner == BUILTIN_OWNER,
        versions=protocols_service.versions_of(db, viewer.principal, protocol_id),
        facts=facts(definition),
        sections=sections(definition),
        review_count=review_count(definition),
        can_manage=viewer.principal.can(Permission.protocol_manage),
        notice=NOTICES.get(done or ""),
    )

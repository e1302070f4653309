"""Reading protocols: the built-in TOML files, and a clinic's TOML or JSON text with every error.

`parse_protocol` reports every problem it can find at once, each as "path: message", e.g.
"phases.1.start_week: week 6 leaves a gap after week 4 ...". A syntax error ends parsing (the parser
cannot go on). A rule across fields (phases without gaps, esketamine never at home) runs once the
fields it reads are themselves valid, so fixing one error can reveal another.
"""

import json
import re
import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ketaguard.protocols.definition import DOSE_KINDS, FieldProblems, ProtocolDefinition

Format = Literal["toml", "json"]
FORMATS_BY_SUFFIX: dict[str, Format] = {".toml": "toml", ".json": "json"}
BUILTIN_PACKAGE = "ketaguard.protocols"
BUILTIN_DIR = "builtin"
ROOT = "(root)"

_TOML_WHERE = re.compile(
    r"^(?P<message>.*?)\s*\(at (?P<where>line \d+, column \d+|end of document)\)$"
)
_VALUE_ERROR_PREFIX = "Value error, "


class ProtocolErrors(ValueError):
    """Every problem found in one protocol, each as "path: message"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_protocol(text: str, *, fmt: Format) -> ProtocolDefinition:
    """Parse and validate one protocol; raises `ProtocolErrors` listing every problem."""
    data = _toml(text) if fmt == "toml" else _json(text)
    try:
        return ProtocolDefinition.model_validate(data)
    except ValidationError as exc:
        raise ProtocolErrors(validation_errors(exc)) from None


def load_protocol_file(path: Path) -> ProtocolDefinition:
    """A protocol file, TOML or JSON by its extension."""
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise ProtocolErrors(
            [f"{ROOT}: unsupported file type {path.suffix or '(none)'!r}; use .toml or .json"]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolErrors([f"{ROOT}: not UTF-8 text ({exc.reason})"]) from None
    except OSError as exc:
        raise ProtocolErrors([f"{ROOT}: cannot read the file ({exc.strerror})"]) from None
    return parse_protocol(text, fmt=fmt)


def load_builtin() -> dict[str, ProtocolDefinition]:
    """The protocols shipped with ketaguard, by id."""
    return dict(_builtin())


@cache
def _builtin() -> tuple[tuple[str, ProtocolDefinition], ...]:
    folder = files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR)
    found: list[tuple[str, ProtocolDefinition]] = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            definition = parse_protocol(entry.read_text(encoding="utf-8"), fmt="toml")
        except ProtocolErrors as exc:  # pragma: no cover  (the tests load every built-in)
            raise ProtocolErrors([f"{entry.name}: {error}" for error in exc.errors]) from None
        if f"{definition.id}.toml" != entry.name:  # pragma: no cover
            raise ProtocolErrors([f"{entry.name}: id {definition.id!r} does not match the name"])
        found.append((definition.id, definition))
    return tuple(found)


# --- Errors -------------------------------------------------------------------------------------


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_WHERE.match(message)
        if match is None:  # pragma: no cover  (tomllib always says where)
            raise ProtocolErrors([f"toml: {message}"]) from None
        raise ProtocolErrors([f"{match['where']}: {match['message']}"]) from None


def _json(text: str) -> Any:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(f"json: key {key!r} appears more than once in one object")
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise ProtocolErrors([f"line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    if duplicates:
        raise ProtocolErrors(duplicates)
    return data


def validation_errors(exc: ValidationError) -> list[str]:
    """Pydantic's errors as "path: message" lines, cross-field problems expanded to their field."""
    lines: list[str] = []
    for error in exc.errors():
        where = _path(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblems):
            for relative, message in cause.problems:
                lines.append(f"{_join(where, relative)}: {message}")
            continue
        lines.append(f"{where or ROOT}: {_message(error)}")
    return lines


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for index, part in enumerate(loc):
        # The dose union puts its member in the location ("dose.fixed..."); a file has no such key.
        if index > 0 and loc[index - 1] == "dose" and part in DOSE_KINDS:
            continue
        parts.append(str(part))
    return ".".join(parts)


def _join(where: str, relative: str) -> str:
    return ".".join(part for part in (where, relative) if part) or ROOT


def _message(error: ErrorDetails) -> str:
    message = error["msg"]
    if error["type"] == "model_type" and str(error.get("ctx", {}).get("class_name", "")).startswith(
        "Sourced"
    ):
        return 'expected a value with its source, e.g. { value = 2, source = "[S19] §1.2" }'
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return message.removeprefix(_VALUE_ERROR_PREFIX)

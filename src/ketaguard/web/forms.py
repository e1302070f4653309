"""What a page does with a posted form: check it with the API's own schema, call the service, and
put any problem in words next to the field that caused it, leaving nothing changed."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from annotated_types import Ge, Le, MaxLen
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ketaguard.kit.errors import DomainError

# Field name -> the message shown next to it.
FieldErrors = dict[str, str]


def schema_errors(
    exc: ValidationError, messages: Mapping[str, str], *, fields: Mapping[str, str] | None = None
) -> FieldErrors:
    """A schema's refusal as one plain message per form field.

    `messages` says, per schema field, what the person should enter (Pydantic's own wording is
    for programmers); `fields` names the form field of a schema field when they differ, with ""
    for a rule across fields.
    """
    errors: FieldErrors = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        errors.setdefault((fields or {}).get(name, name), messages.get(name, error["msg"]))
    return errors


def service_errors(exc: DomainError, default_field: str) -> FieldErrors:
    """A service's refusal next to the field it names (`field=` on the error), else the default."""
    field = exc.details.get("field")
    return {field if isinstance(field, str) else default_field: exc.message}


@contextmanager
def undone_if_refused(db: Session) -> Iterator[None]:
    """Run a service call in a savepoint: if it raises, whatever it wrote is undone, so the page
    can show the refusal on the form and return normally. The request's other work (the login
    session's activity) still commits. Not for refusals made with `kept()`, which end the whole
    transaction themselves."""
    with db.begin_nested():
        yield


def number_bounds(model: type[BaseModel], field: str) -> tuple[int, int]:
    """The inclusive range a schema allows for a whole number, to say it in the field's hint."""
    metadata = model.model_fields[field].metadata
    low = next(item.ge for item in metadata if isinstance(item, Ge))
    high = next(item.le for item in metadata if isinstance(item, Le))
    assert isinstance(low, int)
    assert isinstance(high, int)
    return low, high


def text_limit(model: type[BaseModel], field: str) -> int:
    """The most characters a schema allows in a text field."""
    return next(
        item.max_length for item in model.model_fields[field].metadata if isinstance(item, MaxLen)
    )

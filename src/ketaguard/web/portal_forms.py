"""The portal's check-in form: what it asks (the parts a due check-in names, questionnaire items
from the instrument registry), how its fields become the API's `CheckinCreate`, and the schema's
refusals put in plain words next to the field at fault.

Every part the check-in asks for is sent, an unanswered question as "", so the API's own schema
refuses each unanswered or bad answer by name and the page can show all of them at once."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import ValidationError
from starlette.datastructures import FormData

from ketaguard.checkins.models import Severity
from ketaguard.checkins.schemas import CheckinCreate, SubstanceUseEntry, Urinary, Withdrawal
from ketaguard.checkins.service import QUESTIONNAIRES
from ketaguard.kit.errors import DomainError
from ketaguard.screening.instruments import Instrument, get_instrument
from ketaguard.web.forms import FieldErrors, number_bounds, text_limit

CRAVING_LOW, CRAVING_HIGH = number_bounds(CheckinCreate, "craving")
CRAVING_SCALE = tuple((str(n), str(n)) for n in range(CRAVING_LOW, CRAVING_HIGH + 1))
NOTE_LIMIT = text_limit(CheckinCreate, "note")
# Rows offered for uses outside sessions; more can be told to the clinic team.
USE_ROWS = 3
CHECKIN = "checkin"  # the form as a whole: refusals about no one field

SEVERITY_WORDS = {
    Severity.none: "Not at all",
    Severity.mild: "A little",
    Severity.moderate: "Quite a lot",
    Severity.severe: "Very much",
}
SUBSTANCE_WORDS = {
    "ketamine": "Ketamine",
    "esketamine": "Esketamine (nasal spray)",
    "other": "Another drug",
}
WITHDRAWAL_WORDS = {
    "anxiety": "Feeling anxious or on edge",
    "low_mood": "Feeling low or down",
    "fatigue": "Feeling tired or drained",
    "abdominal_pain": "Stomach pain or cramps",
}
URINARY_WORDS = {
    "daytime_frequency": "Needing to pee more often than usual during the day",
    "nocturia": "Waking up at night to pee",
    "urgency": "A sudden strong need to pee that is hard to hold",
    "dysuria": "Pain or burning when you pee",
    "haematuria": "Blood in your pee",
    "bladder_pain": "Pain in your lower belly or bladder",
}
YES_NO = (("yes", "Yes"), ("no", "No"))
assert set(WITHDRAWAL_WORDS) == set(Withdrawal.model_fields)
assert set(URINARY_WORDS) == set(Urinary.model_fields)
assert set(SUBSTANCE_WORDS) == set(get_args(SubstanceUseEntry.model_fields["substance"].annotation))

# What each questionnaire is, for the patient, and how to answer it.
QUESTIONNAIRE_INTROS = {
    "phq9": "Over the last 2 weeks, how often have you been bothered by any of the following?",
    "sds": "These questions are about your use of ketamine.",
    "icsi": "These questions are about your bladder during the past month.",
}


@dataclass(frozen=True)
class Question:
    """One questionnaire item as the form asks it."""

    id: str
    number: int
    text: str | None  # None where the wording is the clinic's licensed copy
    options: tuple[tuple[str, str], ...]


def questions(instrument: Instrument) -> list[Question]:
    return [
        Question(
            id=item.id,
            number=number,
            text=item.text,
            options=tuple(
                (str(option.value), option.label or str(option.value)) for option in item.options
            ),
        )
        for number, item in enumerate(instrument.items, start=1)
    ]


def form_fields(parts: Sequence[str]) -> list[str]:
    """Every field the form has for these parts, in the order the page shows them."""
    fields: list[str] = []
    for part in parts:
        if part in QUESTIONNAIRES:
            fields += [item.id for item in get_instrument(part).items]
        elif part == "substance_use":
            fields.append("used")
            for row in range(1, USE_ROWS + 1):
                fields += [f"use-{row}-{name}" for name in ("substance", "name", "date", "amount")]
        elif part == "withdrawal":
            fields += [f"withdrawal-{name}" for name in WITHDRAWAL_WORDS]
        elif part == "urinary":
            fields += [f"urinary-{name}" for name in URINARY_WORDS]
        else:
            fields.append(part)
    return [*fields, "note"]


def labels(parts: Sequence[str]) -> dict[str, str]:
    """What the error summary calls each field."""
    named: dict[str, str] = {CHECKIN: "Check-in", "note": "Anything else"}
    for part in parts:
        if part in QUESTIONNAIRES:
            instrument = get_instrument(part)
            for question in questions(instrument):
                named[question.id] = f"{instrument.title}, question {question.number}"
    named.update(
        {
            "craving": "Cravings",
            "used": "Use outside your sessions",
            "memory": "Memory",
            **{f"withdrawal-{k}": v for k, v in WITHDRAWAL_WORDS.items()},
            **{f"urinary-{k}": v for k, v in URINARY_WORDS.items()},
        }
    )
    for row in range(1, USE_ROWS + 1):
        named.update(
            {
                f"use-{row}-substance": f"Use {row}: what",
                f"use-{row}-name": f"Use {row}: name",
                f"use-{row}-date": f"Use {row}: when",
                f"use-{row}-amount": f"Use {row}: how much",
            }
        )
    return named


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def _yes_no(raw: str) -> bool | str:
    return {"yes": True, "no": False}.get(raw, raw)


def body_from(form: FormData, parts: Sequence[str]) -> dict[str, Any]:
    """The API's request body for these parts, as posted (values checked by the schema)."""
    body: dict[str, Any] = {}
    for part in parts:
        if part in QUESTIONNAIRES:
            body[part] = {item.id: _text(form, item.id) for item in get_instrument(part).items}
        elif part == "substance_use":
            entries = []
            for row in range(1, USE_ROWS + 1):
                entry = {
                    "substance": _text(form, f"use-{row}-substance"),
                    "name": _text(form, f"use-{row}-name") or None,
                    "used_on": _text(form, f"use-{row}-date"),
                    "amount": _text(form, f"use-{row}-amount"),
                }
                if any(entry.values()):
                    entries.append(entry)
            body[part] = {"used": _yes_no(_text(form, "used")), "entries": entries}
        elif part == "withdrawal":
            body[part] = {name: _text(form, f"withdrawal-{name}") for name in WITHDRAWAL_WORDS}
        elif part == "urinary":
            body[part] = {name: _yes_no(_text(form, f"urinary-{name}")) for name in URINARY_WORDS}
        else:
            body[part] = _text(form, part)
    note = _text(form, "note")
    if note:
        body["note"] = note
    return body


CHOOSE = "Choose one of the answers"
ENTRY_MESSAGES = {
    "substance": "Choose what you took",
    "name": "Say what you took",
    "used_on": "Enter the day you took it",
    "amount": "Say how much you took, in your own words",
}
ENTRY_FIELDS = {"substance": "substance", "name": "name", "used_on": "date", "amount": "amount"}
_PREFIXED = re.compile(r"^(?:Value error, )?([a-z_0-9-]+): (.*)$", re.DOTALL)


def _prefix(error: Mapping[str, Any]) -> str | None:
    """The field a validator's message starts with ("phq9-3: no answer" names phq9-3)."""
    found = _PREFIXED.match(str(error.get("msg", "")))
    return found.group(1) if found else None


def _entry_error(row: int, name: str | None, kind: str) -> tuple[str, str]:
    name = name or "substance"
    field = f"use-{row}-{ENTRY_FIELDS.get(name, 'substance')}"
    if name == "used_on" and kind == "value_error":
        return field, "The day cannot be in the future"
    if kind == "string_too_long":
        return field, "Please write this more briefly"
    return field, ENTRY_MESSAGES.get(name, CHOOSE)


def _one(error: Mapping[str, Any], parts: Sequence[str]) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = str(error["type"])
    top = str(loc[0]) if loc else ""
    if top in QUESTIONNAIRES:
        item = str(loc[1]) if len(loc) > 1 else _prefix(error)
        ids = [i.id for i in get_instrument(top).items]
        return (item if item in ids else ids[0]), CHOOSE
    if top == "craving":
        return top, f"Choose a number from {CRAVING_LOW} to {CRAVING_HIGH}"
    if top == "memory":
        return top, CHOOSE
    if top == "withdrawal":
        name = str(loc[1]) if len(loc) > 1 else next(iter(WITHDRAWAL_WORDS))
        return f"withdrawal-{name}", "Choose how much this bothered you"
    if top == "urinary":
        name = str(loc[1]) if len(loc) > 1 else next(iter(URINARY_WORDS))
        return f"urinary-{name}", "Choose yes or no"
    if top == "substance_use":
        if len(loc) >= 3 and loc[1] == "entries" and isinstance(loc[2], int):
            entry_field = str(loc[3]) if len(loc) > 3 else _prefix(error)
            return _entry_error(loc[2] + 1, entry_field, kind)
        if len(loc) > 1 and loc[1] == "used":
            return "used", "Choose yes or no"
        message = str(error.get("msg", ""))
        if "must be empty" in message:
            return "used", "You answered No: clear the uses below, or answer Yes"
        return "use-1-substance", "Tell us about each time: what you took, when and how much"
    if top == "note":
        return "note", f"Please keep this to {NOTE_LIMIT} characters or fewer"
    return CHECKIN, "Please answer the questions below"


def checkin_errors(exc: ValidationError, parts: Sequence[str]) -> FieldErrors:
    """The schema's refusal, one plain message per form field, in the order of the form."""
    errors: FieldErrors = {}
    for error in exc.errors():
        field, message = _one(error, parts)
        errors.setdefault(field, message)
    order = {name: n for n, name in enumerate([CHECKIN, *form_fields(parts)])}
    return dict(sorted(errors.items(), key=lambda pair: order.get(pair[0], len(order))))


def refusal_errors(exc: DomainError) -> FieldErrors:
    """A refusal of the service (the check-in closed or already sent, say) in plain words."""
    if exc.status_code == 409:
        return {
            CHECKIN: "This check-in cannot be sent now: it is not open yet, it was sent already, "
            "or its time is over. Your portal shows what is due now."
        }
    return {CHECKIN: exc.message}

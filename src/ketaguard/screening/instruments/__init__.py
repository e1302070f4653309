"""Screening instruments as pure, typed definitions: items, skip logic, scoring and bands."""

from ketaguard.screening.instruments.base import (
    AnswerError,
    Band,
    EnableWhen,
    Instrument,
    Item,
    Option,
    Score,
    ScoringContext,
    Sex,
)
from ketaguard.screening.instruments.moaas import sedation_from
from ketaguard.screening.instruments.registry import (
    INSTRUMENTS,
    answers_from_positional,
    get_instrument,
)

__all__ = [
    "INSTRUMENTS",
    "AnswerError",
    "Band",
    "EnableWhen",
    "Instrument",
    "Item",
    "Option",
    "Score",
    "ScoringContext",
    "Sex",
    "answers_from_positional",
    "get_instrument",
    "sedation_from",
]

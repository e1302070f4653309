"""What an instrument is: items with their answers and skip logic, bands, and how it scores.

Every instrument is a frozen value built from this module's types. Scoring is pure: it takes the
answers by item id (FHIR linkId style) and a `ScoringContext`, checks every answer against the
items and their skip logic, and computes the score from the answers alone; there is no way to pass
a total in. The clinical facts live in each instrument's module next to their source tags in
`shared/clinical-reference.md`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Sex = Literal["female", "male"]

# The PCL-5's provisional cut-off is a total of 31-33 or more [S72]; 33 is the default, and
# clinics choose their own.
DEFAULT_PCL5_CUTOFF = 33


class AnswerError(ValueError):
    """A set of answers (or the context they are scored in) that cannot be scored."""

    def __init__(self, item_id: str, problem: str) -> None:
        super().__init__(f"{item_id}: {problem}")
        self.item_id = item_id
        self.problem = problem


@dataclass(frozen=True)
class Option:
    value: int
    # None where the wording comes from the clinic's licensed copy of the instrument.
    label: str | None = None


def scale(*labels: str | None) -> tuple[Option, ...]:
    """Answers scored 0, 1, 2, ... in the order of their labels."""
    return tuple(Option(value, label) for value, label in enumerate(labels))


def unlabelled(maximum: int) -> tuple[Option, ...]:
    """Answers 0..maximum whose labels come from the clinic's licensed copy."""
    return tuple(Option(value) for value in range(maximum + 1))


YES_NO = scale("No", "Yes")


@dataclass(frozen=True)
class EnableWhen:
    """The item is asked only when `item_id` was asked and answered `answer`."""

    item_id: str
    answer: int


@dataclass(frozen=True)
class Item:
    id: str
    options: tuple[Option, ...]
    # None where the wording comes from the clinic's licensed copy of the instrument.
    text: str | None = None
    loinc: str | None = None
    enable_when: EnableWhen | None = None

    def is_asked(self, earlier: Mapping[str, int]) -> bool:
        """Whether skip logic asks this item, given the answers to the items asked before it."""
        condition = self.enable_when
        return condition is None or earlier.get(condition.item_id) == condition.answer

    def check(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnswerError(self.id, f"answer {value!r} is not an integer")
        if value not in {option.value for option in self.options}:
            low, high = self.options[0].value, self.options[-1].value
            raise AnswerError(self.id, f"answer {value} is out of range {low}-{high}")
        return value


@dataclass(frozen=True)
class Band:
    """A named range of totals, both ends included."""

    name: str
    low: int
    high: int


def band_for(total: int, bands: tuple[Band, ...]) -> str:
    for band in bands:
        if band.low <= total <= band.high:
            return band.name
    raise ValueError(f"no band covers the total {total}")


def cutoff_bands(
    instrument_id: str, cutoff: int, total_range: tuple[int, int], below: str, at_or_above: str
) -> tuple[Band, Band]:
    """Two bands split at a clinic-chosen cut-off, refusing one that would leave a band empty."""
    low, high = total_range
    if not low < cutoff <= high:
        raise AnswerError(instrument_id, f"cut-off {cutoff} is outside {low + 1}-{high}")
    return Band(below, low, cutoff - 1), Band(at_or_above, cutoff, high)


@dataclass(frozen=True)
class ScoringContext:
    """What a score may depend on besides the answers: the patient and the clinic's settings."""

    sex: Sex | None = None
    # Treated under medical supervision, which changes how the DSM-5 checklist counts tolerance.
    supervised: bool = False
    pcl5_cutoff: int = DEFAULT_PCL5_CUTOFF
    # No ketamine cut-off for the SDS is published [S86]; a clinic may set its own.
    sds_cutoff: int | None = None


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int | None
    band: str | None
    flags: tuple[str, ...] = ()
    # Instrument-specific findings (C-SSRS risk, PCL-5 cluster counts, counted DSM-5 criteria).
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "flags": list(self.flags),
            **self.extra,
        }


Rule = Callable[[Mapping[str, int], ScoringContext], Score]
BandTable = Callable[[ScoringContext], tuple[Band, ...]]


def no_bands(context: ScoringContext) -> tuple[Band, ...]:
    return ()


def fixed_bands(bands: tuple[Band, ...]) -> BandTable:
    return lambda context: bands


@dataclass(frozen=True, kw_only=True)
class Instrument:
    id: str
    title: str
    items: tuple[Item, ...]
    licence: str
    sources: tuple[str, ...]
    # The range of `Score.total`; None for instruments without a total (C-SSRS screener).
    total_range: tuple[int, int] | None
    # Scores the answers that `checked_answers` has accepted.
    rule: Rule
    # The bands over `total_range` in this context; empty when the instrument has none.
    bands: BandTable = no_bands
    panel_loinc: str | None = None
    total_loinc: str | None = None

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise AnswerError(item_id, f"not an item of {self.id}")

    def checked_answers(self, answers: Mapping[str, int]) -> dict[str, int]:
        """The answers, refused unless exactly the items that skip logic asks are answered."""
        for item_id in answers:
            self.item(item_id)
        checked: dict[str, int] = {}
        for item in self.items:
            value = answers.get(item.id)
            if not item.is_asked(checked):
                if value is not None:
                    raise AnswerError(item.id, f"must not be answered: {self._asked_when(item)}")
                continue
            if value is None:
                raise AnswerError(item.id, "no answer, but the item is asked")
            checked[item.id] = item.check(value)
        return checked

    def score(self, answers: Mapping[str, int], context: ScoringContext) -> Score:
        return self.rule(self.checked_answers(answers), context)

    def _asked_when(self, item: Item) -> str:
        condition = item.enable_when
        assert condition is not None  # only items with skip logic can be skipped
        answer = f"{condition.answer}"
        for option in self.item(condition.item_id).options:
            if option.value == condition.answer and option.label is not None:
                answer += f" ({option.label})"
        return f"asked only when {condition.item_id} is {answer}"

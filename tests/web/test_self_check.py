"""The self-check's content and scoring, which come from the DSM-5 checklist instrument."""

import pytest

from ketaguard.screening.instruments.base import ScoringContext
from ketaguard.screening.instruments.ketamine_use_disorder import KETAMINE_USE_DISORDER
from ketaguard.web import self_check
from ketaguard.web.self_check import ANSWER_MISSING, Answers, assess, problems


def _answers(yes: set[int], bladder: tuple[str, ...] = ()) -> Answers:
    signs = {f"kud-{n}": ("yes" if n in yes else "no") for n in range(1, 11)}
    return Answers(signs=signs, bladder=bladder)


def test_every_criterion_of_the_instrument_is_asked_in_plain_words() -> None:
    assert list(self_check.SIGN_QUESTIONS) == [item.id for item in KETAMINE_USE_DISORDER.items]
    assert all(question.endswith("?") for question in self_check.SIGN_QUESTIONS.values())


def test_the_bands_are_the_instruments_named_by_their_number_of_signs() -> None:
    names = [band.name for band in KETAMINE_USE_DISORDER.bands(ScoringContext())]
    assert [band.name for band in self_check.BANDS] == names
    assert [band.signs for band in self_check.BANDS] == ["0 to 1", "2 to 3", "4 to 5", "6 or more"]


@pytest.mark.parametrize(
    ("yes", "band"),
    [
        (set(), "none"),
        ({1}, "none"),
        ({1, 2}, "mild"),
        ({4, 5, 6}, "mild"),
        ({1, 2, 3, 4}, "moderate"),
        ({1, 2, 3, 4, 5}, "moderate"),
        ({1, 2, 3, 4, 5, 6}, "severe"),
        (set(range(1, 11)), "severe"),
        # Outside a clinic nobody supervises the use, so tolerance counts like any criterion.
        ({9, 10}, "mild"),
    ],
)
def test_the_count_of_signs_gives_the_band(yes: set[int], band: str) -> None:
    result = assess(_answers(yes))
    assert result.signs_counted == len(yes)
    assert result.band.name == band
    assert result.reaches_disorder_pattern is (band != "none")
    assert result.signs == tuple(self_check.SIGN_QUESTIONS[f"kud-{n}"] for n in sorted(yes))


def test_bladder_symptoms_are_named_in_the_order_asked() -> None:
    result = assess(_answers(set(), bladder=("haematuria", "frequency")))
    assert result.bladder == (
        "Needing to pass urine much more often than you used to",
        "Blood in your urine",
    )


def test_unanswered_or_unknown_answers_are_named_and_not_assessed() -> None:
    answers = _answers({1})
    signs = {**answers.signs, "kud-2": "", "kud-5": "maybe"}
    del signs["kud-8"]
    broken = Answers(signs=signs, bladder=("frequency", "made-up"))
    assert problems(broken) == {
        "kud-2": ANSWER_MISSING,
        "kud-5": ANSWER_MISSING,
        "kud-8": ANSWER_MISSING,
        "bladder": "Tick only the symptoms listed",
    }
    with pytest.raises(ValueError, match="problems"):
        assess(broken)
    assert problems(answers) == {}

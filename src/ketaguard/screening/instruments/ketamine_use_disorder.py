"""Ketamine use disorder: a clinician checklist of the DSM-5 criteria (reference §4.1).

DSM-5 files ketamine under Phencyclidine Use Disorder, which has ten criteria and no withdrawal
criterion [S112][S113][S114]. The item texts are the reference's paraphrase, not DSM-5's wording.
"""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    YES_NO,
    Band,
    Instrument,
    Item,
    Score,
    ScoringContext,
    band_for,
    fixed_bands,
)

# Each criterion within the past 12 months [S113].
_CRITERIA = (
    "Larger amounts or longer use than intended",
    "Persistent wish or failed efforts to cut down",
    "Much time spent getting, using or recovering",
    "Craving",
    "Failure in major roles",
    "Use despite social or interpersonal problems",
    "Activities given up",
    "Use in physically hazardous situations",
    "Use despite known physical or psychological harm",
    "Tolerance",
)

ITEMS = tuple(
    Item(id=f"kud-{number}", text=text, options=YES_NO)
    for number, text in enumerate(_CRITERIA, start=1)
)

TOLERANCE = "kud-10"

# Two or more criteria make the disorder; the count gives its severity [S113][S115].
BANDS = (
    Band("none", 0, 1),
    Band("mild", 2, 3),
    Band("moderate", 4, 5),
    Band("severe", 6, len(ITEMS)),
)


def counted(answers: Mapping[str, int], supervised: bool) -> tuple[str, ...]:
    """The criteria that count. Under the general DSM-5 SUD note, tolerance does not count for
    someone taking the drug only under proper medical supervision [S115]. Whether the PCP section
    repeats that note is UNCONFIRMED in the reference; this follows the general note, so that
    tolerance alone is never scored against a patient in supervised treatment.
    """
    return tuple(
        item_id
        for item_id, answer in answers.items()
        if answer == 1 and not (supervised and item_id == TOLERANCE)
    )


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    criteria = counted(answers, context.supervised)
    total = len(criteria)
    not_counted = context.supervised and answers[TOLERANCE] == 1
    return Score(
        "ketamine-use-disorder",
        total,
        band_for(total, BANDS),
        ("tolerance_not_counted_supervised",) if not_counted else (),
        {"criteria_counted": list(criteria)},
    )


KETAMINE_USE_DISORDER = Instrument(
    id="ketamine-use-disorder",
    title="Ketamine use disorder: DSM-5 criteria checklist (clinician)",
    items=ITEMS,
    licence="The criteria as paraphrased in the reference; DSM-5's own wording is not reproduced.",
    sources=("S111", "S112", "S113", "S114", "S115"),
    total_range=(0, len(ITEMS)),
    rule=_score,
    bands=fixed_bands(BANDS),
)

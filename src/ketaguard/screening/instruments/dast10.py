"""DAST-10 drug use screening (reference §3.1, §6.1). Wording from the clinic's licensed copy."""

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

ITEMS = tuple(Item(id=f"dast10-{number}", options=YES_NO) for number in range(1, 11))

# Item 3 ("always able to stop") scores 1 point for No; every other item 1 for Yes [S80].
REVERSED = "dast10-3"

# [S78][S79]
BANDS = (
    Band("none", 0, 0),
    Band("low", 1, 2),
    Band("moderate", 3, 5),
    Band("substantial", 6, 8),
    Band("severe", 9, 10),
)


def points(item_id: str, answer: int) -> int:
    return 1 - answer if item_id == REVERSED else answer


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    total = sum(points(item_id, answer) for item_id, answer in answers.items())
    return Score("dast10", total, band_for(total, BANDS))


DAST10 = Instrument(
    id="dast10",
    title="Drug Abuse Screening Test (DAST-10)",
    items=ITEMS,
    licence=(
        "© 1982 Addiction Research Foundation (H. Skinner); ask the author's permission [S81]. "
        "Wording from the clinic's licensed copy."
    ),
    sources=("S78", "S79", "S80", "S81"),
    total_range=(0, 10),  # [S78]
    rule=_score,
    bands=fixed_bands(BANDS),
    panel_loinc="82666-9",  # [S78]
    total_loinc="82667-7",  # [S78]
)

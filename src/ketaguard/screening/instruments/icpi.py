"""O'Leary-Sant Interstitial Cystitis Problem Index, ICPI (reference §3.1, §4.3).

Four "how much of a problem" items matching the ICSI's; wording from the clinic's licensed copy.
No fixed cut-off exists [S101][S102], so there are no bands.
"""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    Instrument,
    Item,
    Score,
    ScoringContext,
    unlabelled,
)

TOTAL_RANGE = (0, 16)  # [S103]
ITEM_COUNT = 4  # [S101]
# The reference gives the total, not the per-item range. 0-4 per item is inferred from the
# published total of 16 over 4 items, assuming equal ranges: check it against the clinic's
# licensed copy.
ITEM_MAXIMUM = TOTAL_RANGE[1] // ITEM_COUNT

ITEMS = tuple(
    Item(id=f"icpi-{number}", options=unlabelled(ITEM_MAXIMUM))
    for number in range(1, ITEM_COUNT + 1)
)


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    return Score("icpi", sum(answers.values()), None)


ICPI = Instrument(
    id="icpi",
    title="O'Leary-Sant Interstitial Cystitis Problem Index (ICPI)",
    items=ITEMS,
    licence="Licensing UNCONFIRMED. Wording from the clinic's licensed copy.",
    sources=("S101", "S102", "S103"),
    total_range=TOTAL_RANGE,
    rule=_score,
)

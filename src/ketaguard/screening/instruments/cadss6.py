"""CADSS-6: the 6-item short form of the Clinician-Administered Dissociative States Scale
(reference §3.1). Wording from the clinic's licensed copy. No clinical cut-off exists [S91][S92],
so there are no bands.
"""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    Instrument,
    Item,
    Score,
    ScoringContext,
    unlabelled,
)

# Each CADSS item is *believed* to be rated 0-4, which the reference marks UNCONFIRMED [S93]:
# default, review locally against the clinic's licensed copy.
ITEM_MAXIMUM = 4

# The short form keeps CADSS items 1, 2, 6, 7, 15 and 22 [S91]; the item ids keep the full scale's
# numbers so answers stay comparable with it.
CADSS_ITEMS = (1, 2, 6, 7, 15, 22)

ITEMS = tuple(
    Item(id=f"cadss6-{number}", options=unlabelled(ITEM_MAXIMUM)) for number in CADSS_ITEMS
)


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    return Score("cadss6", sum(answers.values()), None)


CADSS6 = Instrument(
    id="cadss6",
    title="Clinician-Administered Dissociative States Scale, 6-item form (CADSS-6)",
    items=ITEMS,
    licence="Licensing UNCONFIRMED. Wording from the clinic's licensed copy.",
    sources=("S91", "S92", "S93"),
    total_range=(0, len(ITEMS) * ITEM_MAXIMUM),
    rule=_score,
)

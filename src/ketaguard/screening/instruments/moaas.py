"""MOAA/S sedation rating (reference §3.1). The comparison with the pre-dose rating is made by the
sessions domain through `sedation_from`.
"""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    Instrument,
    Item,
    Score,
    ScoringContext,
    scale,
)

ITEM = Item(
    id="moaas-1",
    # [S94]
    options=scale(
        "No answer to a painful trapezius squeeze",
        "Answers only after a painful trapezius squeeze",
        "Answers only after mild prodding or shaking",
        "Answers only when name is called loudly and/or repeatedly",
        "Slow (lethargic) answer to name in a normal tone",
        "Answers readily to name said in a normal tone",
    ),
)

# 0 is loss of consciousness [S30].
UNRESPONSIVE = 0


def sedation_from(pre_dose: int, current: int) -> bool:
    """Whether a rating shows sedation: in the SPRAVATO trials any drop from the pre-dose rating
    counted [S30][S2].
    """
    return ITEM.check(current) < ITEM.check(pre_dose)


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    rating = answers[ITEM.id]
    return Score("moaas", rating, None, ("unresponsive",) if rating == UNRESPONSIVE else ())


MOAAS = Instrument(
    id="moaas",
    title="Modified Observer's Assessment of Alertness/Sedation (MOAA/S)",
    items=(ITEM,),
    licence=(
        "Licensing UNCONFIRMED (widely reproduced; parent OAA/S scale: Chernik et al. 1990) [S94]."
    ),
    sources=("S94", "S30", "S2"),
    total_range=(0, 5),  # [S94]
    rule=_score,
)

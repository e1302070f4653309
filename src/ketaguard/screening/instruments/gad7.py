"""GAD-7 anxiety severity (reference §3.1, §6.1)."""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    Band,
    Instrument,
    Item,
    Score,
    ScoringContext,
    band_for,
    fixed_bands,
)
from ketaguard.screening.instruments.phq9 import OPTIONS

# Past 2 weeks, each item 0-3 [S68], on the same answer list as the PHQ-9 (both are in the
# PHQ-SADS panel, which also gives the item LOINC codes [S70]).
_ITEMS = (
    ("Feeling nervous, anxious or on edge", "69725-0"),
    ("Not being able to stop or control worrying", "68509-9"),
    ("Worrying too much about different things", "69733-4"),
    ("Trouble relaxing", "69734-2"),
    ("Being so restless that it is hard to sit still", "69735-9"),
    ("Becoming easily annoyed or irritable", "69689-8"),
    ("Feeling afraid as if something awful might happen", "69736-7"),
)

ITEMS = tuple(
    Item(id=f"gad7-{number}", text=text, options=OPTIONS, loinc=loinc)
    for number, (text, loinc) in enumerate(_ITEMS, start=1)
)

# [S68][S69]
BANDS = (
    Band("minimal", 0, 4),
    Band("mild", 5, 9),
    Band("moderate", 10, 14),
    Band("severe", 15, 21),
)


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    total = sum(answers.values())
    return Score("gad7", total, band_for(total, BANDS))


GAD7 = Instrument(
    id="gad7",
    title="Generalized Anxiety Disorder-7 (GAD-7)",
    items=ITEMS,
    licence=(
        "Developed with a Pfizer educational grant [S71]. That it carries the PHQ-9's "
        "'no permission required' statement is UNCONFIRMED."
    ),
    sources=("S68", "S69", "S70", "S71", "S139", "S140", "S141"),
    total_range=(0, 21),  # [S68]
    rule=_score,
    bands=fixed_bands(BANDS),
    # The reference found the panel code only on secondary pages, not loinc.org: check it.
    panel_loinc="69737-5",  # [S139][S140]
    total_loinc="70274-6",  # [S70][S141]
)

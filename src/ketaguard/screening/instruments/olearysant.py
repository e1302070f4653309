"""O'Leary-Sant Interstitial Cystitis Symptom and Problem Indices, ICSI and ICPI (§3.1, §4.3).

Four items each; wording from the clinic's licensed copy. No fixed cut-off exists [S101][S102],
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

ITEM_COUNT = 4  # [S101]


def _index(instrument_id: str, title: str, total_maximum: int) -> Instrument:
    # The reference gives each index's total, not the per-item range. The per-item maximum is
    # inferred from the published total over 4 items, assuming equal ranges: check it against
    # the clinic's licensed copy.
    item_maximum = total_maximum // ITEM_COUNT

    def score(answers: Mapping[str, int], context: ScoringContext) -> Score:
        return Score(instrument_id, sum(answers.values()), None)

    return Instrument(
        id=instrument_id,
        title=title,
        items=tuple(
            Item(id=f"{instrument_id}-{number}", options=unlabelled(item_maximum))
            for number in range(1, ITEM_COUNT + 1)
        ),
        licence="Licensing UNCONFIRMED. Wording from the clinic's licensed copy.",
        sources=("S101", "S102", "S103"),
        total_range=(0, total_maximum),
        rule=score,
    )


# Urgency, frequency, nocturia, pain/burning; total 0-20 [S103].
ICSI = _index("icsi", "O'Leary-Sant Interstitial Cystitis Symptom Index (ICSI)", 20)
# The matching "how much of a problem" items; total 0-16 [S103].
ICPI = _index("icpi", "O'Leary-Sant Interstitial Cystitis Problem Index (ICPI)", 16)

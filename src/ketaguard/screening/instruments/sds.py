"""Severity of Dependence Scale, SDS (reference §3.1). Wording from the clinic's licensed copy."""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    Band,
    Instrument,
    Item,
    Score,
    ScoringContext,
    band_for,
    cutoff_bands,
    scale,
)

# Items 1-4 and item 5 use different answer words, each scored 0-3 [S85].
_FREQUENCY = scale("Never", "Sometimes", "Often", "Always")
_DIFFICULTY = scale("Not difficult", "Quite difficult", "Very difficult", "Impossible")

ITEMS = (
    *(Item(id=f"sds-{number}", options=_FREQUENCY) for number in range(1, 5)),
    Item(id="sds-5", options=_DIFFICULTY),
)

TOTAL_RANGE = (0, 15)  # [S85]


def bands(context: ScoringContext) -> tuple[Band, ...]:
    # Published cut-offs depend on the substance [S87][S88][S89][S90] and none is published for
    # ketamine: the validated Chinese SDS-ketamine gives no cut-off [S86]. So the SDS has bands
    # only when the clinic sets its own cut-off.
    if context.sds_cutoff is None:
        return ()
    return cutoff_bands(
        "sds", context.sds_cutoff, TOTAL_RANGE, "below_cutoff", "at_or_above_cutoff"
    )


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    total = sum(answers.values())
    table = bands(context)
    return Score("sds", total, band_for(total, table) if table else None)


SDS = Instrument(
    id="sds",
    title="Severity of Dependence Scale (SDS)",
    items=ITEMS,
    licence="Licensing UNCONFIRMED. Wording from the clinic's licensed copy.",
    sources=("S85", "S86", "S87", "S88", "S89", "S90"),
    total_range=TOTAL_RANGE,
    rule=_score,
    bands=bands,
)

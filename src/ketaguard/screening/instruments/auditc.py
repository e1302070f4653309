"""AUDIT-C alcohol consumption screen (reference §3.1, §6.1)."""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    AnswerError,
    Band,
    Instrument,
    Item,
    Score,
    ScoringContext,
    band_for,
    scale,
)

# Wording and item LOINC codes as in the LOINC AUDIT panel [S84] and US Core's AUDIT-C [S83].
ITEMS = (
    Item(
        id="auditc-1",
        text="How often do you have a drink containing alcohol?",
        options=scale(
            "Never",
            "Monthly or less",
            "2-4 times a month",
            "2-3 times a week",
            "4 or more times a week",
        ),
        loinc="68518-0",
    ),
    Item(
        id="auditc-2",
        text="How many standard drinks containing alcohol do you have on a typical day?",
        options=scale("1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more"),
        loinc="68519-8",
    ),
    Item(
        id="auditc-3",
        text="How often do you have 6 or more drinks on 1 occasion?",
        options=scale("Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily"),
        loinc="68520-6",
    ),
)

TOTAL_RANGE = (0, 12)  # [S82]
# A positive screen starts at 4 for men and 3 for women [S82][S83][S84].
POSITIVE_FROM = {"male": 4, "female": 3}


def bands(context: ScoringContext) -> tuple[Band, ...]:
    if context.sex is None:
        raise AnswerError("audit-c", "sex is required: the positive cut-off differs by sex")
    low, high = TOTAL_RANGE
    cutoff = POSITIVE_FROM[context.sex]
    return Band("negative", low, cutoff - 1), Band("positive", cutoff, high)


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    total = sum(answers.values())
    band = band_for(total, bands(context))
    # All points from Q1 alone: the person is probably drinking within limits [S82].
    q1_only = band == "positive" and answers["auditc-2"] == 0 and answers["auditc-3"] == 0
    return Score("audit-c", total, band, ("q1_only",) if q1_only else ())


AUDIT_C = Instrument(
    id="audit-c",
    title="Alcohol Use Disorders Identification Test, Consumption (AUDIT-C)",
    items=ITEMS,
    licence="AUDIT is a WHO instrument in the public domain [S83].",
    sources=("S82", "S83", "S84"),
    total_range=TOTAL_RANGE,
    rule=_score,
    bands=bands,
    panel_loinc="72109-2",  # [S82]
    total_loinc="75626-2",  # [S82]
)

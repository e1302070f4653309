"""PHQ-9 depression severity (reference §3.1, §3.2, §6.1)."""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    Band,
    Instrument,
    Item,
    Score,
    ScoringContext,
    band_for,
    fixed_bands,
    scale,
)

# Past 2 weeks, each item 0-3 [S65].
OPTIONS = scale("Not at all", "Several days", "More than half the days", "Nearly every day")

# Item LOINC codes from the PHQ-SADS panel listing [S70]; item 9 from [S138]. The reference only
# saw item 8's code truncated ("44253-…", partly UNCONFIRMED), so item 8 carries no code.
_ITEMS = (
    ("Little interest or pleasure in doing things", "44250-9"),
    ("Feeling down, depressed, or hopeless", "44255-8"),
    ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
    ("Feeling tired or having little energy", "44254-1"),
    ("Poor appetite or overeating", "44251-7"),
    (
        "Feeling bad about yourself — or that you are a failure or have let yourself or your "
        "family down",
        "44258-2",
    ),
    (
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "44252-5",
    ),
    (
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        None,
    ),
    ("Thoughts that you would be better off dead or of hurting yourself in some way", "44260-8"),
)

ITEMS = tuple(
    Item(id=f"phq9-{number}", text=text, options=OPTIONS, loinc=loinc)
    for number, (text, loinc) in enumerate(_ITEMS, start=1)
)

# [S65][S66]
BANDS = (
    Band("minimal", 0, 4),
    Band("mild", 5, 9),
    Band("moderate", 10, 14),
    Band("moderately_severe", 15, 19),
    Band("severe", 20, 27),
)

ITEM9 = "phq9-9"


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    total = sum(answers.values())
    # Any item 9 answer above 0 needs same-day clinician follow-up whatever the total [S109];
    # the caller raises the alert (and may route to a C-SSRS screen).
    flags = ("item9_positive",) if answers[ITEM9] > 0 else ()
    return Score("phq9", total, band_for(total, BANDS), flags)


PHQ9 = Instrument(
    id="phq9",
    title="Patient Health Questionnaire-9 (PHQ-9)",
    items=ITEMS,
    licence=(
        "Copyright Pfizer; no permission required to reproduce, translate, display or "
        "distribute [S67]."
    ),
    sources=("S65", "S66", "S67", "S70", "S109", "S136", "S137", "S138"),
    total_range=(0, 27),  # [S65]
    rule=_score,
    bands=fixed_bands(BANDS),
    panel_loinc="44249-1",  # [S136]
    total_loinc="44261-6",  # [S137]
)

"""C-SSRS Screener: suicide risk triage (reference §3.1, §3.3).

Item wording comes from the clinic's licensed copy. The screener has no total; the risk level is
the band. LOINC's C-SSRS codes (93293-9, 93294-7 [S110]) are summary observations ("most severe
ideation"), not the screener's items, so no item carries one.
"""

from collections.abc import Mapping

from ketaguard.screening.instruments.base import (
    YES_NO,
    EnableWhen,
    Instrument,
    Item,
    Score,
    ScoringContext,
    scale,
)

YES = 1
# Q3-Q5 are asked only when Q2 is yes; with Q2 no the screener goes straight to Q6 [S75][S76].
_IF_Q2_YES = EnableWhen("cssrs-2", YES)

ITEMS = (
    Item(id="cssrs-1", options=YES_NO),
    Item(id="cssrs-2", options=YES_NO),
    Item(id="cssrs-3", options=YES_NO, enable_when=_IF_Q2_YES),
    Item(id="cssrs-4", options=YES_NO, enable_when=_IF_Q2_YES),
    Item(id="cssrs-5", options=YES_NO, enable_when=_IF_Q2_YES),
    Item(id="cssrs-6", options=YES_NO),
    # Q6's follow-up: was the suicidal behaviour in the past 3 months? [S75]
    Item(
        id="cssrs-6b",
        options=scale("No, more than 3 months ago", "Yes, in the past 3 months"),
        enable_when=EnableWhen("cssrs-6", YES),
    ),
)

RISK_LEVELS = ("none", "low", "moderate", "high")


def risk(answers: Mapping[str, int]) -> str:
    """The risk level by the triage rules [S75][S76][S77]; unasked items count as no."""

    def yes(item_id: str) -> bool:
        return answers.get(item_id) == YES

    recent_behaviour = yes("cssrs-6") and yes("cssrs-6b")
    older_behaviour = yes("cssrs-6") and not yes("cssrs-6b")
    if yes("cssrs-4") or yes("cssrs-5") or recent_behaviour:
        return "high"
    # The moderate level is from a secondary source [S76].
    if yes("cssrs-3") or older_behaviour:
        return "moderate"
    if yes("cssrs-1") or yes("cssrs-2"):
        return "low"
    return "none"


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    level = risk(answers)
    # High risk calls for immediate mental-health referral and safety precautions [S75].
    flags = ("high_risk",) if level == "high" else ()
    return Score("cssrs-screen", None, level, flags, {"risk": level})


CSSRS_SCREEN = Instrument(
    id="cssrs-screen",
    title="Columbia Suicide Severity Rating Scale, Screener (C-SSRS)",
    items=ITEMS,
    licence=(
        "Free to use; training is needed only for research use [S77]. Licensing for commercial "
        "software is UNCONFIRMED. Wording from the clinic's licensed copy."
    ),
    sources=("S75", "S76", "S77", "S110"),
    total_range=None,
    rule=_score,
)

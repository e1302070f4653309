"""The public self-check for people using ketamine outside a clinic: what it asks and what it says.

Pure: answers in, a result out, nothing stored. The signs of problematic use are the DSM-5 criteria
of the `ketamine-use-disorder` instrument (reference §4.1), asked in plain words and scored by that
instrument, so its item ids and severity bands are the one source. The bladder questions are the
symptoms of ketamine uropathy in reference §4.3.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from ketaguard.screening.instruments.base import Band, ScoringContext
from ketaguard.screening.instruments.ketamine_use_disorder import KETAMINE_USE_DISORDER

# Someone using ketamine on their own is not under medical supervision, so tolerance counts
# like every other criterion (the general DSM-5 SUD note, [S115]).
_CONTEXT = ScoringContext(supervised=False)

# The instrument's criteria [S113], as a person would be asked about the past 12 months.
SIGN_QUESTIONS: Mapping[str, str] = {
    "kud-1": "Have you often used more ketamine, or for longer, than you meant to?",
    "kud-2": "Have you wanted to cut down or stop, or tried to and not managed it?",
    "kud-3": "Do you spend a lot of time getting ketamine, using it, or getting over it?",
    "kud-4": "Have you had strong cravings or urges to use ketamine?",
    "kud-5": "Has ketamine kept you from doing what you need to do at work, school or home?",
    "kud-6": (
        "Have you kept using even though it caused or worsened problems with family, "
        "friends or a partner?"
    ),
    "kud-7": "Have you given up or cut down on things you enjoyed or cared about because of it?",
    "kud-8": (
        "Have you used ketamine where it could get you hurt, such as when driving, "
        "swimming or somewhere unsafe?"
    ),
    "kud-9": (
        "Have you kept using even though you knew it was causing or worsening a physical or "
        "mental health problem?"
    ),
    "kud-10": (
        "Do you need more ketamine than before to feel the same effect, or does the same "
        "amount do less?"
    ),
}

# What each of the instrument's bands means, in plain words.
BAND_MEANINGS: Mapping[str, str] = {
    "none": "fewer signs than health professionals look for",
    "mild": "a pattern health professionals call mild",
    "moderate": "a pattern health professionals call moderate",
    "severe": "a pattern health professionals call severe",
}


@dataclass(frozen=True)
class BladderSymptom:
    id: str
    text: str


# Typical symptoms of ketamine-associated cystitis [S121][S122][S123].
BLADDER_SYMPTOMS = (
    BladderSymptom("frequency", "Needing to pass urine much more often than you used to"),
    BladderSymptom("urgency", "Sudden, strong urges to pass urine that are hard to hold"),
    BladderSymptom("nocturia", "Waking up at night to pass urine"),
    BladderSymptom("dysuria", "Pain or burning when you pass urine"),
    BladderSymptom("haematuria", "Blood in your urine"),
    BladderSymptom("bladder-pain", "Pain in your lower belly, over your bladder"),
    BladderSymptom("incontinence", "Leaking urine"),
)
_BLADDER_IDS = frozenset(symptom.id for symptom in BLADDER_SYMPTOMS)

ANSWER_MISSING = "Choose yes or no"


@dataclass(frozen=True)
class SeverityBand:
    """One of the instrument's bands, named for people: how many signs, and what it means."""

    name: str
    signs: str
    meaning: str


@dataclass(frozen=True)
class Result:
    signs_counted: int
    signs_asked: int
    band: SeverityBand
    signs: tuple[str, ...]
    bladder: tuple[str, ...]

    @property
    def reaches_disorder_pattern(self) -> bool:
        return self.band.name != BANDS[0].name


def _signs(band: Band, most: int) -> str:
    if band.low == band.high:
        return f"{band.low}"
    if band.high == most:
        return f"{band.low} or more"
    return f"{band.low} to {band.high}"


def _bands() -> tuple[SeverityBand, ...]:
    total_range = KETAMINE_USE_DISORDER.total_range
    assert total_range is not None  # the checklist always has a total
    return tuple(
        SeverityBand(band.name, _signs(band, total_range[1]), BAND_MEANINGS[band.name])
        for band in KETAMINE_USE_DISORDER.bands(_CONTEXT)
    )


BANDS = _bands()


@dataclass(frozen=True)
class Answers:
    """What the form sent: 'yes'/'no' per sign question, and the bladder symptoms ticked."""

    signs: Mapping[str, str]
    bladder: tuple[str, ...]


def problems(answers: Answers) -> dict[str, str]:
    """Plain-language errors by question id; empty when the answers can be assessed."""
    found = {
        item_id: ANSWER_MISSING
        for item_id in SIGN_QUESTIONS
        if answers.signs.get(item_id) not in {"yes", "no"}
    }
    if not set(answers.bladder) <= _BLADDER_IDS:
        found["bladder"] = "Tick only the symptoms listed"
    return found


def assess(answers: Answers) -> Result:
    """Count the signs with the instrument's own scoring and name the bladder symptoms ticked."""
    if problems(answers):
        raise ValueError("assess() needs answers that problems() accepts")
    scored = {item_id: int(answers.signs[item_id] == "yes") for item_id in SIGN_QUESTIONS}
    score = KETAMINE_USE_DISORDER.score(scored, _CONTEXT)
    assert score.total is not None
    band = next(band for band in BANDS if band.name == score.band)
    return Result(
        signs_counted=score.total,
        signs_asked=len(SIGN_QUESTIONS),
        band=band,
        signs=tuple(SIGN_QUESTIONS[item_id] for item_id, value in scored.items() if value),
        bladder=tuple(s.text for s in BLADDER_SYMPTOMS if s.id in answers.bladder),
    )

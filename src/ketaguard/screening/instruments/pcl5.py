"""PCL-5 PTSD checklist (reference §3.1, §6.1)."""

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

# Past month, each item 0-4 [S72].
OPTIONS = scale("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")

_TEXTS = (
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again "
    "(as if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience "
    "(for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, "
    "conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for example, "
    "having thoughts such as: I am bad, there is something seriously wrong with me, no one can "
    "be trusted, the world is completely dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or have "
    "loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
)

ITEMS = tuple(
    Item(id=f"pcl5-{number}", text=text, options=OPTIONS)
    for number, text in enumerate(_TEXTS, start=1)
)

TOTAL_RANGE = (0, 80)  # [S72]

# The alternative DSM-5 rule [S72]: an item rated 2 or more counts as endorsed, and each symptom
# cluster needs a minimum number of endorsed items.
ENDORSED_FROM = 2
CLUSTERS = {
    # cluster: (first item, last item, endorsed items needed)
    "b": (1, 5, 1),
    "c": (6, 7, 1),
    "d": (8, 14, 2),
    "e": (15, 20, 2),
}


def bands(context: ScoringContext) -> tuple[Band, ...]:
    # No validated severity bands exist [S72]; only the clinic's provisional cut-off splits.
    return cutoff_bands("pcl5", context.pcl5_cutoff, TOTAL_RANGE, "below_cutoff", "probable_ptsd")


def _score(answers: Mapping[str, int], context: ScoringContext) -> Score:
    total = sum(answers.values())
    counts = {
        cluster: sum(answers[f"pcl5-{n}"] >= ENDORSED_FROM for n in range(first, last + 1))
        for cluster, (first, last, _) in CLUSTERS.items()
    }
    met = all(counts[cluster] >= needed for cluster, (_, _, needed) in CLUSTERS.items())
    return Score(
        "pcl5",
        total,
        band_for(total, bands(context)),
        ("dsm5_cluster_criteria_met",) if met else (),
        {f"cluster_{cluster}_endorsed": count for cluster, count in counts.items()},
    )


PCL5 = Instrument(
    id="pcl5",
    title="PTSD Checklist for DSM-5 (PCL-5)",
    items=ITEMS,
    licence="US VA National Center for PTSD; public domain (secondary source) [S73].",
    sources=("S72", "S73", "S74", "S142", "S143"),
    total_range=TOTAL_RANGE,
    rule=_score,
    bands=bands,
    panel_loinc="101697-1",  # [S142]
    total_loinc="101698-9",  # [S143]
)

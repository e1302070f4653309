"""Eligibility and baseline dependence-risk tier from intake facts and the latest screenings.

``decide`` runs every rule in ``ELIGIBILITY_RULES`` and ``RISK_RULES``. A rule is a small pure
function from ``RuleInput`` to ``Finding``s; each finding names its rule id, severity and the source
of the fact it encodes (tags from ``shared/clinical-reference.md``, sections as "§"). The decision
carries every finding, so the clinician sees all the reasons, never a bare label.

This supports clinical judgement and never replaces it: a prescriber reviews the reasons and signs
off. No database, no HTTP; invalid input raises ``ValueError``.

Screenings: per instrument, the latest result completed at or before ``as_of`` is read even when it
is older than the clinic's limit (an old high-risk answer is still shown; its age is a separate
``screening.out_of_date`` finding). Results completed after ``as_of`` are ignored. The band and
flag names are those of the instrument definitions (``screening/instruments``, not imported here);
a band these rules do not recognise is never read as reassuring but becomes a review finding.

The types, vocabularies and shared helpers live in ``findings``, the rules in
``eligibility_rules`` and ``risk_rules``; every public name is re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType

from ketaguard.screening.eligibility_rules import (
    ELIGIBILITY_RULES,
    concomitant_medications,
    contraindications,
    hepatic_impairment,
    hypertensive_encephalopathy,
    pregnancy_and_lactation,
    readable_bands,
    relative_conditions,
    required_screenings,
    suicide_risk,
    under_18,
)
from ketaguard.screening.findings import (
    ADULT_AGE_YEARS,
    AUDIT_C_Q1_ONLY_FLAG,
    DEFAULT_RELATIVE_CONDITIONS,
    DEFAULT_REQUIRED_INSTRUMENTS,
    INSTRUMENT_IDS,
    INSTRUMENT_NAMES,
    KNOWN_BANDS,
    MEASURED_BY_AUDIT_C,
    MEDICATION_CLASSES,
    NOT_COUNTED_SUBSTANCES,
    PHQ9_ITEM9_FLAG,
    RELATIVE_CONDITIONS,
    RISK_TIERS,
    SEVERITIES,
    Decision,
    Eligibility,
    EligibilityPolicy,
    EvidenceValue,
    Finding,
    HepaticImpairment,
    InstrumentId,
    IntakeFacts,
    Medication,
    MedicationClass,
    RelativeCondition,
    RelativeHandling,
    RiskTier,
    Rule,
    RuleInput,
    ScreeningResult,
    Severity,
    Sex,
    SubstanceUse,
    require_aware,
)
from ketaguard.screening.risk_rules import (
    RISK_RULES,
    family_history,
    ketamine_nonmedical_use,
    screening_risk,
    substance_use,
    tier_screenings_current,
)

__all__ = [
    "ADULT_AGE_YEARS",
    "AUDIT_C_Q1_ONLY_FLAG",
    "DEFAULT_RELATIVE_CONDITIONS",
    "DEFAULT_REQUIRED_INSTRUMENTS",
    "ELIGIBILITY_RULES",
    "INSTRUMENT_IDS",
    "INSTRUMENT_NAMES",
    "KNOWN_BANDS",
    "MEASURED_BY_AUDIT_C",
    "MEDICATION_CLASSES",
    "NOT_COUNTED_SUBSTANCES",
    "PHQ9_ITEM9_FLAG",
    "RELATIVE_CONDITIONS",
    "RISK_RULES",
    "RISK_TIERS",
    "SEVERITIES",
    "Decision",
    "Eligibility",
    "EligibilityPolicy",
    "EvidenceValue",
    "Finding",
    "HepaticImpairment",
    "InstrumentId",
    "IntakeFacts",
    "Medication",
    "MedicationClass",
    "RelativeCondition",
    "RelativeHandling",
    "RiskTier",
    "Rule",
    "RuleInput",
    "ScreeningResult",
    "Severity",
    "Sex",
    "SubstanceUse",
    "concomitant_medications",
    "contraindications",
    "decide",
    "eligibility_from",
    "family_history",
    "hepatic_impairment",
    "hypertensive_encephalopathy",
    "ketamine_nonmedical_use",
    "latest_screenings",
    "pregnancy_and_lactation",
    "readable_bands",
    "relative_conditions",
    "required_screenings",
    "risk_tier_from",
    "screening_risk",
    "substance_use",
    "suicide_risk",
    "tier_screenings_current",
    "under_18",
]


def latest_screenings(
    screenings: Sequence[ScreeningResult], as_of: datetime
) -> dict[InstrumentId, ScreeningResult]:
    """The latest result per instrument completed at or before `as_of` (tie: higher response id)."""
    latest: dict[InstrumentId, ScreeningResult] = {}
    for result in screenings:
        seen = latest.get(result.instrument)
        if result.completed_at <= as_of and (
            seen is None
            or (result.completed_at, result.response_id) > (seen.completed_at, seen.response_id)
        ):
            latest[result.instrument] = result
    return latest


# --- Combination --------------------------------------------------------------------------------


def eligibility_from(findings: Sequence[Finding]) -> Eligibility:
    """Any blocks → not eligible; else any review → needs review; else any precaution → eligible
    with precautions; else eligible. Info findings never change the outcome."""
    severities = {f.severity for f in findings}
    if "blocks" in severities:
        return "not_eligible"
    if "review" in severities:
        return "needs_review"
    if "precaution" in severities:
        return "eligible_with_precautions"
    return "eligible"


def risk_tier_from(findings: Sequence[Finding]) -> RiskTier:
    """The highest tier any finding raises the patient to; low when none does."""
    return max((f.risk_tier for f in findings if f.risk_tier), key=RISK_TIERS.index, default="low")


def decide(
    intake: IntakeFacts,
    screenings: Sequence[ScreeningResult],
    policy: EligibilityPolicy,
    *,
    as_of: datetime,
) -> Decision:
    """Eligibility and baseline dependence-risk tier, each with every reason.

    Reasons come most serious first (eligibility: blocks, review, precaution, info; risk: high,
    elevated, notes) and in rule order within that, so the same facts give the same list.
    """
    require_aware(as_of, "as_of")
    latest = MappingProxyType(latest_screenings(screenings, as_of))
    facts = RuleInput(intake=intake, latest=latest, policy=policy, as_of=as_of)
    eligibility = sorted(
        (f for rule in ELIGIBILITY_RULES for f in rule(facts)),
        key=lambda f: SEVERITIES.index(f.severity),
    )
    risk = sorted(
        (f for rule in RISK_RULES for f in rule(facts)),
        key=lambda f: -RISK_TIERS.index(f.risk_tier) if f.risk_tier else 1,
    )
    return Decision(
        eligibility=eligibility_from(eligibility),
        risk_tier=risk_tier_from(risk),
        eligibility_reasons=tuple(eligibility),
        risk_reasons=tuple(risk),
    )

"""The rules' input and output types, vocabularies, constants and shared finding helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal, cast, get_args

InstrumentId = Literal[
    "phq9", "gad7", "pcl5", "cssrs-screen", "dast10", "audit-c", "sds", "ketamine-use-disorder"
]
Sex = Literal["female", "male"]
HepaticImpairment = Literal["none", "moderate", "severe"]
MedicationClass = Literal["benzodiazepine", "cns_depressant", "opioid", "psychostimulant", "maoi"]
RelativeCondition = Literal[
    "uncontrolled_hypertension", "psychosis_history", "cognitive_impairment"
]
RelativeHandling = Literal["needs_review", "precautions"]
Severity = Literal["blocks", "review", "precaution", "info"]
Eligibility = Literal["eligible", "eligible_with_precautions", "not_eligible", "needs_review"]
RiskTier = Literal["low", "elevated", "high"]
EvidenceValue = str | int | bool | None | tuple[str, ...]

INSTRUMENT_IDS = cast(tuple[InstrumentId, ...], get_args(InstrumentId))
MEDICATION_CLASSES = cast(tuple[MedicationClass, ...], get_args(MedicationClass))
RELATIVE_CONDITIONS = cast(tuple[RelativeCondition, ...], get_args(RelativeCondition))
SEVERITIES = cast(tuple[Severity, ...], get_args(Severity))  # most serious first
RISK_TIERS = cast(tuple[RiskTier, ...], get_args(RiskTier))  # lowest first

INSTRUMENT_NAMES: Mapping[InstrumentId, str] = MappingProxyType(
    {
        "phq9": "PHQ-9",
        "gad7": "GAD-7",
        "pcl5": "PCL-5",
        "cssrs-screen": "C-SSRS screen",
        "dast10": "DAST-10",
        "audit-c": "AUDIT-C",
        "sds": "SDS (Severity of Dependence Scale)",
        "ketamine-use-disorder": "DSM-5 ketamine use disorder checklist",
    }
)
# The bands these rules read (scoring: reference §3.1, §3.3, §4.1). Any other band on these
# instruments is a `screening.band_not_recognised` review. The SDS may have no band: it has one
# only when the clinic sets a cut-off, as none is validated for ketamine [S86].
KNOWN_BANDS: Mapping[InstrumentId, frozenset[str | None]] = MappingProxyType(
    {
        "cssrs-screen": frozenset({"none", "low", "moderate", "high"}),
        "dast10": frozenset({"none", "low", "moderate", "substantial", "severe"}),
        "audit-c": frozenset({"negative", "positive"}),
        "sds": frozenset({None, "below_cutoff", "at_or_above_cutoff"}),
        "ketamine-use-disorder": frozenset({"none", "mild", "moderate", "severe"}),
    }
)
PHQ9_ITEM9_FLAG = "item9_positive"
AUDIT_C_Q1_ONLY_FLAG = "q1_only"
# Esketamine is approved for adults only, not in children [S18] (reference §1.1).
ADULT_AGE_YEARS = 18
# Use of these does not count toward the dependence-risk tier (DAST-10 also leaves tobacco out).
NOT_COUNTED_SUBSTANCES = frozenset({"tobacco"})
# Drinking is weighed by the AUDIT-C result: counting any current drinking as high risk would put
# most patients in the top tier. The label's risk factor is a history of a use disorder (§1.8),
# which prior treatment still records.
MEASURED_BY_AUDIT_C = frozenset({"alcohol"})


def require_aware(value: datetime, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` (named ``name`` in the message) is timezone-aware."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ScreeningResult:
    instrument: InstrumentId
    total: int | None
    band: str | None
    flags: frozenset[str]
    completed_at: datetime
    response_id: str

    def __post_init__(self) -> None:
        if self.instrument not in INSTRUMENT_IDS:
            raise ValueError(f"Unknown screening instrument {self.instrument!r}")
        require_aware(self.completed_at, "completed_at")


@dataclass(frozen=True, kw_only=True)
class SubstanceUse:
    """Non-medical use of one substance (treatment as prescribed is not substance use)."""

    substance: str
    ever: bool
    last_12_months: bool
    current: bool
    prior_treatment: bool


@dataclass(frozen=True, kw_only=True)
class Medication:
    name: str
    classes: frozenset[MedicationClass]

    def __post_init__(self) -> None:
        unknown = sorted(set(self.classes) - set(MEDICATION_CLASSES))
        if unknown:
            raise ValueError(f"Unknown medication class(es) for {self.name}: {unknown}")


@dataclass(frozen=True, kw_only=True)
class IntakeFacts:
    """What intake recorded. For the `| None` fields, None means "not recorded"."""

    age_years: int
    sex: Sex | None
    pregnant: bool | None
    breastfeeding: bool | None
    # The esketamine label's absolute contraindications (reference §1.7).
    aneurysmal_vascular_disease: bool | None
    arteriovenous_malformation: bool | None
    intracerebral_hemorrhage_history: bool | None
    hypersensitivity_ketamine_or_esketamine: bool | None
    # Relative conditions and label warnings.
    uncontrolled_hypertension: bool | None
    psychosis_history: bool | None
    hypertensive_encephalopathy_history: bool | None
    hepatic_impairment: HepaticImpairment | None
    cognitive_impairment: bool | None
    medications: tuple[Medication, ...]
    substance_use: tuple[SubstanceUse, ...]
    family_history_sud: bool | None

    def __post_init__(self) -> None:
        if self.age_years < 0:
            raise ValueError("age_years must not be negative")
        if self.sex not in (*get_args(Sex), None):
            raise ValueError(f"Unknown sex {self.sex!r}")
        if self.hepatic_impairment not in (*get_args(HepaticImpairment), None):
            raise ValueError(f"Unknown hepatic impairment {self.hepatic_impairment!r}")


# Clinic defaults, review locally. The reference's relative-contraindication list for racemic
# ketamine is UNCONFIRMED (§2.1), so the handling of each condition is the clinic's data. Psychosis
# and uncontrolled hypertension default to review (label: assess psychosis carefully [S2] §1.5; do
# not dose where a BP rise is a serious risk [S24] §1.4, wording UNCONFIRMED); cognitive impairment
# defaults to precautions (a label warning/precaution [S30] §1.8).
DEFAULT_RELATIVE_CONDITIONS: Mapping[RelativeCondition, RelativeHandling] = MappingProxyType(
    {
        "uncontrolled_hypertension": "needs_review",
        "psychosis_history": "needs_review",
        "cognitive_impairment": "precautions",
    }
)
# Clinic default, review locally: baseline depression (PHQ-9), suicide risk (C-SSRS) and the
# substance-use history asked for by the APA consensus [S48] (§2.1) and the label's abuse-risk
# assessment [S2][S37] (§1.8) (DAST-10, AUDIT-C). The reference names no required set.
DEFAULT_REQUIRED_INSTRUMENTS: frozenset[InstrumentId] = frozenset(
    {"phq9", "cssrs-screen", "dast10", "audit-c"}
)


@dataclass(frozen=True, kw_only=True)
class EligibilityPolicy:
    """The clinic's choices. None of them is a clinical fact."""

    # Required, no default: the reference gives no number for how old a screening may be and
    # still count as current, so each clinic sets one. A clinic setting, not a clinical fact.
    max_screening_age: timedelta
    required_instruments: frozenset[InstrumentId] = DEFAULT_REQUIRED_INSTRUMENTS
    relative_conditions: Mapping[RelativeCondition, RelativeHandling] = field(
        default_factory=lambda: DEFAULT_RELATIVE_CONDITIONS
    )

    def __post_init__(self) -> None:
        if self.max_screening_age <= timedelta(0):
            raise ValueError("max_screening_age must be positive")
        unknown = sorted(set(self.required_instruments) - set(INSTRUMENT_IDS))
        if unknown:
            raise ValueError(f"Unknown required instrument(s): {unknown}")
        # Every condition needs an explicit handling, so a missing key cannot silence a rule.
        handling = dict(self.relative_conditions)
        if set(handling) != set(RELATIVE_CONDITIONS) or not all(
            h in get_args(RelativeHandling) for h in handling.values()
        ):
            raise ValueError(
                f"relative_conditions must map each of {list(RELATIVE_CONDITIONS)} to "
                f"'needs_review' or 'precautions', got {handling}"
            )
        object.__setattr__(self, "relative_conditions", MappingProxyType(handling))


# --- Output -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One reason, written for a clinician.

    Risk findings carry the tier they raise the patient to (`risk_tier`, with severity
    "precaution"); risk notes that raise nothing, and all eligibility findings, have none.
    """

    rule_id: str
    severity: Severity
    message: str
    evidence: dict[str, EvidenceValue]
    source: str
    risk_tier: RiskTier | None = None


@dataclass(frozen=True, kw_only=True)
class Decision:
    eligibility: Eligibility
    risk_tier: RiskTier
    eligibility_reasons: tuple[Finding, ...]
    risk_reasons: tuple[Finding, ...]


@dataclass(frozen=True, kw_only=True)
class RuleInput:
    intake: IntakeFacts
    latest: Mapping[InstrumentId, ScreeningResult]
    policy: EligibilityPolicy
    as_of: datetime

    def is_current(self, result: ScreeningResult | None) -> bool:
        return result is not None and self.as_of - result.completed_at <= (
            self.policy.max_screening_age
        )


Rule = Callable[[RuleInput], list[Finding]]


# --- Finding helpers the rules share ------------------------------------------------------------


# The source of the findings about missing or out-of-date screenings (both rule sets).
SCREENING_POLICY = (
    "Clinic policy (required instruments and maximum age are not reference numbers); "
    "pre-treatment assessment [S48] §2.1; abuse-risk assessment [S2][S37] §1.8"
)


def finding(
    rule_id: str,
    severity: Severity,
    message: str,
    evidence: dict[str, EvidenceValue],
    source: str,
    risk_tier: RiskTier | None = None,
) -> Finding:
    """A ``Finding``, its fields given in order so each rule reads compactly."""
    return Finding(
        rule_id=rule_id,
        severity=severity,
        message=message,
        evidence=evidence,
        source=source,
        risk_tier=risk_tier,
    )


def screening_evidence(result: ScreeningResult) -> dict[str, EvidenceValue]:
    """The evidence naming one screening result: instrument, response, total, band, flags, date."""
    return {
        "instrument": result.instrument,
        "response_id": result.response_id,
        "total": result.total,
        "band": result.band,
        "flags": tuple(sorted(result.flags)),
        "completed_at": result.completed_at.isoformat(),
    }


def taken(result: ScreeningResult) -> str:
    """How a message names a result, e.g. "the PHQ-9 of 2026-03-01"."""
    return f"the {INSTRUMENT_NAMES[result.instrument]} of {result.completed_at:%Y-%m-%d}"


def not_recorded(field_name: str, what: str, source: str) -> Finding:
    """An ``intake.not_recorded`` info finding: a field this check needs is not recorded."""
    return finding(
        "intake.not_recorded",
        "info",
        f"{what}: not recorded at intake. Record it so this check can run.",
        {"field": field_name, "value": None},
        source,
    )

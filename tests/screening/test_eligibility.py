"""Eligibility and dependence-risk rules: one table row per rule outcome, then the combinations."""

import re
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from ketaguard.screening.eligibility import (
    DEFAULT_RELATIVE_CONDITIONS,
    DEFAULT_REQUIRED_INSTRUMENTS,
    ELIGIBILITY_RULES,
    RISK_RULES,
    Decision,
    EligibilityPolicy,
    Finding,
    InstrumentId,
    IntakeFacts,
    Medication,
    RiskTier,
    ScreeningResult,
    Severity,
    SubstanceUse,
    decide,
    eligibility_from,
    latest_screenings,
    risk_tier_from,
)

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = EligibilityPolicy(max_screening_age=timedelta(days=30))

BASE_INTAKE = IntakeFacts(
    age_years=40,
    sex="female",
    pregnant=False,
    breastfeeding=False,
    aneurysmal_vascular_disease=False,
    arteriovenous_malformation=False,
    intracerebral_hemorrhage_history=False,
    hypersensitivity_ketamine_or_esketamine=False,
    uncontrolled_hypertension=False,
    psychosis_history=False,
    hypertensive_encephalopathy_history=False,
    hepatic_impairment="none",
    cognitive_impairment=False,
    medications=(),
    substance_use=(),
    family_history_sud=False,
)


def intake(**changes: object) -> IntakeFacts:
    return replace(BASE_INTAKE, **changes)  # type: ignore[arg-type]


def result(
    instrument: InstrumentId,
    band: str | None,
    *,
    flags: tuple[str, ...] = (),
    days_ago: float = 0,
    total: int | None = None,
    response_id: str | None = None,
) -> ScreeningResult:
    return ScreeningResult(
        instrument=instrument,
        total=total,
        band=band,
        flags=frozenset(flags),
        completed_at=AS_OF - timedelta(days=days_ago),
        response_id=response_id or f"{instrument}-{days_ago}",
    )


# A day old, all four default-required instruments, nothing of concern.
BASELINE = (
    result("phq9", "mild", total=7, days_ago=1),
    result("cssrs-screen", "none", days_ago=1),
    result("dast10", "none", total=0, days_ago=1),
    result("audit-c", "negative", total=1, days_ago=1),
)


def screenings(
    *newer: ScreeningResult, without: tuple[str, ...] = ()
) -> tuple[ScreeningResult, ...]:
    """The baseline minus `without`, plus `newer` results (which, being later, win)."""
    return (*(r for r in BASELINE if r.instrument not in without), *newer)


def use(substance: str, **flags: bool) -> SubstanceUse:
    fields = {"ever": True, "last_12_months": False, "current": False, "prior_treatment": False}
    fields.update(flags)
    return SubstanceUse(substance=substance, **fields)


@dataclass(frozen=True)
class Case:
    intake: IntakeFacts = BASE_INTAKE
    screenings: tuple[ScreeningResult, ...] = BASELINE
    policy: EligibilityPolicy = POLICY
    # (rule_id, severity) for eligibility rows, (rule_id, tier or None) for risk rows, in order.
    expected: tuple[tuple[str, str | None], ...] = ()
    outcome: str = "eligible"
    checks: tuple[str, ...] = field(default=())  # phrases the messages must contain

    def decision(self) -> Decision:
        return decide(self.intake, self.screenings, self.policy, as_of=AS_OF)


REVIEW: Severity = "review"

ELIGIBILITY_CASES = {
    # Esketamine-label contraindications [S35][S36]
    "contraindications not asked": Case(
        intake(intracerebral_hemorrhage_history=None, hypersensitivity_ketamine_or_esketamine=None),
        expected=(("contraindication.not_asked", "review"),),
        outcome="needs_review",
        checks=("intracerebral hemorrhage history", "hypersensitivity ketamine or esketamine"),
    ),
    "a yes outweighs an unanswered question": Case(
        intake(aneurysmal_vascular_disease=True, arteriovenous_malformation=None),
        expected=(
            ("contraindication.aneurysmal_vascular_disease", "blocks"),
            ("contraindication.not_asked", "review"),
        ),
        outcome="not_eligible",
    ),
    "aneurysm": Case(
        intake(aneurysmal_vascular_disease=True),
        expected=(("contraindication.aneurysmal_vascular_disease", "blocks"),),
        outcome="not_eligible",
    ),
    "avm": Case(
        intake(arteriovenous_malformation=True),
        expected=(("contraindication.arteriovenous_malformation", "blocks"),),
        outcome="not_eligible",
    ),
    "ich": Case(
        intake(intracerebral_hemorrhage_history=True),
        expected=(("contraindication.intracerebral_hemorrhage", "blocks"),),
        outcome="not_eligible",
    ),
    "hypersensitivity": Case(
        intake(hypersensitivity_ketamine_or_esketamine=True),
        expected=(("contraindication.hypersensitivity", "blocks"),),
        outcome="not_eligible",
        checks=("racemic ketamine too",),
    ),
    # Age
    "age 17": Case(
        intake(age_years=17), expected=(("age.under_18", REVIEW),), outcome="needs_review"
    ),
    "age 18": Case(intake(age_years=18)),
    # Pregnancy and lactation [S28][S40]
    "pregnant": Case(
        intake(pregnant=True), expected=(("pregnancy.pregnant", REVIEW),), outcome="needs_review"
    ),
    "breastfeeding": Case(
        intake(breastfeeding=True),
        expected=(("lactation.breastfeeding", REVIEW),),
        outcome="needs_review",
    ),
    "pregnancy unknown, female": Case(
        intake(pregnant=None),
        expected=(("pregnancy.status_not_recorded", REVIEW),),
        outcome="needs_review",
        checks=("Record it",),
    ),
    "pregnancy unknown, older female": Case(
        intake(pregnant=None, age_years=70),
        expected=(("pregnancy.status_not_recorded", REVIEW),),
        outcome="needs_review",
    ),
    "pregnancy unknown, sex unknown": Case(
        intake(pregnant=None, sex=None),
        expected=(("pregnancy.status_not_recorded", REVIEW),),
        outcome="needs_review",
        checks=("sex not recorded",),
    ),
    "pregnancy and breastfeeding unknown, male": Case(
        intake(sex="male", pregnant=None, breastfeeding=None)
    ),
    "pregnant, recorded male": Case(
        intake(sex="male", pregnant=True),
        expected=(("pregnancy.pregnant", REVIEW),),
        outcome="needs_review",
    ),
    "breastfeeding unknown, female": Case(
        intake(breastfeeding=None), expected=(("intake.not_recorded", "info"),)
    ),
    # Suicide risk: review, never blocks [S75]-[S77] [S109]
    "cssrs high": Case(
        screenings=screenings(result("cssrs-screen", "high", flags=("high_risk",))),
        expected=(("suicide.cssrs_high_risk", REVIEW),),
        outcome="needs_review",
        checks=("URGENT", "immediate mental-health referral and safety precautions"),
    ),
    "cssrs moderate": Case(
        screenings=screenings(result("cssrs-screen", "moderate")),
        expected=(("suicide.cssrs_moderate_risk", "info"),),
    ),
    "cssrs low": Case(screenings=screenings(result("cssrs-screen", "low"))),
    "phq9 item 9": Case(
        screenings=screenings(result("phq9", "severe", flags=("item9_positive",), total=22)),
        expected=(("suicide.phq9_item9_positive", REVIEW),),
        outcome="needs_review",
        checks=("same day",),
    ),
    "cssrs high and phq9 item 9": Case(
        screenings=screenings(
            result("phq9", "moderate", flags=("item9_positive",)),
            result("cssrs-screen", "high"),
        ),
        expected=(("suicide.cssrs_high_risk", REVIEW), ("suicide.phq9_item9_positive", REVIEW)),
        outcome="needs_review",
    ),
    # Relative conditions, default clinic policy
    "uncontrolled hypertension": Case(
        intake(uncontrolled_hypertension=True),
        expected=(("relative.uncontrolled_hypertension", REVIEW),),
        outcome="needs_review",
        checks=("prescriber review",),
    ),
    "psychosis": Case(
        intake(psychosis_history=True),
        expected=(("relative.psychosis_history", REVIEW),),
        outcome="needs_review",
    ),
    "cognitive impairment": Case(
        intake(cognitive_impairment=True),
        expected=(("relative.cognitive_impairment", "precaution"),),
        outcome="eligible_with_precautions",
        checks=("with precautions",),
    ),
    "relative conditions not recorded": Case(
        intake(uncontrolled_hypertension=None, psychosis_history=None, cognitive_impairment=None),
        expected=(("intake.not_recorded", "info"),) * 3,
    ),
    "hypertensive encephalopathy": Case(
        intake(hypertensive_encephalopathy_history=True),
        expected=(("relative.hypertensive_encephalopathy_history", "precaution"),),
        outcome="eligible_with_precautions",
    ),
    "hypertensive encephalopathy not recorded": Case(
        intake(hypertensive_encephalopathy_history=None),
        expected=(("intake.not_recorded", "info"),),
    ),
    # Hepatic impairment [S24]
    "hepatic severe": Case(
        intake(hepatic_impairment="severe"),
        expected=(("hepatic.severe_impairment", REVIEW),),
        outcome="needs_review",
    ),
    "hepatic moderate": Case(
        intake(hepatic_impairment="moderate"),
        expected=(("hepatic.moderate_impairment", "precaution"),),
        outcome="eligible_with_precautions",
        checks=("monitor for longer",),
    ),
    "hepatic not recorded": Case(
        intake(hepatic_impairment=None), expected=(("intake.not_recorded", "info"),)
    ),
    # Concomitant medications [S28]
    "benzodiazepine": Case(
        intake(medications=(Medication(name="lorazepam", classes=frozenset({"benzodiazepine"})),)),
        expected=(("medication.benzodiazepine", "precaution"),),
        outcome="eligible_with_precautions",
        checks=("a benzodiazepine (lorazepam)", "sedation"),
    ),
    "cns depressant": Case(
        intake(medications=(Medication(name="zolpidem", classes=frozenset({"cns_depressant"})),)),
        expected=(("medication.cns_depressant", "precaution"),),
        outcome="eligible_with_precautions",
    ),
    "opioid": Case(
        intake(medications=(Medication(name="oxycodone", classes=frozenset({"opioid"})),)),
        expected=(("medication.opioid", "precaution"),),
        outcome="eligible_with_precautions",
        checks=("pulse oximetry",),
    ),
    "psychostimulant": Case(
        intake(
            medications=(
                Medication(name="methylphenidate", classes=frozenset({"psychostimulant"})),
            )
        ),
        expected=(("medication.psychostimulant", "precaution"),),
        outcome="eligible_with_precautions",
        checks=("blood pressure",),
    ),
    "maoi": Case(
        intake(medications=(Medication(name="phenelzine", classes=frozenset({"maoi"})),)),
        expected=(("medication.maoi", "precaution"),),
        outcome="eligible_with_precautions",
        checks=("an MAOI (phenelzine)", "blood pressure"),
    ),
    "two classes, two medications of one class": Case(
        intake(
            medications=(
                Medication(name="tramadol", classes=frozenset({"opioid", "cns_depressant"})),
                Medication(name="codeine", classes=frozenset({"opioid"})),
                Medication(name="sertraline", classes=frozenset()),
            )
        ),
        expected=(("medication.cns_depressant", "precaution"), ("medication.opioid", "precaution")),
        outcome="eligible_with_precautions",
        checks=("an opioid (tramadol, codeine)",),
    ),
    # Required screenings (clinic policy)
    "phq9 missing": Case(
        screenings=screenings(without=("phq9",)),
        expected=(("screening.missing", REVIEW),),
        outcome="needs_review",
        checks=("No current PHQ-9",),
    ),
    "phq9 out of date": Case(
        screenings=screenings(result("phq9", "mild", days_ago=40), without=("phq9",)),
        expected=(("screening.out_of_date", REVIEW),),
        outcome="needs_review",
        checks=("No current PHQ-9", "40 days ago", "30 days"),
    ),
    "gad7 missing is not required": Case(),
    "cssrs missing": Case(
        screenings=screenings(without=("cssrs-screen",)),
        expected=(("screening.missing", REVIEW),),
        outcome="needs_review",
        checks=("C-SSRS screen",),
    ),
    # Unreadable bands are never reassuring
    "dast10 band not recognised": Case(
        screenings=screenings(result("dast10", "unknown")),
        expected=(("screening.band_not_recognised", REVIEW),),
        outcome="needs_review",
        checks=("'unknown'", "Check the score by hand"),
    ),
    "cssrs band missing": Case(
        screenings=screenings(result("cssrs-screen", None)),
        expected=(("screening.band_not_recognised", REVIEW),),
        outcome="needs_review",
        checks=("none recorded",),
    ),
    "sds without a clinic cut-off is readable": Case(
        screenings=screenings(result("sds", None, total=6))
    ),
    # Combinations: most serious first, rule order within a severity
    "blocks beat review and precautions": Case(
        intake(
            intracerebral_hemorrhage_history=True,
            pregnant=True,
            breastfeeding=None,
            medications=(Medication(name="phenelzine", classes=frozenset({"maoi"})),),
        ),
        screenings=screenings(without=("audit-c",)),
        expected=(
            ("contraindication.intracerebral_hemorrhage", "blocks"),
            ("pregnancy.pregnant", REVIEW),
            ("screening.missing", REVIEW),
            ("medication.maoi", "precaution"),
            ("intake.not_recorded", "info"),
        ),
        outcome="not_eligible",
    ),
    "review beats precautions": Case(
        intake(hepatic_impairment="moderate", psychosis_history=True),
        expected=(
            ("relative.psychosis_history", REVIEW),
            ("hepatic.moderate_impairment", "precaution"),
        ),
        outcome="needs_review",
    ),
    "precautions with info": Case(
        intake(cognitive_impairment=True, hypertensive_encephalopathy_history=None),
        expected=(("relative.cognitive_impairment", "precaution"), ("intake.not_recorded", "info")),
        outcome="eligible_with_precautions",
    ),
    "several blocks keep rule order": Case(
        intake(
            hypersensitivity_ketamine_or_esketamine=True,
            aneurysmal_vascular_disease=True,
            arteriovenous_malformation=True,
        ),
        expected=(
            ("contraindication.aneurysmal_vascular_disease", "blocks"),
            ("contraindication.arteriovenous_malformation", "blocks"),
            ("contraindication.hypersensitivity", "blocks"),
        ),
        outcome="not_eligible",
    ),
}

RISK_CASES = {
    "current alcohol is weighed by AUDIT-C": Case(
        intake(substance_use=(use("alcohol", last_12_months=True, current=True),)),
        expected=(("risk.alcohol_use", None),),
        outcome="low",
        checks=("AUDIT-C result decides",),
    ),
    "current cannabis": Case(
        intake(substance_use=(use("cannabis", last_12_months=True, current=True),)),
        expected=(("risk.current_substance_use", "high"),),
        outcome="high",
        checks=("Current use of cannabis",),
    ),
    "current tobacco does not count": Case(
        intake(substance_use=(use("Tobacco", last_12_months=True, current=True),)),
        outcome="low",
    ),
    "past ketamine use": Case(
        intake(substance_use=(use("ketamine"),)),
        expected=(("risk.ketamine_nonmedical_use", "high"),),
        outcome="high",
        checks=("(past)",),
    ),
    "current ketamine use is one reason": Case(
        intake(substance_use=(use("ketamine", last_12_months=True, current=True),)),
        expected=(("risk.ketamine_nonmedical_use", "high"),),
        outcome="high",
        checks=("(current)",),
    ),
    "cannabis in the last 12 months": Case(
        intake(substance_use=(use("cannabis", last_12_months=True),)),
        expected=(("risk.substance_use_last_12_months", "elevated"),),
        outcome="elevated",
    ),
    "past use only": Case(
        intake(substance_use=(use("stimulants"),)),
        expected=(("risk.past_substance_use", None),),
        outcome="low",
    ),
    "prior treatment": Case(
        intake(substance_use=(use("alcohol", prior_treatment=True),)),
        expected=(("risk.prior_sud_treatment", "elevated"), ("risk.alcohol_use", None)),
        outcome="elevated",
        checks=("substance use disorder (alcohol)",),
    ),
    "dast10 low": Case(screenings=screenings(result("dast10", "low", total=2)), outcome="low"),
    "dast10 moderate": Case(
        screenings=screenings(result("dast10", "moderate", total=4)),
        expected=(("risk.dast10_moderate", "elevated"),),
        outcome="elevated",
    ),
    "dast10 substantial": Case(
        screenings=screenings(result("dast10", "substantial", total=7)),
        expected=(("risk.dast10_substantial_or_severe", "high"),),
        outcome="high",
    ),
    "dast10 severe": Case(
        screenings=screenings(result("dast10", "severe", total=10)),
        expected=(("risk.dast10_substantial_or_severe", "high"),),
        outcome="high",
    ),
    "ketamine use disorder none": Case(
        screenings=screenings(result("ketamine-use-disorder", "none", total=1)), outcome="low"
    ),
    "ketamine use disorder mild": Case(
        screenings=screenings(result("ketamine-use-disorder", "mild", total=2)),
        expected=(("risk.ketamine_use_disorder_criteria", "high"),),
        outcome="high",
    ),
    "audit-c positive": Case(
        screenings=screenings(result("audit-c", "positive", total=5)),
        expected=(("risk.audit_c_positive", "elevated"),),
        outcome="elevated",
    ),
    "audit-c positive from question 1 only": Case(
        screenings=screenings(result("audit-c", "positive", total=4, flags=("q1_only",))),
        expected=(("risk.audit_c_positive", "elevated"),),
        outcome="elevated",
        checks=("within limits",),
    ),
    "sds at or above cut-off": Case(
        screenings=screenings(result("sds", "at_or_above_cutoff", total=6)),
        expected=(("risk.sds_at_or_above_cutoff", "elevated"),),
        outcome="elevated",
    ),
    "sds below cut-off": Case(
        screenings=screenings(result("sds", "below_cutoff", total=1)), outcome="low"
    ),
    "sds without a cut-off": Case(
        screenings=screenings(result("sds", None, total=6)),
        expected=(("risk.sds_no_cutoff", None),),
        outcome="low",
        checks=("is 6",),
    ),
    "family history": Case(
        intake(family_history_sud=True),
        expected=(("risk.family_history_sud", "elevated"),),
        outcome="elevated",
    ),
    "family history not recorded": Case(
        intake(family_history_sud=None), expected=(("intake.not_recorded", None),), outcome="low"
    ),
    "dast10 missing": Case(
        screenings=screenings(without=("dast10",)),
        expected=(("risk.screening_not_current", None),),
        outcome="low",
        checks=("understate",),
    ),
    "audit-c out of date is still read": Case(
        screenings=screenings(result("audit-c", "positive", days_ago=90), without=("audit-c",)),
        expected=(("risk.audit_c_positive", "elevated"), ("risk.screening_not_current", None)),
        outcome="elevated",
    ),
    "high first, then elevated, then notes": Case(
        intake(
            family_history_sud=True,
            substance_use=(
                use("cannabis", last_12_months=True),
                use("opioids", last_12_months=True, current=True, prior_treatment=True),
            ),
        ),
        screenings=screenings(result("dast10", "moderate"), without=("audit-c",)),
        expected=(
            ("risk.current_substance_use", "high"),
            ("risk.substance_use_last_12_months", "elevated"),
            ("risk.prior_sud_treatment", "elevated"),
            ("risk.dast10_moderate", "elevated"),
            ("risk.family_history_sud", "elevated"),
            ("risk.screening_not_current", None),
        ),
        outcome="high",
    ),
}

ELIGIBILITY_RULE_IDS = {
    "contraindication.not_asked",
    "contraindication.aneurysmal_vascular_disease",
    "contraindication.arteriovenous_malformation",
    "contraindication.intracerebral_hemorrhage",
    "contraindication.hypersensitivity",
    "age.under_18",
    "pregnancy.pregnant",
    "pregnancy.status_not_recorded",
    "lactation.breastfeeding",
    "suicide.cssrs_high_risk",
    "suicide.cssrs_moderate_risk",
    "suicide.phq9_item9_positive",
    "relative.uncontrolled_hypertension",
    "relative.psychosis_history",
    "relative.cognitive_impairment",
    "relative.hypertensive_encephalopathy_history",
    "hepatic.severe_impairment",
    "hepatic.moderate_impairment",
    "medication.benzodiazepine",
    "medication.cns_depressant",
    "medication.opioid",
    "medication.psychostimulant",
    "medication.maoi",
    "screening.missing",
    "screening.out_of_date",
    "screening.band_not_recognised",
    "intake.not_recorded",
}
RISK_RULE_IDS = {
    "risk.alcohol_use",
    "risk.current_substance_use",
    "risk.ketamine_nonmedical_use",
    "risk.substance_use_last_12_months",
    "risk.past_substance_use",
    "risk.prior_sud_treatment",
    "risk.dast10_moderate",
    "risk.dast10_substantial_or_severe",
    "risk.ketamine_use_disorder_criteria",
    "risk.audit_c_positive",
    "risk.sds_at_or_above_cutoff",
    "risk.sds_no_cutoff",
    "risk.family_history_sud",
    "risk.screening_not_current",
    "intake.not_recorded",
}


def _messages(findings: tuple[Finding, ...]) -> str:
    return " ".join(f.message for f in findings)


@pytest.mark.parametrize("case", ELIGIBILITY_CASES.values(), ids=ELIGIBILITY_CASES.keys())
def test_eligibility_rules(case: Case) -> None:
    decision = case.decision()
    assert [(f.rule_id, f.severity) for f in decision.eligibility_reasons] == list(case.expected)
    assert decision.eligibility == case.outcome
    for phrase in case.checks:
        assert phrase in _messages(decision.eligibility_reasons)


@pytest.mark.parametrize("case", RISK_CASES.values(), ids=RISK_CASES.keys())
def test_risk_rules(case: Case) -> None:
    decision = case.decision()
    assert [(f.rule_id, f.risk_tier) for f in decision.risk_reasons] == list(case.expected)
    assert decision.risk_tier == case.outcome
    for phrase in case.checks:
        assert phrase in _messages(decision.risk_reasons)


def test_the_baseline_is_eligible_and_low_risk_with_no_findings() -> None:
    decision = decide(BASE_INTAKE, BASELINE, POLICY, as_of=AS_OF)
    assert decision == Decision(
        eligibility="eligible", risk_tier="low", eligibility_reasons=(), risk_reasons=()
    )


def test_the_tables_cover_every_rule_id() -> None:
    seen_eligibility = {
        f.rule_id
        for case in ELIGIBILITY_CASES.values()
        for f in case.decision().eligibility_reasons
    }
    seen_risk = {f.rule_id for case in RISK_CASES.values() for f in case.decision().risk_reasons}
    assert seen_eligibility == ELIGIBILITY_RULE_IDS
    assert seen_risk == RISK_RULE_IDS


ALL_CASES = [*ELIGIBILITY_CASES.values(), *RISK_CASES.values()]


def test_every_finding_is_complete_and_reads_as_a_sentence() -> None:
    findings = [
        f
        for case in ALL_CASES
        for d in [case.decision()]
        for f in d.eligibility_reasons + d.risk_reasons
    ]
    assert len(findings) > 60
    for f in findings:
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", f.rule_id), f.rule_id
        assert f.source.strip(), f.rule_id
        assert f.message.strip(), f.rule_id
        assert f.message[0].isupper(), f.message
        assert f.message.endswith("."), f.message
        # No bare labels or field names leak into what the clinician reads.
        assert "None" not in f.message, f.message
        assert "_" not in f.message, f.message
        assert f.evidence, f.rule_id


def test_tiers_and_severities_stay_on_their_own_side() -> None:
    for case in ALL_CASES:
        decision = case.decision()
        assert all(f.risk_tier is None for f in decision.eligibility_reasons)
        for f in decision.risk_reasons:
            assert f.severity == ("info" if f.risk_tier is None else "precaution")


def test_evidence_links_back_to_the_screening_response() -> None:
    dast = result("dast10", "substantial", total=7, response_id="resp-42")
    decision = decide(BASE_INTAKE, screenings(dast), POLICY, as_of=AS_OF)
    (finding,) = decision.risk_reasons
    assert finding.evidence["response_id"] == "resp-42"
    assert finding.evidence["instrument"] == "dast10"
    assert finding.evidence["total"] == 7
    assert "[S78]" in finding.source


def test_contraindication_evidence_names_the_field() -> None:
    decision = decide(intake(intracerebral_hemorrhage_history=True), BASELINE, POLICY, as_of=AS_OF)
    (finding,) = decision.eligibility_reasons
    assert finding.evidence == {"field": "intracerebral_hemorrhage_history", "value": True}
    assert finding.source == "[S35][S36] esketamine label §1.7"


# --- Combination ----------------------------------------------------------------------------------


def _finding(severity: Severity, tier: RiskTier | None = None) -> Finding:
    return Finding(
        rule_id="test.rule",
        severity=severity,
        message="M.",
        evidence={},
        source="S",
        risk_tier=tier,
    )


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        ((), "eligible"),
        (("info",), "eligible"),
        (("precaution", "info"), "eligible_with_precautions"),
        (("info", "precaution", "review"), "needs_review"),
        (("review", "precaution", "info", "blocks"), "not_eligible"),
        (("blocks",), "not_eligible"),
    ],
)
def test_eligibility_combination(severities: tuple[Severity, ...], expected: str) -> None:
    assert eligibility_from([_finding(s) for s in severities]) == expected


@pytest.mark.parametrize(
    ("tiers", "expected"),
    [
        ((), "low"),
        ((None,), "low"),
        (("elevated", None), "elevated"),
        (("elevated", "high", "elevated"), "high"),
    ],
)
def test_risk_tier_combination(tiers: tuple[RiskTier | None, ...], expected: str) -> None:
    assert risk_tier_from([_finding("precaution", t) for t in tiers]) == expected


def test_the_same_facts_in_any_order_give_the_same_decision() -> None:
    facts = intake(
        psychosis_history=True,
        medications=(
            Medication(name="phenelzine", classes=frozenset({"maoi"})),
            Medication(name="lorazepam", classes=frozenset({"benzodiazepine"})),
        ),
        substance_use=(use("cannabis", last_12_months=True), use("alcohol", current=True)),
    )
    given = screenings(
        result("phq9", "moderate", flags=("item9_positive",)),
        result("phq9", "mild", days_ago=5),
        result("dast10", "moderate"),
    )
    first = decide(facts, given, POLICY, as_of=AS_OF)
    assert decide(facts, tuple(reversed(given)), POLICY, as_of=AS_OF) == first
    assert decide(facts, given, POLICY, as_of=AS_OF) == first
    # Medication findings follow the class order, not the order the medications were entered.
    assert [f.rule_id for f in first.eligibility_reasons] == [
        "suicide.phq9_item9_positive",
        "relative.psychosis_history",
        "medication.benzodiazepine",
        "medication.maoi",
    ]


def test_rules_are_plain_functions_in_a_fixed_order() -> None:
    assert [r.__name__ for r in ELIGIBILITY_RULES] == [
        "contraindications",
        "under_18",
        "pregnancy_and_lactation",
        "suicide_risk",
        "relative_conditions",
        "hypertensive_encephalopathy",
        "hepatic_impairment",
        "concomitant_medications",
        "required_screenings",
        "readable_bands",
    ]
    assert [r.__name__ for r in RISK_RULES] == [
        "ketamine_nonmedical_use",
        "substance_use",
        "screening_risk",
        "family_history",
        "tier_screenings_current",
    ]


# --- Which screening counts -----------------------------------------------------------------------


def test_the_newest_result_per_instrument_counts() -> None:
    old = result("phq9", "severe", flags=("item9_positive",), days_ago=10)
    new = result("phq9", "mild", days_ago=2)
    assert latest_screenings([new, old], AS_OF) == {"phq9": new}
    decision = decide(BASE_INTAKE, screenings(old, new), POLICY, as_of=AS_OF)
    assert decision.eligibility == "eligible"


def test_results_after_as_of_are_ignored() -> None:
    future = result("cssrs-screen", "high", days_ago=-1)
    decision = decide(BASE_INTAKE, screenings(future), POLICY, as_of=AS_OF)
    assert decision.eligibility_reasons == ()


def test_an_old_high_risk_answer_is_still_shown_with_its_age() -> None:
    stale = result("cssrs-screen", "high", days_ago=45)
    decision = decide(
        BASE_INTAKE, screenings(stale, without=("cssrs-screen",)), POLICY, as_of=AS_OF
    )
    assert [f.rule_id for f in decision.eligibility_reasons] == [
        "suicide.cssrs_high_risk",
        "screening.out_of_date",
    ]


def test_ties_on_completion_time_go_to_the_higher_response_id() -> None:
    a = result("dast10", "none", response_id="a")
    b = result("dast10", "severe", response_id="b")
    assert latest_screenings([a, b], AS_OF)["dast10"] is b
    assert latest_screenings([b, a], AS_OF)["dast10"] is b


@pytest.mark.parametrize(
    ("age", "current"),
    [
        (timedelta(days=30), True),
        (timedelta(days=30, seconds=1), False),
        (timedelta(0), True),
    ],
)
def test_the_maximum_age_is_inclusive(age: timedelta, current: bool) -> None:
    phq9 = ScreeningResult(
        instrument="phq9",
        total=3,
        band="minimal",
        flags=frozenset(),
        completed_at=AS_OF - age,
        response_id="r",
    )
    decision = decide(BASE_INTAKE, screenings(phq9, without=("phq9",)), POLICY, as_of=AS_OF)
    assert (decision.eligibility == "eligible") is current


# --- Policy ---------------------------------------------------------------------------------------


def test_policy_defaults() -> None:
    assert POLICY.required_instruments == {"phq9", "cssrs-screen", "dast10", "audit-c"}
    assert POLICY.required_instruments == DEFAULT_REQUIRED_INSTRUMENTS
    assert dict(POLICY.relative_conditions) == {
        "uncontrolled_hypertension": "needs_review",
        "psychosis_history": "needs_review",
        "cognitive_impairment": "precautions",
    }


def test_the_maximum_screening_age_has_no_built_in_default() -> None:
    with pytest.raises(TypeError, match="max_screening_age"):
        EligibilityPolicy()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("condition", "handling", "severity", "outcome"),
    [
        ("psychosis_history", "precautions", "precaution", "eligible_with_precautions"),
        ("uncontrolled_hypertension", "precautions", "precaution", "eligible_with_precautions"),
        ("cognitive_impairment", "needs_review", "review", "needs_review"),
    ],
)
def test_the_clinic_decides_how_relative_conditions_are_handled(
    condition: str, handling: str, severity: str, outcome: str
) -> None:
    policy = EligibilityPolicy(
        max_screening_age=timedelta(days=30),
        relative_conditions={**DEFAULT_RELATIVE_CONDITIONS, condition: handling},  # type: ignore[dict-item]
    )
    decision = decide(intake(**{condition: True}), BASELINE, policy, as_of=AS_OF)
    (finding,) = decision.eligibility_reasons
    assert (finding.rule_id, finding.severity) == (f"relative.{condition}", severity)
    assert finding.evidence["clinic_policy"] == handling
    assert decision.eligibility == outcome


def test_required_instruments_are_the_clinics_choice() -> None:
    policy = EligibilityPolicy(
        max_screening_age=timedelta(days=30), required_instruments=frozenset({"phq9", "gad7"})
    )
    decision = decide(BASE_INTAKE, screenings(without=("dast10",)), policy, as_of=AS_OF)
    assert [(f.rule_id, f.evidence["instrument"]) for f in decision.eligibility_reasons] == [
        ("screening.missing", "gad7")
    ]
    assert decision.risk_reasons == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"max_screening_age": timedelta(0)},
        {"required_instruments": frozenset({"phq-9"})},
        {"relative_conditions": {"psychosis_history": "needs_review"}},
        {"relative_conditions": {**DEFAULT_RELATIVE_CONDITIONS, "pregnancy": "precautions"}},
        {"relative_conditions": {**DEFAULT_RELATIVE_CONDITIONS, "psychosis_history": "ignore"}},
    ],
)
def test_a_policy_that_could_silence_a_rule_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"max_screening_age|instrument|relative_conditions"):
        EligibilityPolicy(**{"max_screening_age": timedelta(days=30), **changes})  # type: ignore[arg-type]


def test_the_policy_cannot_be_changed_after_it_is_made() -> None:
    source = dict(DEFAULT_RELATIVE_CONDITIONS)
    policy = EligibilityPolicy(max_screening_age=timedelta(days=7), relative_conditions=source)
    source["psychosis_history"] = "precautions"
    assert policy.relative_conditions["psychosis_history"] == "needs_review"
    with pytest.raises(TypeError):
        policy.relative_conditions["psychosis_history"] = "precautions"  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        policy.max_screening_age = timedelta(days=1)  # type: ignore[misc]


# --- Input checks ---------------------------------------------------------------------------------


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="completed_at"):
        replace(BASELINE[0], completed_at=datetime(2026, 3, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="as_of"):
        decide(BASE_INTAKE, BASELINE, POLICY, as_of=datetime(2026, 3, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    "build",
    [
        lambda: replace(BASELINE[0], instrument="phq-9"),  # type: ignore[arg-type]
        lambda: Medication(name="x", classes=frozenset({"ssri"})),  # type: ignore[arg-type]
        lambda: intake(age_years=-1),
        lambda: intake(sex="unknown"),
        lambda: intake(hepatic_impairment="mild"),
    ],
    ids=["instrument", "medication class", "age", "sex", "hepatic"],
)
def test_unknown_values_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"nknown|negative"):
        build()

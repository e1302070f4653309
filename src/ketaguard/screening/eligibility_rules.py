"""The eligibility rules and ``ELIGIBILITY_RULES``, the order ``decide`` runs them in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from ketaguard.screening.findings import (
    ADULT_AGE_YEARS,
    INSTRUMENT_IDS,
    INSTRUMENT_NAMES,
    KNOWN_BANDS,
    MEDICATION_CLASSES,
    PHQ9_ITEM9_FLAG,
    RELATIVE_CONDITIONS,
    SCREENING_POLICY,
    EvidenceValue,
    Finding,
    MedicationClass,
    RelativeCondition,
    RelativeHandling,
    Rule,
    RuleInput,
    Severity,
    finding,
    not_recorded,
    screening_evidence,
    taken,
)


def _span(age: timedelta) -> str:
    days = age.total_seconds() / 86400
    if days >= 1:
        return f"{days:g} day{'' if days == 1 else 's'}"
    hours = age.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


_CONTRAINDICATIONS = (
    (
        "contraindication.aneurysmal_vascular_disease",
        "aneurysmal_vascular_disease",
        "Aneurysmal vascular disease (aorta, intracranial or peripheral arteries) is recorded",
    ),
    (
        "contraindication.arteriovenous_malformation",
        "arteriovenous_malformation",
        "An arteriovenous malformation is recorded",
    ),
    (
        "contraindication.intracerebral_hemorrhage",
        "intracerebral_hemorrhage_history",
        "A history of intracerebral hemorrhage is recorded",
    ),
    (
        "contraindication.hypersensitivity",
        "hypersensitivity_ketamine_or_esketamine",
        "Hypersensitivity to ketamine or esketamine is recorded",
    ),
)


def contraindications(facts: RuleInput) -> list[Finding]:
    """Esketamine-label absolute contraindications → blocks [S35][S36] (reference §1.7).

    These are the esketamine (SPRAVATO) label's. For racemic ketamine (off-label) the clinic may
    decide otherwise, but hypersensitivity to ketamine rules out both drugs. ketaguard blocks on
    all four; a prescriber who disagrees for racemic ketamine says so in the sign-off.
    """
    findings = []
    not_asked = [name for _, name, _ in _CONTRAINDICATIONS if getattr(facts.intake, name) is None]
    if not_asked:
        # An unanswered contraindication question is not a "no": nobody may rely on it yet.
        findings.append(
            finding(
                "contraindication.not_asked",
                "review",
                "The contraindication checklist is incomplete ("
                + ", ".join(name.replace("_", " ") for name in not_asked)
                + "). Ask and record each before deciding.",
                {"fields": ", ".join(not_asked)},
                "[S35][S36] esketamine label §1.7",
            )
        )
    for rule_id, name, what in _CONTRAINDICATIONS:
        if getattr(facts.intake, name) is True:
            both = " It rules out racemic ketamine too." if "hypersensitivity" in name else ""
            message = f"{what}: a contraindication on the esketamine (SPRAVATO) label.{both}"
            findings.append(
                finding(
                    rule_id,
                    "blocks",
                    message,
                    {"field": name, "value": True},
                    "[S35][S36] esketamine label §1.7",
                )
            )
    return findings


def under_18(facts: RuleInput) -> list[Finding]:
    """Under 18 → review: not approved in children [S18] (§1.1); more suicidal thoughts and
    behaviours on antidepressants under 18 [S41] (§1.8)."""
    age = facts.intake.age_years
    if age >= ADULT_AGE_YEARS:
        return []
    return [
        finding(
            "age.under_18",
            "review",
            f"The patient is {age}. Esketamine is not approved in children, and antidepressants "
            "raise the risk of suicidal thoughts and behaviours under 18.",
            {"field": "age_years", "value": age},
            "[S18] esketamine limits of use §1.1; [S41] antidepressant suicidality §1.8",
        )
    ]


_PREGNANCY = "[S28][S40] esketamine label, pregnancy and lactation §1.8"


def pregnancy_and_lactation(facts: RuleInput) -> list[Finding]:
    """Pregnant or breastfeeding → review; pregnancy status not recorded for a female patient (or
    sex not recorded) → review; breastfeeding not recorded → info. Label: may harm the fetus, not
    recommended in pregnancy, do not breastfeed [S28][S40] (§1.8)."""
    i = facts.intake
    findings = []
    if i.pregnant:
        findings.append(
            finding(
                "pregnancy.pregnant",
                "review",
                "The patient is pregnant. Esketamine may harm the fetus and is not recommended "
                "in pregnancy.",
                {"field": "pregnant", "value": True},
                _PREGNANCY,
            )
        )
    elif i.pregnant is None and i.sex != "male":
        who = "this female patient" if i.sex == "female" else "this patient (sex not recorded)"
        findings.append(
            finding(
                "pregnancy.status_not_recorded",
                "review",
                f"Pregnancy status is not recorded for {who}. Record it: esketamine is not "
                "recommended in pregnancy.",
                {"field": "pregnant", "value": None, "sex": i.sex},
                _PREGNANCY,
            )
        )
    if i.breastfeeding:
        findings.append(
            finding(
                "lactation.breastfeeding",
                "review",
                "The patient is breastfeeding. The esketamine label says not to breastfeed.",
                {"field": "breastfeeding", "value": True},
                _PREGNANCY,
            )
        )
    elif i.breastfeeding is None and i.sex != "male":
        findings.append(not_recorded("breastfeeding", "Breastfeeding", _PREGNANCY))
    return findings


def suicide_risk(facts: RuleInput) -> list[Finding]:
    """C-SSRS high → urgent review [S75]-[S77] (§3.3); C-SSRS moderate → info (secondary, [S76]);
    PHQ-9 item 9 above 0 → review, same-day follow-up [S109] (§3.2). None of these blocks."""
    findings = []
    cssrs = facts.latest.get("cssrs-screen")
    if cssrs is not None and cssrs.band == "high":
        findings.append(
            finding(
                "suicide.cssrs_high_risk",
                "review",
                f"URGENT: high suicide risk on {taken(cssrs)}. Arrange an immediate mental-health "
                "referral and safety precautions now. Ketamine treatment does not replace "
                "hospitalization.",
                screening_evidence(cssrs),
                "[S75][S76][S77] C-SSRS triage §3.3; [S18] limits of use §1.1",
            )
        )
    elif cssrs is not None and cssrs.band == "moderate":
        findings.append(
            finding(
                "suicide.cssrs_moderate_risk",
                "info",
                f"Moderate suicide risk on {taken(cssrs)} (thoughts of a method, or suicidal "
                "behaviour more than 3 months ago).",
                screening_evidence(cssrs),
                "[S75][S76] C-SSRS triage §3.3 (moderate level from a secondary source)",
            )
        )
    phq9 = facts.latest.get("phq9")
    if phq9 is not None and PHQ9_ITEM9_FLAG in phq9.flags:
        findings.append(
            finding(
                "suicide.phq9_item9_positive",
                "review",
                f"Item 9 (thoughts of being better off dead or of self-harm) on {taken(phq9)} was "
                "answered above 0. Follow up the same day, whatever the total, and complete a "
                "C-SSRS screen.",
                screening_evidence(phq9),
                "[S109] PHQ-9 item 9 §3.2 (secondary; clinical convention)",
            )
        )
    return findings


_RELATIVE_TEXT: Mapping[RelativeCondition, tuple[str, str, str]] = MappingProxyType(
    {
        "uncontrolled_hypertension": (
            "Uncontrolled hypertension",
            "Uncontrolled hypertension is recorded. Ketamine and esketamine raise blood pressure "
            "for a few hours after dosing (peak about 40 minutes).",
            "[S24][S29] esketamine label §1.4, §1.5; APA consensus [S46]-[S49] §2.1 (relative "
            "list UNCONFIRMED)",
        ),
        "psychosis_history": (
            "History of psychosis",
            "A history of psychosis is recorded. Ketamine and esketamine cause dissociation and "
            "perceptual changes; the label asks for careful assessment first, and the evidence is "
            "best in depression without psychotic features.",
            "[S2] esketamine label §1.5; APA consensus [S46][S48] §2.1 (relative list UNCONFIRMED)",
        ),
        "cognitive_impairment": (
            "Cognitive impairment",
            "Cognitive impairment is recorded; the esketamine label lists it as a warning and "
            "precaution.",
            "[S30] esketamine label warnings §1.8",
        ),
    }
)
_HANDLING: Mapping[RelativeHandling, tuple[Severity, str]] = MappingProxyType(
    {
        "needs_review": ("review", "This clinic's policy sends it to prescriber review."),
        "precautions": ("precaution", "This clinic's policy is to go ahead with precautions."),
    }
)


def relative_conditions(facts: RuleInput) -> list[Finding]:
    """Relative conditions → review or precaution as the clinic's policy says (the §2.1 list is
    UNCONFIRMED, so the handling is data); not recorded → info."""
    findings = []
    for condition in RELATIVE_CONDITIONS:
        label, text, source = _RELATIVE_TEXT[condition]
        value: bool | None = getattr(facts.intake, condition)
        if value is None:
            findings.append(not_recorded(condition, label, source))
        elif value:
            handling = facts.policy.relative_conditions[condition]
            severity, policy_text = _HANDLING[handling]
            evidence: dict[str, EvidenceValue] = {
                "field": condition,
                "value": True,
                "clinic_policy": handling,
            }
            findings.append(
                finding(
                    f"relative.{condition}", severity, f"{text} {policy_text}", evidence, source
                )
            )
    return findings


_SECONDARY_LABEL = "[S24] esketamine label warnings §1.8 (secondary source)"


def hypertensive_encephalopathy(facts: RuleInput) -> list[Finding]:
    """History of hypertensive encephalopathy → precaution, monitor more often [S24] (§1.8)."""
    name = "hypertensive_encephalopathy_history"
    value = facts.intake.hypertensive_encephalopathy_history
    if value is None:
        return [not_recorded(name, "History of hypertensive encephalopathy", _SECONDARY_LABEL)]
    if not value:
        return []
    return [
        finding(
            f"relative.{name}",
            "precaution",
            "A history of hypertensive encephalopathy is recorded: monitor blood pressure more "
            "often during and after dosing.",
            {"field": name, "value": True},
            _SECONDARY_LABEL,
        )
    ]


def hepatic_impairment(facts: RuleInput) -> list[Finding]:
    """Severe hepatic impairment → review (not recommended); moderate → precaution (monitor for
    longer) [S24] (§1.8)."""
    value = facts.intake.hepatic_impairment
    evidence: dict[str, EvidenceValue] = {"field": "hepatic_impairment", "value": value}
    if value is None:
        return [not_recorded("hepatic_impairment", "Hepatic impairment", _SECONDARY_LABEL)]
    if value == "severe":
        message = "Severe hepatic impairment is recorded: esketamine is not recommended."
        return [finding("hepatic.severe_impairment", "review", message, evidence, _SECONDARY_LABEL)]
    if value == "moderate":
        message = "Moderate hepatic impairment is recorded: monitor for longer after dosing."
        return [
            finding(
                "hepatic.moderate_impairment", "precaution", message, evidence, _SECONDARY_LABEL
            )
        ]
    return []


_SEDATION = "may add to sedation. Watch sedation and breathing closely, including pulse oximetry."
_BLOOD_PRESSURE = "may raise blood pressure further. Watch blood pressure closely."
_MEDICATION_TEXT: Mapping[MedicationClass, tuple[str, str]] = MappingProxyType(
    {
        "benzodiazepine": ("a benzodiazepine", _SEDATION),
        "cns_depressant": ("a CNS depressant", _SEDATION),
        "opioid": ("an opioid", _SEDATION),
        "psychostimulant": ("a psychostimulant", _BLOOD_PRESSURE),
        "maoi": ("an MAOI", _BLOOD_PRESSURE),
    }
)


def concomitant_medications(facts: RuleInput) -> list[Finding]:
    """Each flagged class → precaution: CNS depressants (benzodiazepines, opioids) add sedation,
    psychostimulants and MAOIs raise BP [S28] (§1.4); the REMS monitoring form asks for the same
    classes [S5][S8] (§1.9)."""
    findings = []
    for cls in MEDICATION_CLASSES:
        names = tuple(dict.fromkeys(m.name for m in facts.intake.medications if cls in m.classes))
        if names:
            kind, effect = _MEDICATION_TEXT[cls]
            findings.append(
                finding(
                    f"medication.{cls}",
                    "precaution",
                    f"Takes {kind} ({', '.join(names)}): with ketamine or esketamine this {effect}",
                    {"medication_class": cls, "medications": names},
                    "[S28] esketamine label, concomitant drugs §1.4; REMS form [S5][S8] §1.9",
                )
            )
    return findings


def required_screenings(facts: RuleInput) -> list[Finding]:
    """A required instrument missing, or older than the clinic's limit → review (clinic policy)."""
    findings = []
    limit = facts.policy.max_screening_age
    for instrument in INSTRUMENT_IDS:
        result = facts.latest.get(instrument)
        if instrument not in facts.policy.required_instruments or facts.is_current(result):
            continue
        name = INSTRUMENT_NAMES[instrument]
        if result is None:
            message = f"No current {name}: none is on record. Complete one before a decision."
            evidence: dict[str, EvidenceValue] = {"instrument": instrument}
            findings.append(
                finding("screening.missing", "review", message, evidence, SCREENING_POLICY)
            )
        else:
            age = facts.as_of - result.completed_at
            message = (
                f"No current {name}: the latest is from {result.completed_at:%Y-%m-%d}, "
                f"{_span(age)} ago, and this clinic counts a screening as current for "
                f"{_span(limit)}. Repeat it before a decision."
            )
            evidence = {**screening_evidence(result), "max_age": _span(limit)}
            findings.append(
                finding("screening.out_of_date", "review", message, evidence, SCREENING_POLICY)
            )
    return findings


def readable_bands(facts: RuleInput) -> list[Finding]:
    """A result these rules read whose band is not recognised → review, never silence."""
    findings = []
    for instrument, known in KNOWN_BANDS.items():
        result = facts.latest.get(instrument)
        if result is not None and result.band not in known:
            shown = "none recorded" if result.band is None else f"'{result.band}'"
            findings.append(
                finding(
                    "screening.band_not_recognised",
                    "review",
                    f"The result band of {taken(result)} ({shown}) is not one these checks "
                    "recognise, so it could not be read. Check the score by hand.",
                    screening_evidence(result),
                    "Instrument scoring §3.1, §3.3, §4.1 (band names of the instrument modules)",
                )
            )
    return findings


ELIGIBILITY_RULES: tuple[Rule, ...] = (
    contraindications,
    under_18,
    pregnancy_and_lactation,
    suicide_risk,
    relative_conditions,
    hypertensive_encephalopathy,
    hepatic_impairment,
    concomitant_medications,
    required_screenings,
    readable_bands,
)

"""The baseline dependence-risk rules and ``RISK_RULES``, the order ``decide`` runs them in."""

from __future__ import annotations

from ketaguard.screening.findings import (
    AUDIT_C_Q1_ONLY_FLAG,
    INSTRUMENT_NAMES,
    MEASURED_BY_AUDIT_C,
    NOT_COUNTED_SUBSTANCES,
    SCREENING_POLICY,
    EvidenceValue,
    Finding,
    RiskTier,
    Rule,
    RuleInput,
    SubstanceUse,
    finding,
    not_recorded,
    screening_evidence,
    taken,
)

# The tier is our synthesis from sourced facts (reference §7 says so), not a validated instrument.
# The label asks for an abuse-risk assessment before prescribing; a history of substance use
# disorder (including alcohol) means higher risk and careful consideration [S2][S37][S3] (§1.8).
# Every fact that raises the tier is its own finding, so clinicians see every reason.

_ABUSE = "[S2][S37][S3] esketamine label, abuse and misuse §1.8; §7 (our synthesis)"


def _use(use: SubstanceUse) -> dict[str, EvidenceValue]:
    return {
        "substance": use.substance,
        "ever": use.ever,
        "last_12_months": use.last_12_months,
        "current": use.current,
        "prior_treatment": use.prior_treatment,
    }


def _substance(use: SubstanceUse) -> str:
    return use.substance.strip().casefold()


def ketamine_nonmedical_use(facts: RuleInput) -> list[Finding]:
    """Any non-medical ketamine use, ever → high [S2][S37] (§1.8, §4.2, §7)."""
    findings = []
    for use in facts.intake.substance_use:
        if _substance(use) == "ketamine" and (use.ever or use.last_12_months or use.current):
            when = "current" if use.current else "last 12 months" if use.last_12_months else "past"
            findings.append(
                finding(
                    "risk.ketamine_nonmedical_use",
                    "precaution",
                    f"Non-medical ketamine use is recorded ({when}). Watch closely for misuse and "
                    "drug-seeking.",
                    _use(use),
                    f"{_ABUSE}; §4.2",
                    "high",
                )
            )
    return findings


def substance_use(facts: RuleInput) -> list[Finding]:
    """Per substance other than tobacco: current use → high; else use in the last 12 months →
    elevated; else past use → info (ketamine use is `ketamine_nonmedical_use`'s). Past treatment
    for a substance use disorder → elevated [S2][S37][S3] (§1.8)."""
    findings = []
    for use in facts.intake.substance_use:
        substance = _substance(use)
        if substance in NOT_COUNTED_SUBSTANCES:
            continue
        evidence, name = _use(use), use.substance
        if substance in MEASURED_BY_AUDIT_C and use.ever:
            message = f"Use of {name} is recorded; the AUDIT-C result decides how much it weighs."
            findings.append(finding("risk.alcohol_use", "info", message, evidence, _ABUSE))
        elif substance != "ketamine" and use.current:
            message = f"Current use of {name} is recorded."
            findings.append(
                finding(
                    "risk.current_substance_use", "precaution", message, evidence, _ABUSE, "high"
                )
            )
        elif substance != "ketamine" and use.last_12_months:
            message = f"Use of {name} in the last 12 months is recorded."
            rule_id = "risk.substance_use_last_12_months"
            findings.append(finding(rule_id, "precaution", message, evidence, _ABUSE, "elevated"))
        elif substance != "ketamine" and use.ever:
            message = f"Past use of {name}, not in the last 12 months: it does not raise the tier."
            findings.append(finding("risk.past_substance_use", "info", message, evidence, _ABUSE))
        if use.prior_treatment:
            message = (
                f"Past treatment for a substance use disorder ({name}) is recorded; the label "
                "calls for careful consideration."
            )
            findings.append(
                finding(
                    "risk.prior_sud_treatment", "precaution", message, evidence, _ABUSE, "elevated"
                )
            )
    return findings


def screening_risk(facts: RuleInput) -> list[Finding]:
    """DAST-10 substantial or severe → high, moderate → elevated [S78][S79]; DSM-5 ketamine use
    disorder mild or worse → high [S113][S115] (§4.1); AUDIT-C positive → elevated [S82]-[S84];
    SDS at or above the clinic's cut-off → elevated, no cut-off → info [S86]-[S90] (§3.1, §7)."""
    findings = []
    dast = facts.latest.get("dast10")
    dast_source = "[S78][S79] DAST-10 §3.1; §7 (our synthesis)"
    if dast is not None and dast.band in ("substantial", "severe", "moderate"):
        tier: RiskTier = "elevated" if dast.band == "moderate" else "high"
        rule_id = (
            "risk.dast10_moderate" if tier == "elevated" else "risk.dast10_substantial_or_severe"
        )
        message = f"A {dast.band} level of drug-use problems on {taken(dast)}."
        findings.append(
            finding(rule_id, "precaution", message, screening_evidence(dast), dast_source, tier)
        )
    kud = facts.latest.get("ketamine-use-disorder")
    if kud is not None and kud.band in ("mild", "moderate", "severe"):
        findings.append(
            finding(
                "risk.ketamine_use_disorder_criteria",
                "precaution",
                f"Criteria for {kud.band} ketamine use disorder are met on the DSM-5 checklist of "
                f"{kud.completed_at:%Y-%m-%d} (DSM-5 files it under phencyclidine use disorder).",
                screening_evidence(kud),
                "[S113][S115] DSM-5 criteria §4.1; §7 (our synthesis)",
                "high",
            )
        )
    audit = facts.latest.get("audit-c")
    if audit is not None and audit.band == "positive":
        q1_only = (
            " All points came from question 1, so the patient is probably drinking within limits."
            if AUDIT_C_Q1_ONLY_FLAG in audit.flags
            else ""
        )
        findings.append(
            finding(
                "risk.audit_c_positive",
                "precaution",
                f"Positive for hazardous drinking on {taken(audit)}.{q1_only}",
                screening_evidence(audit),
                "[S82][S83][S84] AUDIT-C §3.1; alcohol in the label's abuse warning [S2][S37] §1.8",
                "elevated",
            )
        )
    sds = facts.latest.get("sds")
    sds_source = "[S86]-[S90] SDS §3.1 (no ketamine cut-off; the cut-off is clinic policy); §7"
    if sds is not None and sds.band == "at_or_above_cutoff":
        message = f"At or above this clinic's cut-off on {taken(sds)}."
        findings.append(
            finding(
                "risk.sds_at_or_above_cutoff",
                "precaution",
                message,
                screening_evidence(sds),
                sds_source,
                "elevated",
            )
        )
    elif sds is not None and sds.band is None:
        message = (
            f"The total on {taken(sds)} is {sds.total}. This clinic has set no SDS cut-off (none "
            "is validated for ketamine), so it does not change the tier; follow the trend."
        )
        findings.append(
            finding("risk.sds_no_cutoff", "info", message, screening_evidence(sds), sds_source)
        )
    return findings


_FAMILY = "Not in the clinical reference (§1.8 names the patient's own history): review locally"


def family_history(facts: RuleInput) -> list[Finding]:
    """Family history of substance use disorder → elevated (our synthesis; not in the reference)."""
    value = facts.intake.family_history_sud
    if value is None:
        return [
            not_recorded("family_history_sud", "Family history of substance use disorder", _FAMILY)
        ]
    if not value:
        return []
    message = "A family history of substance use disorder is recorded."
    evidence: dict[str, EvidenceValue] = {"field": "family_history_sud", "value": True}
    return [
        finding("risk.family_history_sud", "precaution", message, evidence, _FAMILY, "elevated")
    ]


def tier_screenings_current(facts: RuleInput) -> list[Finding]:
    """A required instrument the tier reads with no current result → info: a low tier may only
    mean the screen is missing or old."""
    findings = []
    for instrument in ("dast10", "audit-c", "sds", "ketamine-use-disorder"):
        if instrument in facts.policy.required_instruments and not facts.is_current(
            facts.latest.get(instrument)
        ):
            findings.append(
                finding(
                    "risk.screening_not_current",
                    "info",
                    f"There is no current {INSTRUMENT_NAMES[instrument]}, so this tier may "
                    "understate the risk.",
                    {"instrument": instrument},
                    SCREENING_POLICY,
                )
            )
    return findings


RISK_RULES: tuple[Rule, ...] = (
    ketamine_nonmedical_use,
    substance_use,
    screening_risk,
    family_history,
    tier_screenings_current,
)

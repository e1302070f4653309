"""Which screening results raise a safety alert for the clinic, and why."""

from dataclasses import dataclass

from ketaguard.alerts.models import AlertSeverity


@dataclass(frozen=True)
class AlertRule:
    instrument: str
    flag: str
    rule: str
    severity: AlertSeverity
    message: str
    source: str


ALERT_RULES = (
    AlertRule(
        instrument="phq9",
        flag="item9_positive",
        rule="suicide_risk.phq9_item9",
        severity=AlertSeverity.same_day,
        message=(
            "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was answered above "
            "0. Follow up the same day, whatever the total; consider a C-SSRS screen."
        ),
        source="[S109] clinical reference §3.2",
    ),
    AlertRule(
        instrument="cssrs-screen",
        flag="high_risk",
        rule="suicide_risk.cssrs_high",
        severity=AlertSeverity.urgent,
        message=(
            "C-SSRS screen: high risk (intent or plan in the past month, or suicidal behaviour "
            "in the past 3 months). Immediate mental-health referral and safety precautions."
        ),
        source="[S75][S76][S77] clinical reference §3.3",
    ),
)

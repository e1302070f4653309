import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, select, update
from sqlalchemy.orm import Session

from ketaguard.alerts.models import Alert, AlertSeverity
from ketaguard.audit.service import AuditContext, record
from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal
from ketaguard.kit.errors import Conflict, InvalidInput, NotFound
from ketaguard.kit.time import utcnow

SEVERITY_ORDER = case(
    {severity.value: rank for rank, severity in enumerate(AlertSeverity)},
    value=Alert.severity,
)


def raise_alert(
    db: Session,
    *,
    clinic_id: uuid.UUID,
    patient_id: uuid.UUID,
    rule: str,
    severity: AlertSeverity,
    message: str,
    evidence: dict[str, Any],
    source: str,
) -> Alert:
    """Store an alert in the caller's transaction: it exists exactly when its trigger does."""
    alert = Alert(
        clinic_id=clinic_id,
        patient_id=patient_id,
        rule=rule,
        severity=severity,
        message=message,
        evidence=evidence,
        source=source,
        raised_at=utcnow(),
    )
    db.add(alert)
    db.flush()
    return alert


def open_alerts(db: Session, principal: Principal) -> list[Alert]:
    clinics = principal.clinics_with(Permission.patient_read)
    return list(
        db.scalars(
            select(Alert)
            .where(Alert.clinic_id.in_(clinics), Alert.acknowledged_at.is_(None))
            .order_by(SEVERITY_ORDER, Alert.raised_at)
        )
    )


def acknowledge(
    db: Session, principal: Principal, context: AuditContext, alert_id: uuid.UUID, action: str
) -> Alert:
    if not action.strip():
        raise InvalidInput("Say what was done about the alert")
    alert = db.get(Alert, alert_id)
    if alert is None or not principal.can(Permission.alert_acknowledge, alert.clinic_id):
        raise NotFound("No such alert")
    # Two people may press "acknowledge" at once: only the update that finds it open wins.
    claimed = db.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
        .values(
            acknowledged_at=utcnow(),
            acknowledged_by_id=principal.user_id,
            action_taken=action.strip(),
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This alert was already acknowledged")
    db.refresh(alert)
    record(
        db,
        context,
        "alert.acknowledge",
        patient_id=alert.patient_id,
        clinic_id=alert.clinic_id,
        resource_type="alert",
        resource_id=alert.id,
        detail={"rule": alert.rule, "action": alert.action_taken},
    )
    return alert


def alerts_since(clinics: frozenset[uuid.UUID], after: datetime) -> Select[Alert]:
    return (
        select(Alert)
        .where(Alert.clinic_id.in_(clinics), Alert.raised_at > after)
        .order_by(Alert.raised_at)
    )

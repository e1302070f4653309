"""The demo's dependence watch: patients in every status with their evidence, a decided review,
a referral, and each clinic's numbers."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaguard.audit.service import verify_chain
from ketaguard.demo import DEMO_STEPS, build_demo
from ketaguard.dependence.evaluation import assess, open_review
from ketaguard.dependence.models import (
    DecisionKind,
    DependenceDecision,
    DependenceSettings,
    Referral,
    ReferralTo,
)
from ketaguard.dependence.status import DependenceStatus
from ketaguard.patients.models import Patient


def test_the_demo_has_a_patient_in_every_dependence_status(db: Session) -> None:
    assert [label for label, _ in DEMO_STEPS][-1] == "Watching for dependence"
    list(build_demo(db))
    patients = {p.record_number: p for p in db.scalars(select(Patient))}
    statuses = {record: assess(db, patient) for record, patient in patients.items()}
    expected = {
        "DT-0003": DependenceStatus.watch,
        "DT-0004": DependenceStatus.none,
        "HB-0002": DependenceStatus.review_needed,
        "DT-0005": DependenceStatus.urgent,
    }
    assert {record: statuses[record].status for record in expected} == expected
    for record, status in expected.items():
        if status is not DependenceStatus.none:
            assert statuses[record].deciding, record
            assert all(s.evidence for s in statuses[record].deciding)
    assert [s.rule_id for s in statuses["DT-0005"].deciding] == ["outside_use.ketamine"]
    assert open_review(db, patients["DT-0005"].id) is not None
    assert open_review(db, patients["HB-0002"].id) is not None

    [decision] = db.scalars(select(DependenceDecision)).all()
    assert decision.patient_id == patients["DT-0004"].id
    assert decision.kind is DecisionKind.closer_monitoring
    [referral] = db.scalars(select(Referral)).all()
    assert (referral.patient_id, referral.referred_to) == (
        patients["DT-0005"].id,
        ReferralTo.urology,
    )

    assert len(db.scalars(select(DependenceSettings)).all()) == 2
    harbor = statuses["HB-0002"].explanation
    assert "- sds.rising is off: the clinic has not set" in harbor
    # Downtown set every number but the SDS cut-off (a screening setting it left unset).
    assert [o.rule_id for o in statuses["DT-0003"].switched_off] == ["sds.at_or_above_cutoff"]
    assert verify_chain(db).ok

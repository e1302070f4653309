"""Demo intake, screenings and eligibility decisions, across eligibility outcomes and risk tiers.

Everything goes through the same services the API uses, so the demo's records and audit trail
look exactly like a clinic's. All people and answers are synthetic.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from ketaguard.auth.service import principal_for_user
from ketaguard.intake.schemas import IntakeData
from ketaguard.intake.service import record_intake
from ketaguard.kit.demo import DemoContext, acting_as
from ketaguard.kit.time import utcnow
from ketaguard.screening import decisions
from ketaguard.screening.schemas import ResponseCreate, SignOff
from ketaguard.screening.service import administer

# The demo clinics' own choice; the reference gives no number for it (see Clinic).
DEMO_SCREENING_VALID_DAYS = 30

NO_CONTRAINDICATIONS = {
    "aneurysmal_vascular_disease": False,
    "arteriovenous_malformation": False,
    "intracerebral_hemorrhage_history": False,
    "hypersensitivity_ketamine_or_esketamine": False,
}


def _phq9(*values: int) -> dict[str, int]:
    return {f"phq9-{n}": v for n, v in enumerate(values, start=1)}


def _dast10(yes: set[int]) -> dict[str, int]:
    # Item 3 is reverse-scored: answering "yes, always able to stop" (1) scores nothing.
    return {f"dast10-{n}": int(n in yes or n == 3) for n in range(1, 11)}


CSSRS_NONE = {"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 0}
CSSRS_WISH = {"cssrs-1": 1, "cssrs-2": 0, "cssrs-6": 0}


@dataclass(frozen=True)
class DemoPatient:
    record: str
    intake: dict[str, Any]
    screenings: dict[str, dict[str, int]] = field(default_factory=dict)
    sign: bool = True


def _intake(sex: str, weight: float, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sex": sex,
        "weight": {"kg": weight, "measured_on": (utcnow() - timedelta(days=10)).date().isoformat()},
        "indications": ["trd"],
        "contraindications": NO_CONTRAINDICATIONS,
        "relative_conditions": {
            "uncontrolled_hypertension": False,
            "psychosis_history": False,
            "hypertensive_encephalopathy_history": False,
            "hepatic_impairment": "none",
            "cognitive_impairment": False,
        },
        "family_history_sud": False,
        "pregnant": False if sex == "female" else None,
        "breastfeeding": False if sex == "female" else None,
    }
    data.update(changes)
    return data


def _baseline(
    phq9: dict[str, int],
    *,
    cssrs: dict[str, int] = CSSRS_NONE,
    dast10: dict[str, int] | None = None,
    auditc: tuple[int, int, int] = (1, 0, 0),
) -> dict[str, dict[str, int]]:
    return {
        "phq9": phq9,
        "cssrs-screen": cssrs,
        "dast10": dast10 or _dast10(set()),
        "audit-c": {f"auditc-{n}": v for n, v in enumerate(auditc, start=1)},
    }


DEMO_PATIENTS = (
    # Screening under way; item 9 answered above 0 raises a same-day alert; not yet signed.
    DemoPatient(
        "DT-0002",
        _intake("male", 81.0),
        _baseline(_phq9(3, 3, 2, 2, 2, 2, 1, 1, 1), cssrs=CSSRS_WISH),
        sign=False,
    ),
    # Eligible, low baseline risk.
    DemoPatient("DT-0003", _intake("male", 77.5), _baseline(_phq9(2, 3, 2, 2, 1, 2, 2, 1, 0))),
    # Past alcohol treatment and a positive AUDIT-C: elevated risk.
    DemoPatient(
        "DT-0004",
        _intake(
            "female",
            64.0,
            substance_use=[
                {
                    "substance": "alcohol",
                    "ever": True,
                    "last_12_months": True,
                    "current": True,
                    "prior_treatment": True,
                },
            ],
        ),
        _baseline(_phq9(2, 2, 2, 1, 1, 2, 1, 1, 0), auditc=(2, 1, 1)),
    ),
    # Current cannabis use and a substantial DAST-10: high risk.
    DemoPatient(
        "DT-0005",
        _intake(
            "female",
            58.2,
            substance_use=[
                {"substance": "cannabis", "ever": True, "last_12_months": True, "current": True},
            ],
        ),
        _baseline(_phq9(2, 2, 3, 2, 2, 2, 1, 1, 0), dast10=_dast10({1, 2, 4, 5, 6, 7})),
    ),
    # History of intracerebral hemorrhage: a label contraindication, not eligible.
    DemoPatient(
        "DT-0006",
        _intake(
            "male",
            90.3,
            contraindications={**NO_CONTRAINDICATIONS, "intracerebral_hemorrhage_history": True},
        ),
        _baseline(_phq9(2, 2, 2, 2, 2, 2, 2, 2, 0)),
    ),
    # On a benzodiazepine: eligible with precautions; awaiting sign-off.
    DemoPatient(
        "HB-0001",
        _intake(
            "female",
            70.1,
            medications=[{"name": "lorazepam", "classes": ["benzodiazepine"]}],
        ),
        _baseline(_phq9(2, 2, 2, 2, 1, 1, 1, 1, 0)),
        sign=False,
    ),
    DemoPatient("HB-0002", _intake("male", 85.0), _baseline(_phq9(3, 2, 2, 2, 2, 2, 2, 1, 0))),
    # Family history of a substance use disorder: elevated (a clinic default, see the rule).
    DemoPatient(
        "HB-0003",
        _intake("female", 61.4, family_history_sud=True),
        _baseline(_phq9(2, 3, 2, 2, 2, 1, 1, 1, 0)),
    ),
)

CLINIC_STAFF = {
    "DT": ("nurse.downtown", "prescriber.downtown"),
    "HB": ("nurse.harbor", "prescriber.harbor"),
}


def screening_demo(db: Session, ctx: DemoContext) -> None:
    for clinic in ctx.clinics.values():
        clinic.screening_valid_days = DEMO_SCREENING_VALID_DAYS
    for entry in DEMO_PATIENTS:
        patient = ctx.patients[entry.record]
        nurse_key, prescriber_key = CLINIC_STAFF[entry.record[:2]]
        nurse = principal_for_user(db, ctx.staff[nurse_key], None)
        prescriber = principal_for_user(db, ctx.staff[prescriber_key], None)
        as_nurse, as_prescriber = acting_as(nurse), acting_as(prescriber)
        record_intake(
            db, nurse, as_nurse, patient.id, IntakeData.model_validate(entry.intake), "Intake visit"
        )
        completed_at = utcnow() - timedelta(days=7)
        for instrument, answers in entry.screenings.items():
            body = ResponseCreate(instrument=instrument, answers=answers, completed_at=completed_at)
            administer(db, nurse, as_nurse, patient.id, body)
        decision = decisions.compute(db, nurse, as_nurse, patient.id)
        if entry.sign:
            decisions.sign_off(db, prescriber, as_prescriber, patient.id, decision.id, SignOff())

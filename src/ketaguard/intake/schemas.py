"""The intake document: identity lives on the patient record; this is the clinical history."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ketaguard.kit.time import utcnow


class Sex(StrEnum):
    female = "female"
    male = "male"


class Indication(StrEnum):
    trd = "trd"
    mdd_with_suicidal_ideation = "mdd_with_suicidal_ideation"
    ptsd = "ptsd"
    chronic_pain = "chronic_pain"
    other = "other"


class MedicationClass(StrEnum):
    """The classes that matter for ketamine and esketamine (reference §1.8)."""

    benzodiazepine = "benzodiazepine"
    cns_depressant = "cns_depressant"
    opioid = "opioid"
    psychostimulant = "psychostimulant"
    maoi = "maoi"


class Substance(StrEnum):
    alcohol = "alcohol"
    cannabis = "cannabis"
    opioids = "opioids"
    stimulants = "stimulants"
    benzodiazepines = "benzodiazepines"
    ketamine = "ketamine"
    other = "other"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Weight(Strict):
    # Bounds reject typing errors (grams, pounds in the wrong field), not clinical judgements.
    kg: float = Field(gt=2, lt=500)
    measured_on: date

    @model_validator(mode="after")
    def _not_in_future(self) -> Self:
        if self.measured_on > utcnow().date():
            raise ValueError("measured_on cannot be in the future")
        return self


class Contraindications(Strict):
    """The esketamine label's absolute contraindications ([S35][S36], reference §1.7).

    None means "not yet asked", which keeps a decision at needs-review rather than assuming no.
    """

    aneurysmal_vascular_disease: bool | None = None
    arteriovenous_malformation: bool | None = None
    intracerebral_hemorrhage_history: bool | None = None
    hypersensitivity_ketamine_or_esketamine: bool | None = None


class RelativeConditions(Strict):
    """Conditions the clinic weighs (reference §1.8, §2.1; its racemic list is unconfirmed)."""

    uncontrolled_hypertension: bool | None = None
    psychosis_history: bool | None = None
    hypertensive_encephalopathy_history: bool | None = None
    hepatic_impairment: Literal["none", "moderate", "severe"] | None = None
    cognitive_impairment: bool | None = None


class Medication(Strict):
    name: str = Field(min_length=1, max_length=200)
    classes: list[MedicationClass] = Field(default_factory=list)


class SubstanceUseEntry(Strict):
    substance: Substance
    ever: bool
    last_12_months: bool
    current: bool
    prior_treatment: bool = False
    notes: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.current and not self.last_12_months:
            raise ValueError("current use implies use in the last 12 months")
        if self.last_12_months and not self.ever:
            raise ValueError("use in the last 12 months implies use ever")
        return self


class IntakeData(Strict):
    sex: Sex
    weight: Weight | None = None
    indications: list[Indication] = Field(min_length=1)
    indication_other: str | None = Field(default=None, max_length=500)
    contraindications: Contraindications = Field(default_factory=Contraindications)
    relative_conditions: RelativeConditions = Field(default_factory=RelativeConditions)
    medical_history_notes: str | None = Field(default=None, max_length=5000)
    medications: list[Medication] = Field(default_factory=list)
    substance_use: list[SubstanceUseEntry] = Field(default_factory=list)
    family_history_sud: bool | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if Indication.other in self.indications and not self.indication_other:
            raise ValueError("indication_other: describe the indication when 'other' is chosen")
        substances = [entry.substance for entry in self.substance_use]
        if len(substances) != len(set(substances)):
            raise ValueError("substance_use: list each substance once")
        if self.sex is Sex.male and (self.pregnant or self.breastfeeding):
            raise ValueError("pregnant/breastfeeding: not applicable to sex male")
        return self


class IntakeWrite(Strict):
    data: IntakeData
    change_note: str | None = Field(default=None, max_length=2000)


class IntakeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    version: int
    data: IntakeData
    recorded_by_id: uuid.UUID
    change_note: str | None
    created_at: datetime

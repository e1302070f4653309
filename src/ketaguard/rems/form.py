"""The data of a SPRAVATO REMS Patient Monitoring Form (outpatient), laid out for submission.

An outpatient setting fills in a Patient Monitoring Form after **every** esketamine session and
submits it through the REMS (online or by fax) within 7 days ([S5], [S8], clinical reference §1.9).
ketaguard prepares the data; the clinic submits it. This module holds no database or HTTP code:

- ``RemsFormInput``: what a session record provides.
- ``build_form(data)`` -> ``RemsForm``: the fields in form order, each with a stable key, the label
  the reference gives it, the rendered value (``None`` when the record lacks it) and whether the
  form requires it; the total treatment time and the ``under_two_hours`` flag.
- ``display_value(field)``: the value as printed, marking a missing required value.
- ``missing_fields(form)``: labels of required fields with no value. A session cannot be signed
  off while this is non-empty.
- ``due_date`` and ``deadline_state``: the 7-day submission deadline and how it shows.

Semantics
---------
- **Fields.** Exactly the fields §1.9 lists (2021 outpatient version [S5], [S45], with the newer
  version's opioids and change in respiratory status [S8]), in that order, every one required. The
  one conditional field is "If first treatment, enrolled?": required unless the record says this is
  not the first treatment. The rest of the real form's fields are UNCONFIRMED in the reference, so
  they are not encoded here; ``FormField.required`` exists so that they can be added, once
  confirmed, without changing callers.
- **Total treatment time** runs from the first device to the end of monitoring ([S5], §1.5), in
  whole minutes, rounded down: 119 min 59 s is 119 minutes, so a session just short of the minimum
  is never shown as meeting it. Both instants must be timezone-aware; the end may not come before
  the first device.
- **Under two hours.** ``under_two_hours`` is set when the total time is below the minimum. The
  minimum is a parameter of ``build_form``: pass the protocol's
  ``monitoring.min_observation_minutes.value``; it defaults to ``MIN_TOTAL_TREATMENT_MINUTES``, the
  form's own "at least 2 h" [S5]. The flag does not block sign-off by itself; the session's
  discharge rules decide that.
- **Values.** Yes/no answers render as ``"Yes"``/``"No"``, dates as ISO ``YYYY-MM-DD``, blood
  pressure as ``"132/84 mmHg"``, the dose as ``"56 mg"``, ``"84 mg"`` or ``"Other: 28 mg"``. Text
  that is empty or only whitespace counts as missing.
- **Deadline.** ``due_date`` is the treatment date plus ``SUBMISSION_DAYS`` calendar days, the last
  day on which submission is on time. Dates are the clinic's local dates: pass the clinic's local
  "today". ``deadline_state`` shows ``"due_soon"`` from ``DUE_SOON_DAYS`` days before the due date
  to the due date itself, ``"overdue"`` from the day after; a submitted form is ``"submitted"``.
  ``RemsForm.submit_by`` is the due date of the form's treatment date, when there is one.

Invalid input (a naive datetime, an end before the first device, a dose or blood pressure that is
not positive, a negative number of minutes) raises ``ValueError`` when the input object is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

# [S5] §1.5, §1.9: the form's total treatment time "must be at least 2 h". Prefer passing the
# protocol's monitoring.min_observation_minutes to build_form; this is its default.
MIN_TOTAL_TREATMENT_MINUTES = 120

# [S5][S8] §1.9: submit the Patient Monitoring Form within 7 days of the session.
SUBMISSION_DAYS = 7

# Not from the reference: a display choice. A pending form due within this many days (the due date
# included) shows as "due_soon" so that it stands out before it becomes overdue.
DUE_SOON_DAYS = 2

# [S5] §1.9: the form offers 56 mg, 84 mg or "other" as the dose.
FORM_DOSE_CHOICES_MG = (56, 84)

FormStatus = Literal["pending", "submitted"]
DeadlineState = Literal["submitted", "due_soon", "overdue", "pending"]


@dataclass(frozen=True, slots=True)
class BloodPressure:
    systolic: int
    diastolic: int

    def __post_init__(self) -> None:
        if self.systolic <= 0 or self.diastolic <= 0:
            raise ValueError(
                f"blood pressure must be positive, got {self.systolic}/{self.diastolic}"
            )

    def render(self) -> str:
        return f"{self.systolic}/{self.diastolic} mmHg"


@dataclass(frozen=True, slots=True, kw_only=True)
class RemsFormInput:
    """What a session record provides for the form; ``None`` means the record does not say."""

    # Patient
    patient_name: str | None
    date_of_birth: date | None
    sex: str | None
    first_treatment: bool | None
    enrolled: bool | None
    # Current medicines that may cause sedation or BP change
    benzodiazepines: bool | None
    non_benzodiazepine_sedative_hypnotics: bool | None
    psychostimulants: bool | None
    maois: bool | None
    opioids: bool | None
    respiratory_status_change: bool | None
    # Monitoring provider and setting
    monitoring_provider_name: str | None
    setting_name: str | None
    # Treatment
    treatment_date: date | None
    dose_mg: int | None
    lot_number: str | None
    first_device_at: datetime | None
    monitoring_end_at: datetime | None
    ready_to_leave_minutes: int | None
    # Vital signs
    vitals_acceptable_before_dosing: bool | None
    vitals_acceptable_before_end: bool | None
    bp_before_dosing: BloodPressure | None
    bp_at_40_minutes: BloodPressure | None
    bp_before_end: BloodPressure | None
    # Outcomes
    sedation: bool | None
    dissociation: bool | None
    respiratory_depression: bool | None
    adverse_events: bool | None

    def __post_init__(self) -> None:
        for name in ("first_device_at", "monitoring_end_at"):
            moment: datetime | None = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        if (
            self.first_device_at is not None
            and self.monitoring_end_at is not None
            and self.monitoring_end_at < self.first_device_at
        ):
            raise ValueError("monitoring_end_at is before first_device_at")
        if self.dose_mg is not None and self.dose_mg <= 0:
            raise ValueError(f"dose_mg must be positive, got {self.dose_mg}")
        if self.ready_to_leave_minutes is not None and self.ready_to_leave_minutes < 0:
            raise ValueError(
                f"ready_to_leave_minutes must not be negative, got {self.ready_to_leave_minutes}"
            )

    @property
    def total_minutes(self) -> int | None:
        """Whole minutes from the first device to the end of monitoring, rounded down [S5]."""
        if self.first_device_at is None or self.monitoring_end_at is None:
            return None
        return int((self.monitoring_end_at - self.first_device_at).total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class FormField:
    key: str
    section: str
    label: str
    value: str | None
    required: bool


@dataclass(frozen=True, slots=True)
class RemsForm:
    fields: tuple[FormField, ...]
    total_minutes: int | None
    min_total_minutes: int
    under_two_hours: bool
    submit_by: date | None

    def field(self, key: str) -> FormField:
        for form_field in self.fields:
            if form_field.key == key:
                return form_field
        raise KeyError(key)

    def sections(self) -> list[tuple[str, list[FormField]]]:
        """The fields grouped by section, in form order."""
        grouped: list[tuple[str, list[FormField]]] = []
        for form_field in self.fields:
            if not grouped or grouped[-1][0] != form_field.section:
                grouped.append((form_field.section, []))
            grouped[-1][1].append(form_field)
        return grouped


# Section titles, in form order (§1.9).
PATIENT = "Patient"
MEDICINES = "Current medicines that may cause sedation or BP change"
PROVIDER = "Monitoring provider and setting"
TREATMENT = "Treatment"
VITALS = "Vital signs"
OUTCOMES = "Did the patient have"

TOTAL_TIME_LABEL = "Total treatment time (minutes, from the first device to the end of monitoring)"
MISSING_TEXT = "MISSING (required)"
# The only optional field is "enrolled?" when this is not the first treatment.
NOT_APPLICABLE_TEXT = "Not applicable"

EVALUATION_LABEL = (
    "REMS evaluation question: if there were no 2-hour minimum, when would the patient have been "
    "ready to leave (minutes from the start of dosing)?"
)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def _yes_no(value: bool | None) -> str | None:
    if value is None:
        return None
    return "Yes" if value else "No"


def _date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _int(value: int | None) -> str | None:
    return None if value is None else str(value)


def _bp(value: BloodPressure | None) -> str | None:
    return None if value is None else value.render()


def _dose(value: int | None) -> str | None:
    if value is None:
        return None
    if value in FORM_DOSE_CHOICES_MG:
        return f"{value} mg"
    return f"Other: {value} mg"


def build_form(
    data: RemsFormInput, min_total_minutes: int = MIN_TOTAL_TREATMENT_MINUTES
) -> RemsForm:
    """Lay out the form's fields in form order; see the module docstring for the rules."""
    if min_total_minutes <= 0:
        raise ValueError(f"min_total_minutes must be positive, got {min_total_minutes}")
    total = data.total_minutes

    def required(key: str, section: str, label: str, value: str | None) -> FormField:
        return FormField(key=key, section=section, label=label, value=value, required=True)

    fields = (
        required("patient_name", PATIENT, "Patient name", _text(data.patient_name)),
        required("date_of_birth", PATIENT, "Date of birth", _date(data.date_of_birth)),
        required("sex", PATIENT, "Sex", _text(data.sex)),
        required("first_treatment", PATIENT, "First treatment?", _yes_no(data.first_treatment)),
        # §1.9: "First treatment? If yes, enrolled?". Unknown first treatment keeps it required.
        FormField(
            key="enrolled",
            section=PATIENT,
            label="If first treatment, enrolled?",
            value=_yes_no(data.enrolled),
            required=data.first_treatment is not False,
        ),
        required("benzodiazepines", MEDICINES, "Benzodiazepines", _yes_no(data.benzodiazepines)),
        required(
            "non_benzodiazepine_sedative_hypnotics",
            MEDICINES,
            "Non-benzodiazepine sedative-hypnotics",
            _yes_no(data.non_benzodiazepine_sedative_hypnotics),
        ),
        required("psychostimulants", MEDICINES, "Psychostimulants", _yes_no(data.psychostimulants)),
        required("maois", MEDICINES, "MAOIs", _yes_no(data.maois)),
        # Opioids and change in respiratory status: the newer form version [S8] §1.9.
        required("opioids", MEDICINES, "Opioids", _yes_no(data.opioids)),
        required(
            "respiratory_status_change",
            MEDICINES,
            "Change in respiratory status",
            _yes_no(data.respiratory_status_change),
        ),
        required(
            "monitoring_provider",
            PROVIDER,
            "Monitoring provider",
            _text(data.monitoring_provider_name),
        ),
        required("setting", PROVIDER, "Setting", _text(data.setting_name)),
        required("treatment_date", TREATMENT, "Treatment date", _date(data.treatment_date)),
        required("dose", TREATMENT, "Dose (56 mg / 84 mg / other)", _dose(data.dose_mg)),
        required("lot_number", TREATMENT, "Lot number", _text(data.lot_number)),
        required("total_minutes", TREATMENT, TOTAL_TIME_LABEL, _int(total)),
        required(
            "ready_to_leave_minutes",
            TREATMENT,
            EVALUATION_LABEL,
            _int(data.ready_to_leave_minutes),
        ),
        required(
            "vitals_acceptable_before_dosing",
            VITALS,
            "Were vital signs in an acceptable range before dosing?",
            _yes_no(data.vitals_acceptable_before_dosing),
        ),
        required(
            "vitals_acceptable_before_end",
            VITALS,
            "Were vital signs in an acceptable range before the end of the session?",
            _yes_no(data.vitals_acceptable_before_end),
        ),
        required("bp_before_dosing", VITALS, "BP before dosing (mmHg)", _bp(data.bp_before_dosing)),
        required(
            "bp_at_40_minutes",
            VITALS,
            "BP at about 40 minutes after dosing (mmHg)",
            _bp(data.bp_at_40_minutes),
        ),
        required(
            "bp_before_end",
            VITALS,
            "BP before the end of the session (mmHg)",
            _bp(data.bp_before_end),
        ),
        required("sedation", OUTCOMES, "Sedation", _yes_no(data.sedation)),
        required("dissociation", OUTCOMES, "Dissociation", _yes_no(data.dissociation)),
        required(
            "respiratory_depression",
            OUTCOMES,
            "Respiratory depression",
            _yes_no(data.respiratory_depression),
        ),
        required("adverse_events", OUTCOMES, "Adverse events", _yes_no(data.adverse_events)),
        # The rest of the form's fields are UNCONFIRMED in the clinical reference (§1.9): add them
        # here only once someone has checked them against the current form.
    )
    return RemsForm(
        fields=fields,
        total_minutes=total,
        min_total_minutes=min_total_minutes,
        under_two_hours=total is not None and total < min_total_minutes,
        submit_by=None if data.treatment_date is None else due_date(data.treatment_date),
    )


def display_value(form_field: FormField) -> str:
    """The value as printed: a missing required value is marked; an optional one does not apply."""
    if form_field.value is not None:
        return form_field.value
    return MISSING_TEXT if form_field.required else NOT_APPLICABLE_TEXT


def missing_fields(form: RemsForm) -> list[str]:
    """Labels of the required fields that have no value, in form order."""
    return [f.label for f in form.fields if f.required and f.value is None]


def due_date(treatment_date: date) -> date:
    """The last day on which the form is submitted on time [S5][S8]."""
    return treatment_date + timedelta(days=SUBMISSION_DAYS)


def deadline_state(due: date, today: date, submitted_on: date | None) -> DeadlineState:
    """How the form's deadline shows on ``today`` (the clinic's local date)."""
    if submitted_on is not None:
        return "submitted"
    if today > due:
        return "overdue"
    if (due - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "pending"

from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ketaguard.rems.form import (
    DUE_SOON_DAYS,
    MIN_TOTAL_TREATMENT_MINUTES,
    SUBMISSION_DAYS,
    BloodPressure,
    RemsFormInput,
    build_form,
    deadline_state,
    display_value,
    due_date,
    missing_fields,
)

FIRST_DEVICE = datetime(2025, 3, 10, 14, 0, tzinfo=UTC)


def complete_input(**changes: object) -> RemsFormInput:
    data = RemsFormInput(
        patient_name="Ada Example",
        date_of_birth=date(1980, 5, 17),
        sex="Female",
        first_treatment=True,
        enrolled=True,
        benzodiazepines=False,
        non_benzodiazepine_sedative_hypnotics=False,
        psychostimulants=True,
        maois=False,
        opioids=False,
        respiratory_status_change=False,
        monitoring_provider_name="N. Nurse, RN",
        setting_name="Clinic A",
        treatment_date=date(2025, 3, 10),
        dose_mg=56,
        lot_number="LOT-123",
        first_device_at=FIRST_DEVICE,
        monitoring_end_at=FIRST_DEVICE + timedelta(minutes=125),
        ready_to_leave_minutes=90,
        vitals_acceptable_before_dosing=True,
        vitals_acceptable_before_end=True,
        bp_before_dosing=BloodPressure(128, 82),
        bp_at_40_minutes=BloodPressure(146, 90),
        bp_before_end=BloodPressure(130, 84),
        sedation=True,
        dissociation=True,
        respiratory_depression=False,
        adverse_events=False,
    )
    return replace(data, **changes)  # type: ignore[arg-type]


# (input attribute set to None, label reported missing)
REQUIRED = [
    ("patient_name", "Patient name"),
    ("date_of_birth", "Date of birth"),
    ("sex", "Sex"),
    ("first_treatment", "First treatment?"),
    ("enrolled", "If first treatment, enrolled?"),
    ("benzodiazepines", "Benzodiazepines"),
    ("non_benzodiazepine_sedative_hypnotics", "Non-benzodiazepine sedative-hypnotics"),
    ("psychostimulants", "Psychostimulants"),
    ("maois", "MAOIs"),
    ("opioids", "Opioids"),
    ("respiratory_status_change", "Change in respiratory status"),
    ("monitoring_provider_name", "Monitoring provider"),
    ("setting_name", "Setting"),
    ("treatment_date", "Treatment date"),
    ("dose_mg", "Dose (56 mg / 84 mg / other)"),
    ("lot_number", "Lot number"),
    (
        "first_device_at",
        "Total treatment time (minutes, from the first device to the end of monitoring)",
    ),
    (
        "monitoring_end_at",
        "Total treatment time (minutes, from the first device to the end of monitoring)",
    ),
    (
        "ready_to_leave_minutes",
        "REMS evaluation question: if there were no 2-hour minimum, when would the patient have "
        "been ready to leave (minutes from the start of dosing)?",
    ),
    ("vitals_acceptable_before_dosing", "Were vital signs in an acceptable range before dosing?"),
    (
        "vitals_acceptable_before_end",
        "Were vital signs in an acceptable range before the end of the session?",
    ),
    ("bp_before_dosing", "BP before dosing (mmHg)"),
    ("bp_at_40_minutes", "BP at about 40 minutes after dosing (mmHg)"),
    ("bp_before_end", "BP before the end of the session (mmHg)"),
    ("sedation", "Sedation"),
    ("dissociation", "Dissociation"),
    ("respiratory_depression", "Respiratory depression"),
    ("adverse_events", "Adverse events"),
]


def test_required_table_covers_every_input_attribute() -> None:
    assert {name for name, _ in REQUIRED} == {f.name for f in fields(RemsFormInput)}


def test_complete_input_builds_every_field_in_form_order() -> None:
    form = build_form(complete_input())

    assert missing_fields(form) == []
    assert [f.key for f in form.fields] == [
        "patient_name",
        "date_of_birth",
        "sex",
        "first_treatment",
        "enrolled",
        "benzodiazepines",
        "non_benzodiazepine_sedative_hypnotics",
        "psychostimulants",
        "maois",
        "opioids",
        "respiratory_status_change",
        "monitoring_provider",
        "setting",
        "treatment_date",
        "dose",
        "lot_number",
        "total_minutes",
        "ready_to_leave_minutes",
        "vitals_acceptable_before_dosing",
        "vitals_acceptable_before_end",
        "bp_before_dosing",
        "bp_at_40_minutes",
        "bp_before_end",
        "sedation",
        "dissociation",
        "respiratory_depression",
        "adverse_events",
    ]
    assert all(f.required for f in form.fields)
    assert len({f.label for f in form.fields}) == len(form.fields)
    values = {f.key: f.value for f in form.fields}
    assert values["patient_name"] == "Ada Example"
    assert values["date_of_birth"] == "1980-05-17"
    assert values["first_treatment"] == "Yes"
    assert values["benzodiazepines"] == "No"
    assert values["psychostimulants"] == "Yes"
    assert values["dose"] == "56 mg"
    assert values["total_minutes"] == "125"
    assert values["ready_to_leave_minutes"] == "90"
    assert values["bp_at_40_minutes"] == "146/90 mmHg"
    assert form.field("setting").label == "Setting"
    assert [section for section, _ in form.sections()] == [
        "Patient",
        "Current medicines that may cause sedation or BP change",
        "Monitoring provider and setting",
        "Treatment",
        "Vital signs",
        "Did the patient have",
    ]


@pytest.mark.parametrize(("attribute", "label"), REQUIRED)
def test_each_missing_required_field_is_reported_by_its_label(attribute: str, label: str) -> None:
    form = build_form(complete_input(**{attribute: None}))

    assert missing_fields(form) == [label]


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_text_counts_as_missing(blank: str) -> None:
    form = build_form(complete_input(lot_number=blank, sex=blank))

    assert missing_fields(form) == ["Sex", "Lot number"]


def test_enrolled_is_not_required_after_the_first_treatment() -> None:
    form = build_form(complete_input(first_treatment=False, enrolled=None))

    assert missing_fields(form) == []
    enrolled = form.field("enrolled")
    assert not enrolled.required
    assert display_value(enrolled) == "Not applicable"


def test_enrolled_stays_required_when_first_treatment_is_unknown() -> None:
    form = build_form(complete_input(first_treatment=None, enrolled=None))

    assert missing_fields(form) == ["First treatment?", "If first treatment, enrolled?"]


def test_display_value_marks_a_missing_required_value() -> None:
    form = build_form(complete_input(patient_name=None))

    assert display_value(form.field("patient_name")) == "MISSING (required)"
    assert display_value(form.field("sex")) == "Female"


@pytest.mark.parametrize(("dose_mg", "shown"), [(56, "56 mg"), (84, "84 mg"), (28, "Other: 28 mg")])
def test_dose_shows_the_form_choices(dose_mg: int, shown: str) -> None:
    assert build_form(complete_input(dose_mg=dose_mg)).field("dose").value == shown


def test_total_minutes_run_from_first_device_across_offsets() -> None:
    # 18:05 at +02:00 is 16:05 UTC, 2 h 5 min after 14:00 UTC.
    end = datetime(2025, 3, 10, 18, 5, tzinfo=timezone(timedelta(hours=2)))
    form = build_form(complete_input(monitoring_end_at=end))

    assert form.total_minutes == 125


def test_total_minutes_round_down() -> None:
    end = FIRST_DEVICE + timedelta(minutes=119, seconds=59)
    form = build_form(complete_input(monitoring_end_at=end))

    assert form.total_minutes == 119
    assert form.under_two_hours


@pytest.mark.parametrize(("minutes", "under"), [(119, True), (120, False), (121, False)])
def test_under_two_hours_flag(minutes: int, under: bool) -> None:
    end = FIRST_DEVICE + timedelta(minutes=minutes)
    form = build_form(complete_input(monitoring_end_at=end))

    assert MIN_TOTAL_TREATMENT_MINUTES == 120
    assert form.total_minutes == minutes
    assert form.under_two_hours is under
    assert form.min_total_minutes == 120


def test_under_two_hours_uses_the_protocol_minimum_when_given() -> None:
    end = FIRST_DEVICE + timedelta(minutes=125)
    form = build_form(complete_input(monitoring_end_at=end), min_total_minutes=130)

    assert form.under_two_hours
    assert form.min_total_minutes == 130


def test_no_total_time_means_no_flag() -> None:
    form = build_form(complete_input(monitoring_end_at=None))

    assert form.total_minutes is None
    assert not form.under_two_hours


@pytest.mark.parametrize(
    "changes",
    [
        {"first_device_at": datetime(2025, 3, 10, 14, 0)},  # noqa: DTZ001 (naive on purpose)
        {"monitoring_end_at": datetime(2025, 3, 10, 16, 0)},  # noqa: DTZ001 (naive on purpose)
        {"monitoring_end_at": FIRST_DEVICE - timedelta(minutes=1)},
        {"dose_mg": 0},
        {"ready_to_leave_minutes": -1},
    ],
)
def test_invalid_input_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        complete_input(**changes)


def test_blood_pressure_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BloodPressure(0, 80)


def test_build_form_refuses_a_non_positive_minimum() -> None:
    with pytest.raises(ValueError, match="min_total_minutes"):
        build_form(complete_input(), min_total_minutes=0)


def test_due_date_is_seven_days_after_treatment() -> None:
    assert SUBMISSION_DAYS == 7
    assert due_date(date(2025, 3, 10)) == date(2025, 3, 17)
    assert due_date(date(2025, 12, 29)) == date(2026, 1, 5)
    assert build_form(complete_input()).submit_by == date(2025, 3, 17)
    assert build_form(complete_input(treatment_date=None)).submit_by is None


DUE = date(2025, 3, 17)


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2025, 3, 10), "pending"),
        (DUE - timedelta(days=DUE_SOON_DAYS + 1), "pending"),
        (DUE - timedelta(days=DUE_SOON_DAYS), "due_soon"),
        (DUE - timedelta(days=1), "due_soon"),
        (DUE, "due_soon"),
        (DUE + timedelta(days=1), "overdue"),
        (DUE + timedelta(days=30), "overdue"),
    ],
)
def test_deadline_state_boundaries(today: date, state: str) -> None:
    assert DUE_SOON_DAYS == 2
    assert deadline_state(DUE, today, None) == state


@pytest.mark.parametrize("today", [date(2025, 3, 10), DUE, DUE + timedelta(days=5)])
def test_a_submitted_form_is_submitted_whatever_the_day(today: date) -> None:
    assert deadline_state(DUE, today, date(2025, 3, 12)) == "submitted"

"""The built-in protocols encode the reference's numbers with their sources; bad protocols are
refused with every error naming its field."""

import copy
import json
import re
import tomllib
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import pytest
from pydantic import ValidationError

from ketaguard.protocols.definition import (
    FixedDose,
    PerKgDose,
    ProtocolDefinition,
    iter_cited,
)
from ketaguard.protocols.loader import ProtocolErrors, load_builtin, parse_protocol

BUILTIN_IDS = ("esketamine-mdd-si", "esketamine-trd", "ketamine-iv-0.5")
TAG = re.compile(r"\[S\d+\]")


def builtin(protocol_id: str) -> ProtocolDefinition:
    return load_builtin()[protocol_id]


def raw(protocol_id: str) -> dict[str, Any]:
    """A built-in protocol as the plain data a clinic's file would hold."""
    text = files("ketaguard.protocols").joinpath(f"builtin/{protocol_id}.toml").read_text("utf-8")
    return tomllib.loads(text)


def errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProtocolErrors) as caught:
        parse_protocol(json.dumps(data), fmt="json")
    return caught.value.errors


def flagged(definition: ProtocolDefinition) -> set[str]:
    return {path for path, cited in iter_cited(definition) if cited.review_locally}


def fixed(definition: ProtocolDefinition) -> FixedDose:
    assert isinstance(definition.dose, FixedDose)
    return definition.dose


def per_kg(definition: ProtocolDefinition) -> PerKgDose:
    assert isinstance(definition.dose, PerKgDose)
    return definition.dose


# --- The built-ins ------------------------------------------------------------------------------


def test_the_three_builtins_load_by_id() -> None:
    protocols = load_builtin()
    assert tuple(protocols) == BUILTIN_IDS
    assert all(protocol.version == 1 for protocol in protocols.values())


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_builtin_round_trips_through_json(protocol_id: str) -> None:
    definition = builtin(protocol_id)
    assert ProtocolDefinition.model_validate(definition.model_dump(mode="json")) == definition
    assert ProtocolDefinition.model_validate_json(definition.model_dump_json()) == definition


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_every_cited_value_names_its_reference_tag_and_section(protocol_id: str) -> None:
    cited = list(iter_cited(builtin(protocol_id)))
    assert len(cited) > 20
    for path, item in cited:
        assert item.source.strip(), path
        assert "§" in item.source, path
        assert TAG.search(item.source) or "§7" in item.source, path


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_unconfirmed_section_5_and_safeguard_values_are_flagged(protocol_id: str) -> None:
    for path, item in iter_cited(builtin(protocol_id)):
        source = item.source
        if "UNCONFIRMED" in source or "§5" in source or "ketaguard safeguard" in source:
            assert item.review_locally, f"{path}: {source}"


def test_esketamine_trd_encodes_the_label_schedule_and_limits() -> None:
    trd = builtin("esketamine-trd")
    weeks = [(p.start_week, p.end_week, p.max_sessions_per_7_days.value) for p in trd.phases]
    assert weeks == [(1, 4, 2), (5, 8, 1), (9, None, 1)]
    assert all(phase.min_interval_hours is None for phase in trd.phases)
    dose = fixed(trd)
    assert dose.allowed_mg.value == (56, 84)
    assert dose.first_dose_mg.value == 56
    assert (dose.device_mg.value, dose.device_interval_minutes.value) == (28, 5)
    assert dose.max_per_session_mg.value == 84
    assert "[S19]" in dose.max_per_session_mg.source
    assert dose.max_step_up_mg is None  # the 28 mg step is UNCONFIRMED for the US label
    assert (trd.drug, trd.route, trd.home_use_allowed, trd.rems_required) == (
        "esketamine",
        "intranasal",
        False,
        True,
    )
    assert trd.monitoring.min_observation_minutes.value == 120
    assert trd.monitoring.observation_starts_at == "first_device"
    assert "[S5]" in trd.monitoring.min_observation_minutes.source
    recheck = next(v for v in trd.monitoring.vitals_schedule if v.at == "minutes_after_dose")
    assert recheck.minutes is not None
    assert recheck.minutes.value == 40
    assert any("spo2" in v.vitals for v in trd.monitoring.vitals_schedule)
    minutes = {c.id: c.minutes.value for c in trd.pre_dose_checks if c.minutes is not None}
    assert minutes == {
        "fasting_food": 120,
        "fasting_liquids": 30,
        "nasal_steroid_decongestant_timing": 60,
    }
    thresholds = {
        (t.vital, t.comparison, t.value.value, t.when, t.action)
        for t in trd.monitoring.hold_thresholds
    }
    assert thresholds == {
        ("systolic_bp", "above", 140, "pre_dose", "prescriber_decision"),
        ("diastolic_bp", "above", 90, "pre_dose", "prescriber_decision"),
    }
    assert [c.id for c in trd.discharge_criteria] == [
        "min_observation_elapsed",
        "vitals_within_thresholds",
        "sedation_at_baseline",
        "transport_present",
        "prescriber_cleared",
    ]
    assert trd.no_driving.hours is None
    assert "next day after a restful sleep" in trd.no_driving.text.value
    assert any("least frequent" in note for note in trd.notes)


def test_esketamine_trd_flags_only_its_unconfirmed_values_and_safeguards() -> None:
    assert flagged(builtin("esketamine-trd")) == {
        "course.review_points.0",  # benefit check at week 4: UNCONFIRMED vs the US label
        "monitoring.hold_thresholds.0.value",  # >140 systolic [S24], §5
        "monitoring.hold_thresholds.1.value",  # >90 diastolic [S24], §5
        "pre_dose_checks.8",  # pregnancy status every session
        "pre_dose_checks.9",  # substance use since the last session
        "pre_dose_checks.10",  # craving score
    }
    trd = builtin("esketamine-trd")
    assert [c.id for c in trd.pre_dose_checks[8:]] == [
        "pregnancy_status",
        "substance_use_since_last_session",
        "craving_score",
    ]


def test_esketamine_mdd_si_encodes_84_mg_twice_weekly_for_4_weeks() -> None:
    mdd = builtin("esketamine-mdd-si")
    dose = fixed(mdd)
    assert (dose.first_dose_mg.value, dose.allowed_mg.value) == (84, (56, 84))
    assert dose.max_per_session_mg.value == 84
    assert [(p.start_week, p.end_week, p.max_sessions_per_7_days.value) for p in mdd.phases] == [
        (1, 4, 2)
    ]
    max_weeks = mdd.course.max_weeks
    assert max_weeks is not None
    assert max_weeks.value == 4
    assert max_weeks.review_locally
    assert mdd.course.max_sessions is None
    trd = builtin("esketamine-trd")
    assert mdd.monitoring == trd.monitoring
    assert mdd.pre_dose_checks == trd.pre_dose_checks
    assert mdd.discharge_criteria == trd.discharge_criteria
    assert flagged(mdd) == (flagged(trd) - {"course.review_points.0"}) | {"course.max_weeks"}


def test_ketamine_iv_encodes_the_standard_dose_and_flags_its_practice_defaults() -> None:
    iv = builtin("ketamine-iv-0.5")
    dose = per_kg(iv)
    assert (dose.mg_per_kg.value, dose.min_mg_per_kg.value, dose.max_mg_per_kg.value) == (
        0.5,
        0.1,
        0.75,
    )
    assert dose.infusion_minutes is not None
    assert dose.infusion_minutes.value == 40
    assert not dose.mg_per_kg.review_locally
    assert not dose.infusion_minutes.review_locally
    assert dose.max_step_up_mg_per_kg is None
    assert (iv.drug, iv.route, iv.home_use_allowed, iv.rems_required) == (
        "racemic_ketamine",
        "iv",
        False,
        False,
    )
    # Induction only: no built-in maintenance phase.
    assert [(p.start_week, p.end_week, p.max_sessions_per_7_days.value) for p in iv.phases] == [
        (1, 3, 3)
    ]
    assert iv.course.max_sessions is not None
    assert iv.course.max_sessions.value == 6
    assert iv.course.review_points[0].after_session == 6
    assert iv.monitoring.min_observation_minutes.value == 60
    assert iv.monitoring.observation_starts_at == "infusion_end"
    intervals = {
        (v.at, v.minutes.value) for v in iv.monitoring.vitals_schedule if v.minutes is not None
    }
    assert intervals == {("every_minutes_during", 10), ("every_minutes_after", 15)}
    thresholds = {
        (t.vital, t.comparison, t.value.value, t.action) for t in iv.monitoring.hold_thresholds
    }
    assert thresholds == {
        ("systolic_bp", "at_or_above", 180, "alert"),
        ("diastolic_bp", "at_or_above", 120, "alert"),
        ("systolic_bp", "below", 90, "hold"),
        ("systolic_bp", "above", 180, "hold"),
        ("heart_rate", "below", 50, "hold"),
        ("heart_rate", "above", 150, "hold"),
        ("respiratory_rate", "below", 10, "hold"),
        ("respiratory_rate", "above", 30, "hold"),
        ("spo2", "at_or_below", 92, "alert"),
    }
    minutes = {c.id: c.minutes.value for c in iv.pre_dose_checks if c.minutes is not None}
    assert minutes == {"fasting_food": 360, "fasting_liquids": 120}
    assert "rems_enrolment" not in {c.id for c in iv.pre_dose_checks}
    assert iv.no_driving.hours is not None
    assert iv.no_driving.hours.value == (12, 24)
    must_be_flagged = {
        "dose.min_mg_per_kg",
        "dose.max_mg_per_kg",
        "phases.0.max_sessions_per_7_days",
        "course.max_sessions",
        "course.review_points.0",
        "pre_dose_checks.1.minutes",
        "pre_dose_checks.2.minutes",
        "monitoring.min_observation_minutes",
        "monitoring.vitals_schedule.1.minutes",
        "monitoring.vitals_schedule.3.minutes",
        "no_driving.text",
        "no_driving.hours",
        *(f"monitoring.hold_thresholds.{i}.value" for i in range(9)),
    }
    assert must_be_flagged <= flagged(iv)
    assert not {"dose.mg_per_kg", "dose.infusion_minutes"} & flagged(iv)


def test_a_protocol_is_frozen() -> None:
    trd = builtin("esketamine-trd")
    with pytest.raises(ValidationError):
        trd.home_use_allowed = True  # type: ignore[misc]


# --- Refusals, each naming the field --------------------------------------------------------------


def change(protocol_id: str, edit: Callable[[dict[str, Any]], None]) -> list[str]:
    data = copy.deepcopy(raw(protocol_id))
    edit(data)
    return errors(data)


def test_esketamine_for_home_use_is_refused() -> None:
    found = change("esketamine-trd", lambda d: d.update(home_use_allowed=True))
    assert len(found) == 1
    assert found[0].startswith("home_use_allowed: must be false for esketamine")


def test_racemic_home_use_is_a_clinic_choice() -> None:
    data = raw("ketamine-iv-0.5")
    data["home_use_allowed"] = True
    assert parse_protocol(json.dumps(data), fmt="json").home_use_allowed


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["phases"][1].update(start_week=4),
            "phases.1.start_week: week 4 overlaps phase 'Induction' (weeks 1-4); it should be 5",
        ),
        (
            lambda d: d["phases"][1].update(start_week=6),
            "phases.1.start_week: week 6 leaves a gap after week 4 (phase 'Induction'); "
            "it should be 5",
        ),
        (
            lambda d: d["phases"][0].pop("end_week"),
            "phases.0.end_week: only the last phase may be open-ended (no end_week)",
        ),
        (
            lambda d: d["phases"][0].update(start_week=2),
            "phases.0.start_week: the first phase must start at week 1, not 2",
        ),
        (
            lambda d: d["phases"][1].update(end_week=3),
            "phases.1.end_week: week 3 is before start_week (5)",
        ),
    ],
)
def test_phases_with_gaps_or_overlaps_are_refused(
    edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    assert expected in change("esketamine-trd", edit)


def test_a_first_dose_that_is_not_allowed_is_refused() -> None:
    found = change("esketamine-trd", lambda d: d["dose"]["first_dose_mg"].update(value=28))
    assert found == ["dose.first_dose_mg.value: 28 mg is not one of allowed_mg [56, 84]"]


def test_fixed_doses_must_fit_the_maximum_and_the_devices() -> None:
    found = change("esketamine-trd", lambda d: d["dose"]["allowed_mg"].update(value=[56, 70, 112]))
    assert found == [
        "dose.allowed_mg.value.1: 70 mg is not a whole number of 28 mg devices",
        "dose.allowed_mg.value.2: 112 mg is above max_per_session_mg (84)",
    ]


def test_min_above_max_is_refused() -> None:
    found = change("ketamine-iv-0.5", lambda d: d["dose"]["min_mg_per_kg"].update(value=0.8))
    assert found == ["dose.min_mg_per_kg.value: 0.8 mg/kg is above max_mg_per_kg (0.75 mg/kg)"]


def test_a_default_outside_its_range_is_refused() -> None:
    found = change("ketamine-iv-0.5", lambda d: d["dose"]["mg_per_kg"].update(value=1.0))
    assert found == ["dose.mg_per_kg.value: 1 mg/kg is above max_mg_per_kg (0.75 mg/kg)"]


def test_non_positive_numbers_are_refused() -> None:
    found = change(
        "esketamine-trd", lambda d: d["monitoring"]["min_observation_minutes"].update(value=0)
    )
    assert found == ["monitoring.min_observation_minutes.value: Input should be greater than 0"]


def test_an_unknown_pre_dose_check_is_refused() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["pre_dose_checks"].append({"id": "urine_test", "what": "x", "source": "[S1] §1"})

    found = change("esketamine-trd", edit)
    assert len(found) == 1
    assert found[0].startswith("pre_dose_checks.11.id: Input should be 'blood_pressure'")


def test_a_fasting_check_needs_its_minutes() -> None:
    found = change("esketamine-trd", lambda d: d["pre_dose_checks"][2].pop("minutes"))
    assert found == [
        "pre_dose_checks.2.minutes: fasting_food needs how many minutes before the dose"
    ]


def test_a_missing_or_blank_source_is_refused() -> None:
    found = change(
        "esketamine-trd", lambda d: d["phases"][0]["max_sessions_per_7_days"].pop("source")
    )
    assert found == ["phases.0.max_sessions_per_7_days.source: required field is missing"]
    found = change("esketamine-trd", lambda d: d["dose"]["device_mg"].update(source="  "))
    assert found == ["dose.device_mg.source: String should have at least 1 character"]


def test_a_bare_number_without_its_source_is_refused() -> None:
    found = change("esketamine-trd", lambda d: d["dose"].update(max_per_session_mg=84))
    assert len(found) == 1
    assert found[0].startswith("dose.max_per_session_mg: expected a value with its source")


def test_unknown_fields_and_wrong_types_are_refused() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["max_dose"] = 100
        data["rems_required"] = "yes"

    assert change("esketamine-trd", edit) == [
        "rems_required: Input should be a valid boolean",
        "max_dose: unknown field",
    ]


def test_esketamine_must_keep_the_rems_and_the_nasal_route() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["rems_required"] = False
        data["route"] = "iv"

    found = change("esketamine-trd", edit)
    assert [line.split(":")[0] for line in found] == ["route", "rems_required"]


def test_a_rems_check_follows_rems_required() -> None:
    found = change(
        "esketamine-trd",
        lambda d: d.update(pre_dose_checks=d["pre_dose_checks"][1:]),
    )
    assert found == ["pre_dose_checks: rems_required needs a rems_enrolment check"]


def test_a_phase_can_only_narrow_the_allowed_doses() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["phases"][0]["allowed_mg"] = {"value": [84], "source": "[S1] §1"}
        data["phases"][1]["allowed_mg"] = {"value": [28], "source": "[S1] §1"}

    assert change("esketamine-trd", edit) == [
        "phases.0.allowed_mg.value: leaves out dose.first_dose_mg (56 mg)",
        "phases.1.allowed_mg.value: [28] mg not in dose.allowed_mg [56, 84]",
    ]


def test_phases_must_end_within_the_course() -> None:
    found = change("esketamine-mdd-si", lambda d: d["phases"][0].update(end_week=6))
    assert found == [
        "course.max_weeks.value: phase 0 ('Twice weekly') ends at week 6, after max_weeks (4)"
    ]


def test_an_iv_protocol_needs_its_infusion_time() -> None:
    found = change("ketamine-iv-0.5", lambda d: d["dose"].pop("infusion_minutes"))
    assert found == ["dose.infusion_minutes: an IV protocol needs infusion_minutes"]


def test_every_independent_error_is_reported_at_once() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["home_use_allowed"] = True
        data["dose"]["first_dose_mg"]["value"] = 28
        data["phases"][1]["start_week"] = 6
        data["pre_dose_checks"][0]["id"] = "urine_test"
        data["monitoring"]["min_observation_minutes"].pop("source")

    found = change("esketamine-trd", edit)
    assert [line.split(":")[0] for line in found] == [
        "home_use_allowed",
        "dose.first_dose_mg.value",
        "phases.1.start_week",
        "pre_dose_checks.0.id",
        "monitoring.min_observation_minutes.source",
    ]


def test_syntax_errors_name_their_line() -> None:
    with pytest.raises(ProtocolErrors) as caught:
        parse_protocol('id = "x"\nversion =\n', fmt="toml")
    assert caught.value.errors == ["line 2, column 10: Invalid value"]
    with pytest.raises(ProtocolErrors) as caught:
        parse_protocol('{\n  "id": }', fmt="json")
    assert caught.value.errors == ["line 2, column 9: Expecting value"]
    with pytest.raises(ProtocolErrors) as caught:
        parse_protocol('{"id": "a", "id": "b"}', fmt="json")
    assert caught.value.errors == ["json: key 'id' appears more than once in one object"]

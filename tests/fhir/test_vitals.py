"""FHIR R4 vital-sign Observations and Bundles become readings; anything doubtful is refused with
the JSON path at fault. The examples are synthetic, modelled on the HL7 R4 vital-signs examples."""

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ketaguard.fhir.vitals import (
    LOINC_SYSTEM,
    LOINC_VITALS,
    FhirBundleError,
    FhirError,
    FhirReading,
    parse_fhir,
    readings_from_bundle,
    readings_from_observation,
)
from ketaguard.protocols.definition import VITALS

UCUM = "http://unitsofmeasure.org"
VITAL_SIGNS: dict[str, Any] = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
            "display": "Vital Signs",
        }
    ],
    "text": "Vital Signs",
}
MONITOR = {
    "identifier": {"system": "urn:example:ketaguard-ward-devices", "value": "MON-0042"},
    "display": "Bedside monitor, chair 4",
    "reference": "Device/bedside-monitor-4",
}
WHEN = "2024-05-01T10:15:30+02:00"
WHEN_UTC = datetime(2024, 5, 1, 8, 15, 30, tzinfo=UTC)

Json = dict[str, Any]


def loinc(code: str, display: str) -> Json:
    return {"system": LOINC_SYSTEM, "code": code, "display": display}


def quantity(value: float, unit: str, code: str) -> Json:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def observation(resource_id: str, code: Json, **rest: Any) -> Json:
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/vitalsigns"]},
        "status": "final",
        "category": [copy.deepcopy(VITAL_SIGNS)],
        "code": code,
        "subject": {"reference": "Patient/example"},
        "effectiveDateTime": WHEN,
        "device": copy.deepcopy(MONITOR),
        **rest,
    }


def blood_pressure() -> Json:
    return observation(
        "blood-pressure",
        {
            "coding": [loinc("85354-9", "Blood pressure panel with all children optional")],
            "text": "Blood pressure systolic & diastolic",
        },
        identifier=[{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0b3f0d3e-bp"}],
        bodySite={"coding": [{"system": "http://snomed.info/sct", "code": "368209003"}]},
        component=[
            {
                "code": {
                    "coding": [
                        loinc("8480-6", "Systolic blood pressure"),
                        {"system": "http://snomed.info/sct", "code": "271649006"},
                    ]
                },
                "valueQuantity": quantity(128, "mmHg", "mm[Hg]"),
            },
            {
                "code": {
                    "coding": [
                        loinc("8462-4", "Diastolic blood pressure"),
                        {"system": "http://snomed.info/sct", "code": "271650006"},
                    ]
                },
                "valueQuantity": quantity(82, "mmHg", "mm[Hg]"),
            },
        ],
    )


def heart_rate() -> Json:
    return observation(
        "heart-rate",
        {"coding": [loinc("8867-4", "Heart rate")], "text": "Heart rate"},
        valueQuantity=quantity(72, "beats/minute", "/min"),
    )


def oxygen_saturation() -> Json:
    return observation(
        "satO2",
        {
            "coding": [
                loinc("2708-6", "Oxygen saturation in Arterial blood"),
                loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
                {
                    "system": "urn:iso:std:iso:11073:10101",
                    "code": "150456",
                    "display": "MDC_PULS_OXIM_SAT_O2",
                },
            ]
        },
        valueQuantity=quantity(97.5, "%", "%"),
    )


def respiratory_rate() -> Json:
    return observation(
        "respiratory-rate",
        {"coding": [loinc("9279-1", "Respiratory rate")], "text": "Breathing Rate"},
        valueQuantity=quantity(16, "breaths/minute", "/min"),
    )


def transaction(*resources: Json, bundle_type: str = "transaction") -> Json:
    entries = []
    for index, resource in enumerate(resources):
        posted = {key: value for key, value in resource.items() if key != "id"}
        entries.append(
            {
                "fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{index}",
                "resource": posted,
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    return {"resourceType": "Bundle", "type": bundle_type, "entry": entries}


def five_entries() -> Json:
    later = heart_rate()
    later["effectiveDateTime"] = "2024-05-01T08:45:30Z"
    later["valueQuantity"]["value"] = 88
    bundle = transaction(blood_pressure(), heart_rate(), oxygen_saturation(), respiratory_rate())
    bundle["entry"].append(transaction(later)["entry"][0])
    for index, entry in enumerate(bundle["entry"]):
        entry["resource"]["identifier"] = [{"system": "urn:example:gw", "value": f"gw-{index}"}]
    return bundle


def refusal(resource: Json) -> FhirError:
    with pytest.raises(FhirError) as caught:
        readings_from_observation(resource)
    return caught.value


def bundle_refusal(bundle: Json) -> FhirBundleError:
    with pytest.raises(FhirBundleError) as caught:
        readings_from_bundle(bundle)
    return caught.value


# --- Readings ----------------------------------------------------------------------------------


def test_a_blood_pressure_panel_gives_systolic_and_diastolic() -> None:
    assert readings_from_observation(blood_pressure()) == [
        FhirReading("systolic_bp", 128.0, "mmHg", WHEN_UTC, "MON-0042", "blood-pressure"),
        FhirReading("diastolic_bp", 82.0, "mmHg", WHEN_UTC, "MON-0042", "blood-pressure"),
    ]


def test_heart_rate() -> None:
    (reading,) = readings_from_observation(heart_rate())
    assert reading == FhirReading(
        "heart_rate", 72.0, "beats/min", WHEN_UTC, "MON-0042", "heart-rate"
    )
    assert reading.measured_at.utcoffset() is not None


def test_oxygen_saturation_coded_both_ways_is_one_reading() -> None:
    assert readings_from_observation(oxygen_saturation()) == [
        FhirReading("spo2", 97.5, "%", WHEN_UTC, "MON-0042", "satO2")
    ]


@pytest.mark.parametrize("code", ["2708-6", "59408-5"])
def test_oxygen_saturation_with_either_loinc_code_alone(code: str) -> None:
    resource = oxygen_saturation()
    resource["code"]["coding"] = [loinc(code, LOINC_VITALS[code].display)]
    assert [reading.vital for reading in readings_from_observation(resource)] == ["spo2"]


def test_respiratory_rate() -> None:
    assert readings_from_observation(respiratory_rate()) == [
        FhirReading(
            "respiratory_rate", 16.0, "breaths/min", WHEN_UTC, "MON-0042", "respiratory-rate"
        )
    ]


@pytest.mark.parametrize(
    ("code", "vital"),
    [("8480-6", "systolic_bp"), ("8462-4", "diastolic_bp")],
)
def test_a_single_blood_pressure_code(code: str, vital: str) -> None:
    resource = observation(
        "bp-single",
        {"coding": [loinc(code, LOINC_VITALS[code].display)]},
        valueQuantity=quantity(121, "mmHg", "mm[Hg]"),
    )
    assert [(r.vital, r.value, r.unit) for r in readings_from_observation(resource)] == [
        (vital, 121.0, "mmHg")
    ]


@pytest.mark.parametrize("unit", ["/min", "1/min", "{beats}/min"])
@pytest.mark.parametrize("build", [heart_rate, respiratory_rate])
def test_rates_accept_the_equivalent_ucum_codes(unit: str, build: Callable[[], Json]) -> None:
    resource = build()
    resource["valueQuantity"]["code"] = unit
    (reading,) = readings_from_observation(resource)
    assert reading.value in (72.0, 16.0)


def test_a_unit_given_only_as_unit_text_is_read_as_ucum() -> None:
    resource = heart_rate()
    resource["valueQuantity"] = {"value": 64, "unit": "/min"}
    assert readings_from_observation(resource)[0].value == 64.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("effectiveDateTime", "2024-05-01T08:15:30Z"),
        ("effectiveDateTime", "2024-05-01T04:15:30.000-04:00"),
        ("effectiveInstant", "2024-05-01T08:15:30Z"),
        ("effectivePeriod", {"start": "2024-05-01T10:15:30+02:00", "end": "2024-05-01T10:16Z"}),
    ],
)
def test_the_time_measured_comes_back_aware_in_utc(key: str, value: object) -> None:
    resource = heart_rate()
    del resource["effectiveDateTime"]
    resource[key] = value
    (reading,) = readings_from_observation(resource)
    assert reading.measured_at == WHEN_UTC
    assert reading.measured_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        (MONITOR, "MON-0042"),
        (
            {"display": "Bedside monitor, chair 4", "reference": "Device/bm-4"},
            "Bedside monitor, chair 4",
        ),
        ({"reference": "Device/bm-4"}, "Device/bm-4"),
        (None, None),
    ],
)
def test_the_device_id_prefers_identifier_then_display_then_reference(
    device: Json | None, expected: str | None
) -> None:
    resource = heart_rate()
    resource["device"] = device
    assert readings_from_observation(resource)[0].device_id == expected


def test_the_source_id_falls_back_to_the_identifier() -> None:
    resource = blood_pressure()
    del resource["id"]
    assert {r.source_id for r in readings_from_observation(resource)} == {"urn:uuid:0b3f0d3e-bp"}
    del resource["identifier"]
    assert {r.source_id for r in readings_from_observation(resource)} == {None}


@pytest.mark.parametrize("status", ["final", "amended", "corrected", "preliminary"])
def test_result_statuses_are_read(status: str) -> None:
    resource = heart_rate()
    resource["status"] = status
    assert len(readings_from_observation(resource)) == 1


def test_a_missing_category_is_tolerated() -> None:
    resource = respiratory_rate()
    del resource["category"]
    assert readings_from_observation(resource)[0].vital == "respiratory_rate"


def test_other_blood_pressure_components_are_ignored() -> None:
    resource = blood_pressure()
    resource["component"].append(
        {
            "code": {"coding": [loinc("8478-0", "Mean blood pressure")]},
            "valueQuantity": quantity(97, "mmHg", "mm[Hg]"),
        }
    )
    assert [r.vital for r in readings_from_observation(resource)] == ["systolic_bp", "diastolic_bp"]


def test_every_vital_has_a_loinc_code_with_its_reference_tags() -> None:
    assert {code.meaning for code in LOINC_VITALS.values()} == {*VITALS, "bp_panel"}
    assert all("[S" in code.source and "§6.1" in code.source for code in LOINC_VITALS.values())
    assert LOINC_VITALS["2708-6"].source.startswith("[S155]")
    assert LOINC_VITALS["59408-5"].source.startswith("[S147]")


# --- Refusals ----------------------------------------------------------------------------------

Edit = Callable[[Json], object]


def _delete(key: str) -> Edit:
    return lambda resource: resource.pop(key)


def _swap(old: str, new: str, value: object) -> Edit:
    def edit(resource: Json) -> None:
        del resource[old]
        resource[new] = value

    return edit


def _set(value: object, *keys: str | int) -> Edit:
    def edit(resource: Json) -> None:
        target: Any = resource
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


REFUSALS: list[tuple[str, Callable[[], Json], Edit, str, str]] = [
    (
        "unknown code",
        heart_rate,
        _set([loinc("8310-5", "Body temperature")], "code", "coding"),
        "Observation.code.coding",
        "no vital-sign code",
    ),
    (
        "vital signs panel is not a reading",
        heart_rate,
        _set([loinc("85353-1", "Vital signs panel")], "code", "coding"),
        "Observation.code.coding",
        "85353-1",
    ),
    (
        "wrong code system",
        heart_rate,
        _set("http://snomed.info/sct", "code", "coding", 0, "system"),
        "Observation.code.coding[0].system",
        "needs system 'http://loinc.org'",
    ),
    (
        "two different vitals in one code",
        heart_rate,
        _set([loinc("8867-4", "Heart rate"), loinc("9279-1", "Resp")], "code", "coding"),
        "Observation.code.coding",
        "more than one vital",
    ),
    (
        "missing code",
        heart_rate,
        _delete("code"),
        "Observation.code",
        "is missing",
    ),
    (
        "missing valueQuantity",
        heart_rate,
        _delete("valueQuantity"),
        "Observation.valueQuantity",
        "is missing",
    ),
    (
        "data absent instead of a value",
        oxygen_saturation,
        _swap("valueQuantity", "dataAbsentReason", {"text": "probe off"}),
        "Observation.valueQuantity",
        "dataAbsentReason",
    ),
    (
        "a string value",
        heart_rate,
        _swap("valueQuantity", "valueString", "72 bpm"),
        "Observation.valueString",
        "must be a valueQuantity",
    ),
    (
        "value missing",
        heart_rate,
        lambda resource: resource["valueQuantity"].pop("value"),
        "Observation.valueQuantity.value",
        "is missing",
    ),
    (
        "value not a number",
        heart_rate,
        _set("72", "valueQuantity", "value"),
        "Observation.valueQuantity.value",
        "must be a number",
    ),
    (
        "inexact value",
        oxygen_saturation,
        _set(">", "valueQuantity", "comparator"),
        "Observation.valueQuantity.comparator",
        "inexact",
    ),
    (
        "negative value",
        respiratory_rate,
        _set(-1, "valueQuantity", "value"),
        "Observation.valueQuantity.value",
        "negative",
    ),
    (
        "saturation above 100 percent",
        oxygen_saturation,
        _set(101, "valueQuantity", "value"),
        "Observation.valueQuantity.value",
        "percentage above 100",
    ),
    (
        "wrong unit code",
        heart_rate,
        _set("/s", "valueQuantity", "code"),
        "Observation.valueQuantity.code",
        "heart_rate needs UCUM unit",
    ),
    (
        "wrong unit text without a code",
        heart_rate,
        _set({"value": 72, "unit": "bpm"}, "valueQuantity"),
        "Observation.valueQuantity.unit",
        "got 'bpm'",
    ),
    (
        "no unit at all",
        oxygen_saturation,
        _set({"value": 97}, "valueQuantity"),
        "Observation.valueQuantity.code",
        "is missing",
    ),
    (
        "not UCUM",
        oxygen_saturation,
        _set("http://example.org/units", "valueQuantity", "system"),
        "Observation.valueQuantity.system",
        "UCUM",
    ),
    (
        "wrong unit in a blood pressure component",
        blood_pressure,
        _set("kPa", "component", 1, "valueQuantity", "code"),
        "Observation.component[1].valueQuantity.code",
        "diastolic_bp needs UCUM unit 'mm[Hg]'",
    ),
    (
        "blood pressure panel without its diastolic component",
        blood_pressure,
        lambda resource: resource["component"].pop(1),
        "Observation.component",
        "8462-4",
    ),
    (
        "blood pressure panel with two systolic components",
        blood_pressure,
        lambda resource: resource["component"].append(resource["component"][0]),
        "Observation.component[2].code",
        "second systolic_bp",
    ),
    (
        "blood pressure component under the wrong system",
        blood_pressure,
        _set("loinc", "component", 0, "code", "coding", 0, "system"),
        "Observation.component[0].code.coding[0].system",
        "needs system",
    ),
    (
        "naive time",
        heart_rate,
        _set("2024-05-01T10:15:30", "effectiveDateTime"),
        "Observation.effectiveDateTime",
        "no timezone",
    ),
    (
        "date-only time",
        heart_rate,
        _set("2024-05-01", "effectiveDateTime"),
        "Observation.effectiveDateTime",
        "date-only",
    ),
    (
        "year-month time",
        heart_rate,
        _set("2024-05", "effectiveDateTime"),
        "Observation.effectiveDateTime",
        "date-only",
    ),
    (
        "impossible time",
        heart_rate,
        _set("2024-02-30T10:15:30Z", "effectiveDateTime"),
        "Observation.effectiveDateTime",
        "not a FHIR timestamp",
    ),
    (
        "period without a start",
        heart_rate,
        _swap("effectiveDateTime", "effectivePeriod", {"end": WHEN}),
        "Observation.effectivePeriod.start",
        "is missing",
    ),
    (
        "no time",
        heart_rate,
        _delete("effectiveDateTime"),
        "Observation.effective[x]",
        "is missing",
    ),
    (
        "entered in error",
        heart_rate,
        _set("entered-in-error", "status"),
        "Observation.status",
        "not a reading",
    ),
    (
        "cancelled",
        heart_rate,
        _set("cancelled", "status"),
        "Observation.status",
        "not a reading",
    ),
    (
        "registered, no result yet",
        heart_rate,
        _set("registered", "status"),
        "Observation.status",
        "must be one of",
    ),
    (
        "another category",
        oxygen_saturation,
        _set(
            [{"coding": [{"system": VITAL_SIGNS["coding"][0]["system"], "code": "laboratory"}]}],
            "category",
        ),
        "Observation.category",
        "vital-signs",
    ),
    (
        "not an Observation",
        heart_rate,
        _set("Patient", "resourceType"),
        "Observation.resourceType",
        "'Patient'",
    ),
    (
        "device that is not a reference",
        heart_rate,
        _set("MON-0042", "device"),
        "Observation.device",
        "must be an object",
    ),
]


@pytest.mark.parametrize(
    ("build", "edit", "path", "fragment"),
    [row[1:] for row in REFUSALS],
    ids=[row[0] for row in REFUSALS],
)
def test_refusals_name_the_path(
    build: Callable[[], Json], edit: Edit, path: str, fragment: str
) -> None:
    resource = build()
    edit(resource)
    error = refusal(resource)
    assert isinstance(error, ValueError)
    assert (error.path, error.entry) == (path, None)
    assert fragment in error.message
    assert str(error).startswith(f"{path}: ")


# --- Bundles -----------------------------------------------------------------------------------


def test_a_transaction_bundle_of_five_gives_every_reading_in_entry_order() -> None:
    readings = readings_from_bundle(five_entries())
    assert [(r.vital, r.value, r.unit, r.source_id) for r in readings] == [
        ("systolic_bp", 128.0, "mmHg", "gw-0"),
        ("diastolic_bp", 82.0, "mmHg", "gw-0"),
        ("heart_rate", 72.0, "beats/min", "gw-1"),
        ("spo2", 97.5, "%", "gw-2"),
        ("respiratory_rate", 16.0, "breaths/min", "gw-3"),
        ("heart_rate", 88.0, "beats/min", "gw-4"),
    ]
    assert [r.measured_at for r in readings] == [WHEN_UTC] * 5 + [
        datetime(2024, 5, 1, 8, 45, 30, tzinfo=UTC)
    ]
    assert {r.device_id for r in readings} == {"MON-0042"}


def test_a_batch_bundle_and_entries_without_request_are_read() -> None:
    bundle = transaction(heart_rate(), respiratory_rate(), bundle_type="batch")
    del bundle["entry"][1]["request"]
    assert [r.vital for r in readings_from_bundle(bundle)] == ["heart_rate", "respiratory_rate"]


def test_parse_fhir_dispatches_on_resource_type() -> None:
    assert parse_fhir(heart_rate()) == readings_from_observation(heart_rate())
    assert parse_fhir(five_entries()) == readings_from_bundle(five_entries())
    with pytest.raises(FhirError) as caught:
        parse_fhir({"resourceType": "Patient", "id": "example"})
    assert caught.value.path == "resourceType"


def test_a_bundle_with_two_bad_entries_lists_both_and_reads_nothing() -> None:
    bundle = five_entries()
    bundle["entry"][1]["resource"]["status"] = "entered-in-error"
    bundle["entry"][3]["resource"]["valueQuantity"] = {"value": 16, "unit": "breaths/min"}
    error = bundle_refusal(bundle)
    assert isinstance(error, ValueError)
    assert error.entries == (1, 3)
    assert [(e.entry, e.path) for e in error.errors] == [
        (1, "Bundle.entry[1].resource.status"),
        (3, "Bundle.entry[3].resource.valueQuantity.unit"),
    ]
    assert "2 entries were refused" in str(error)
    assert "Bundle.entry[1].resource.status" in str(error)
    assert "Bundle.entry[3].resource.valueQuantity.unit" in str(error)


def test_a_non_observation_entry_is_refused() -> None:
    bundle = five_entries()
    bundle["entry"][2]["resource"] = {"resourceType": "Patient", "id": "example"}
    error = bundle_refusal(bundle)
    assert [(e.entry, e.path) for e in error.errors] == [
        (2, "Bundle.entry[2].resource.resourceType")
    ]
    assert "'Patient'" in error.errors[0].message


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (_set("PUT", "entry", 4, "request", "method"), "Bundle.entry[4].request.method"),
        (lambda bundle: bundle["entry"][0].pop("resource"), "Bundle.entry[0].resource"),
        (_set("not an entry", "entry", 3), "Bundle.entry[3]"),
    ],
)
def test_malformed_entries_are_refused(edit: Edit, path: str) -> None:
    bundle = five_entries()
    edit(bundle)
    assert [e.path for e in bundle_refusal(bundle).errors] == [path]


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (_set("collection", "type"), "Bundle.type"),
        (_set("Observation", "resourceType"), "Bundle.resourceType"),
        (_set([], "entry"), "Bundle.entry"),
        (_delete("entry"), "Bundle.entry"),
    ],
)
def test_bundle_level_problems_are_refused(edit: Edit, path: str) -> None:
    bundle = five_entries()
    edit(bundle)
    with pytest.raises(FhirError) as caught:
        readings_from_bundle(bundle)
    assert caught.value.path == path
    assert not isinstance(caught.value, FhirBundleError)

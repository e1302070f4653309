"""Each instrument's published rules at every band boundary, its skip logic and its refusals."""

import re
from collections.abc import Sequence

import pytest

from ketaguard.screening.instruments import (
    INSTRUMENTS,
    AnswerError,
    Instrument,
    Score,
    ScoringContext,
    answers_from_positional,
    get_instrument,
    sedation_from,
)
from ketaguard.screening.instruments.cadss6 import ITEM_MAXIMUM as CADSS_ITEM_MAXIMUM

DEFAULT = ScoringContext()
FEMALE = ScoringContext(sex="female")
MALE = ScoringContext(sex="male")


def score(
    instrument_id: str, values: Sequence[int | None], context: ScoringContext = DEFAULT
) -> Score:
    instrument = get_instrument(instrument_id)
    return instrument.score(answers_from_positional(instrument, values), context)


def summing_to(instrument: Instrument, total: int) -> list[int | None]:
    """Answers filling items in order with their highest value until they add up to `total`."""
    values: list[int | None] = []
    for item in instrument.items:
        value = min(total, item.options[-1].value)
        values.append(value)
        total -= value
    assert total == 0
    return values


def banded(instrument_id: str, total: int, context: ScoringContext = DEFAULT) -> Score:
    return score(instrument_id, summing_to(get_instrument(instrument_id), total), context)


def test_registry_holds_the_instruments_by_their_ids() -> None:
    assert set(INSTRUMENTS) == {
        "phq9",
        "gad7",
        "pcl5",
        "cssrs-screen",
        "dast10",
        "audit-c",
        "sds",
        "ketamine-use-disorder",
        "moaas",
        "cadss6",
        "icsi",
        "icpi",
    }
    assert all(instrument.id == key for key, instrument in INSTRUMENTS.items())


def test_unknown_instrument_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown instrument 'phq8'; known: audit-c, cadss6"):
        get_instrument("phq8")


@pytest.mark.parametrize("instrument", INSTRUMENTS.values(), ids=lambda i: i.id)
def test_items_are_well_formed(instrument: Instrument) -> None:
    ids = [item.id for item in instrument.items]
    assert len(set(ids)) == len(ids)
    # FHIR linkId style: one prefix per instrument, then the item's number.
    assert all(re.fullmatch(r"[a-z0-9]+-\d+b?", item_id) for item_id in ids)
    assert len({item_id.split("-")[0] for item_id in ids}) == 1
    for position, item in enumerate(instrument.items):
        # Answers are 0, 1, 2, ... so "out of range low-high" describes every refusal exactly.
        assert [option.value for option in item.options] == list(range(len(item.options)))
        if item.enable_when is not None:
            assert item.enable_when.item_id in ids[:position]
    assert instrument.sources
    assert instrument.licence


@pytest.mark.parametrize(
    ("instrument_id", "worded"),
    [
        ("phq9", True),
        ("gad7", True),
        ("pcl5", True),
        ("audit-c", True),
        ("dast10", False),
        ("cssrs-screen", False),
        ("sds", False),
        ("cadss6", False),
        ("icsi", False),
        ("icpi", False),
        ("moaas", False),
    ],
)
def test_item_wording_only_where_it_may_be_reproduced(instrument_id: str, worded: bool) -> None:
    texts = [item.text for item in get_instrument(instrument_id).items]
    assert all(texts) if worded else not any(texts)


@pytest.mark.parametrize(
    ("instrument_id", "published_total"),
    [
        ("phq9", 27),
        ("gad7", 21),
        ("pcl5", 80),
        ("dast10", 10),
        ("audit-c", 12),
        ("sds", 15),
        ("icsi", 20),
        ("icpi", 16),
        ("moaas", 5),
        ("cadss6", 6 * CADSS_ITEM_MAXIMUM),
    ],
)
def test_item_ranges_add_up_to_the_published_total(
    instrument_id: str, published_total: int
) -> None:
    instrument = get_instrument(instrument_id)
    assert instrument.total_range == (0, published_total)
    assert sum(item.options[-1].value for item in instrument.items) == published_total


# PHQ-9 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands(total: int, band: str) -> None:
    result = banded("phq9", total)
    assert (result.total, result.band) == (total, band)


def test_phq9_item9_flag_whatever_the_total() -> None:
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert (result.total, result.band, result.flags) == (1, "minimal", ("item9_positive",))
    assert score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0]).flags == ()


def test_phq9_loinc_codes_leave_the_unconfirmed_item8_empty() -> None:
    phq9 = get_instrument("phq9")
    assert [item.loinc for item in phq9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        None,
        "44260-8",
    ]
    assert (phq9.panel_loinc, phq9.total_loinc) == ("44249-1", "44261-6")


# GAD-7 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands(total: int, band: str) -> None:
    result = banded("gad7", total)
    assert (result.total, result.band) == (total, band)


# PCL-5 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "cutoff", "band"),
    [
        (32, 33, "below_cutoff"),
        (33, 33, "probable_ptsd"),
        (30, 31, "below_cutoff"),
        (31, 31, "probable_ptsd"),
        (0, 33, "below_cutoff"),
        (80, 33, "probable_ptsd"),
    ],
)
def test_pcl5_cutoff(total: int, cutoff: int, band: str) -> None:
    result = banded("pcl5", total, ScoringContext(pcl5_cutoff=cutoff))
    assert (result.total, result.band) == (total, band)


def test_pcl5_default_cutoff_is_33() -> None:
    assert banded("pcl5", 32).band == "below_cutoff"
    assert banded("pcl5", 33).band == "probable_ptsd"


def _pcl5(moderate: set[int], others: int = 0) -> list[int | None]:
    return [2 if n in moderate else others for n in range(1, 21)]


MINIMAL_PATTERN = {1, 6, 8, 9, 15, 16}  # 1 of B, 1 of C, 2 of D, 2 of E


def test_pcl5_cluster_rule_met_by_the_minimal_pattern_below_the_cutoff() -> None:
    result = score("pcl5", _pcl5(MINIMAL_PATTERN))
    assert result.total == 12
    assert result.band == "below_cutoff"
    assert result.flags == ("dsm5_cluster_criteria_met",)
    assert result.extra == {
        "cluster_b_endorsed": 1,
        "cluster_c_endorsed": 1,
        "cluster_d_endorsed": 2,
        "cluster_e_endorsed": 2,
    }


@pytest.mark.parametrize("missing", sorted(MINIMAL_PATTERN))
def test_pcl5_cluster_rule_fails_one_item_short(missing: int) -> None:
    assert score("pcl5", _pcl5(MINIMAL_PATTERN - {missing}, others=1)).flags == ()


def test_pcl5_ratings_of_1_are_not_endorsed() -> None:
    result = score("pcl5", _pcl5(set(), others=1))
    assert result.flags == ()
    assert result.extra["cluster_d_endorsed"] == 0


@pytest.mark.parametrize("cutoff", [0, 81])
def test_pcl5_refuses_a_cutoff_outside_the_total_range(cutoff: int) -> None:
    with pytest.raises(AnswerError, match=r"^pcl5: cut-off .* is outside 1-80"):
        banded("pcl5", 10, ScoringContext(pcl5_cutoff=cutoff))


# C-SSRS screener ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "risk"),
    [
        ([0, 0, None, None, None, 0, None], "none"),
        ([1, 0, None, None, None, 0, None], "low"),
        ([0, 1, 0, 0, 0, 0, None], "low"),
        ([1, 1, 0, 0, 0, 0, None], "low"),
        ([1, 1, 1, 0, 0, 0, None], "moderate"),
        ([0, 0, None, None, None, 1, 0], "moderate"),
        ([1, 1, 0, 1, 0, 0, None], "high"),
        ([1, 1, 0, 0, 1, 0, None], "high"),
        ([0, 0, None, None, None, 1, 1], "high"),
        ([1, 1, 1, 0, 0, 1, 0], "moderate"),
    ],
)
def test_cssrs_risk_levels(values: list[int | None], risk: str) -> None:
    result = score("cssrs-screen", values)
    assert result.total is None
    assert result.band == risk
    assert result.extra == {"risk": risk}
    assert result.flags == (("high_risk",) if risk == "high" else ())


@pytest.mark.parametrize(
    ("values", "item_id", "problem"),
    [
        ([0, 0, 1, None, None, 0, None], "cssrs-3", "must not be answered"),
        ([0, 0, None, 0, None, 0, None], "cssrs-4", "must not be answered"),
        ([0, 0, None, None, 1, 0, None], "cssrs-5", "must not be answered"),
        ([0, 1, 0, None, 0, 0, None], "cssrs-4", "no answer, but the item is asked"),
        ([0, 0, None, None, None, 0, 1], "cssrs-6b", "must not be answered"),
        ([0, 0, None, None, None, 1, None], "cssrs-6b", "no answer, but the item is asked"),
    ],
)
def test_cssrs_skip_logic_refusals(values: list[int | None], item_id: str, problem: str) -> None:
    with pytest.raises(AnswerError, match=rf"^{item_id}: {problem}") as caught:
        score("cssrs-screen", values)
    assert caught.value.item_id == item_id


def test_cssrs_refusal_says_when_the_item_is_asked() -> None:
    with pytest.raises(AnswerError, match=r"asked only when cssrs-2 is 1 \(Yes\)"):
        score("cssrs-screen", [0, 0, 1, None, None, 0, None])


# DAST-10 --------------------------------------------------------------------------------------


def _dast(points: int) -> list[int | None]:
    """Answers worth `points`: item 3 scores for No, every other item for Yes."""
    item3 = 0 if points == 10 else 1
    others = [1 if n < points else 0 for n in range(9)]
    return [*others[:2], item3, *others[2:]]


@pytest.mark.parametrize(
    ("points", "band"),
    [
        (0, "none"),
        (1, "low"),
        (2, "low"),
        (3, "moderate"),
        (5, "moderate"),
        (6, "substantial"),
        (8, "substantial"),
        (9, "severe"),
        (10, "severe"),
    ],
)
def test_dast10_bands(points: int, band: str) -> None:
    result = score("dast10", _dast(points))
    assert (result.total, result.band) == (points, band)


def test_dast10_item3_is_reverse_scored() -> None:
    assert score("dast10", [0] * 10).total == 1
    assert score("dast10", [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).total == 0
    assert score("dast10", [1] * 10).total == 9


# AUDIT-C --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "context", "band"),
    [
        ([1, 1, 0], FEMALE, "negative"),
        ([1, 1, 1], FEMALE, "positive"),
        ([1, 1, 1], MALE, "negative"),
        ([2, 1, 1], MALE, "positive"),
        ([4, 4, 4], FEMALE, "positive"),
        ([0, 0, 0], MALE, "negative"),
    ],
)
def test_auditc_cutoff_differs_by_sex(
    values: list[int | None], context: ScoringContext, band: str
) -> None:
    assert score("audit-c", values, context).band == band


@pytest.mark.parametrize(
    ("values", "context", "flags"),
    [
        ([4, 0, 0], MALE, ("q1_only",)),
        ([3, 0, 0], FEMALE, ("q1_only",)),
        ([3, 0, 0], MALE, ()),  # negative: nothing to qualify
        ([2, 1, 0], FEMALE, ()),
        ([2, 0, 1], FEMALE, ()),
    ],
)
def test_auditc_q1_only(
    values: list[int | None], context: ScoringContext, flags: tuple[str, ...]
) -> None:
    assert score("audit-c", values, context).flags == flags


def test_auditc_requires_sex() -> None:
    with pytest.raises(AnswerError, match=r"^audit-c: sex is required"):
        score("audit-c", [1, 1, 1])


# SDS ------------------------------------------------------------------------------------------


def test_sds_has_no_band_without_a_clinic_cutoff() -> None:
    result = banded("sds", 15)
    assert (result.total, result.band) == (15, None)


@pytest.mark.parametrize(
    ("total", "band"), [(0, "below_cutoff"), (3, "below_cutoff"), (4, "at_or_above_cutoff")]
)
def test_sds_with_a_clinic_cutoff(total: int, band: str) -> None:
    assert banded("sds", total, ScoringContext(sds_cutoff=4)).band == band


@pytest.mark.parametrize("cutoff", [0, 16])
def test_sds_refuses_a_cutoff_outside_the_total_range(cutoff: int) -> None:
    with pytest.raises(AnswerError, match=r"^sds: cut-off .* is outside 1-15"):
        banded("sds", 3, ScoringContext(sds_cutoff=cutoff))


# Ketamine use disorder (DSM-5) ----------------------------------------------------------------


def _criteria(*numbers: int) -> list[int | None]:
    return [1 if n in numbers else 0 for n in range(1, 11)]


@pytest.mark.parametrize(
    ("count", "band"),
    [
        (0, "none"),
        (1, "none"),
        (2, "mild"),
        (3, "mild"),
        (4, "moderate"),
        (5, "moderate"),
        (6, "severe"),
        (10, "severe"),
    ],
)
def test_kud_severity(count: int, band: str) -> None:
    result = score("ketamine-use-disorder", _criteria(*range(1, count + 1)))
    assert (result.total, result.band) == (count, band)
    assert result.extra == {"criteria_counted": [f"kud-{n}" for n in range(1, count + 1)]}


def test_kud_tolerance_counts_without_supervision() -> None:
    result = score("ketamine-use-disorder", _criteria(4, 10))
    assert (result.total, result.band, result.flags) == (2, "mild", ())
    assert result.extra == {"criteria_counted": ["kud-4", "kud-10"]}


def test_kud_tolerance_does_not_count_under_supervision() -> None:
    result = score("ketamine-use-disorder", _criteria(4, 10), ScoringContext(supervised=True))
    assert (result.total, result.band) == (1, "none")
    assert result.flags == ("tolerance_not_counted_supervised",)
    assert result.extra == {"criteria_counted": ["kud-4"]}


def test_kud_supervision_changes_nothing_else() -> None:
    result = score("ketamine-use-disorder", _criteria(1, 2, 3, 4), ScoringContext(supervised=True))
    assert (result.total, result.band, result.flags) == (4, "moderate", ())


def test_kud_has_ten_criteria_without_withdrawal() -> None:
    items = get_instrument("ketamine-use-disorder").items
    assert len(items) == 10
    assert not any("withdrawal" in (item.text or "").lower() for item in items)
    assert items[-1].text == "Tolerance"


# MOAA/S ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", range(6))
def test_moaas_total_is_the_rating(rating: int) -> None:
    result = score("moaas", [rating])
    assert (result.total, result.band) == (rating, None)
    assert result.flags == (("unresponsive",) if rating == 0 else ())


def test_moaas_labels_run_from_no_answer_to_answers_readily() -> None:
    options = get_instrument("moaas").items[0].options
    assert options[0].label == "No answer to a painful trapezius squeeze"
    assert options[5].label == "Answers readily to name said in a normal tone"


@pytest.mark.parametrize(
    ("pre_dose", "current", "sedated"), [(5, 4, True), (5, 5, False), (4, 5, False), (3, 0, True)]
)
def test_moaas_any_drop_counts_as_sedation(pre_dose: int, current: int, sedated: bool) -> None:
    assert sedation_from(pre_dose, current) is sedated


def test_moaas_sedation_refuses_an_impossible_rating() -> None:
    with pytest.raises(AnswerError, match="out of range 0-5"):
        sedation_from(6, 5)


# CADSS-6, ICSI, ICPI --------------------------------------------------------------------------


def test_cadss6_keeps_the_full_scale_item_numbers() -> None:
    ids = [item.id for item in get_instrument("cadss6").items]
    assert ids == ["cadss6-1", "cadss6-2", "cadss6-6", "cadss6-7", "cadss6-15", "cadss6-22"]


@pytest.mark.parametrize(("instrument_id", "item_maximum"), [("icsi", 5), ("icpi", 4)])
def test_interstitial_cystitis_indexes_sum_without_bands(
    instrument_id: str, item_maximum: int
) -> None:
    instrument = get_instrument(instrument_id)
    assert [item.options[-1].value for item in instrument.items] == [item_maximum] * 4
    result = score(instrument_id, [item_maximum, 1, 0, 2])
    assert (result.total, result.band, result.flags) == (item_maximum + 3, None, ())
    assert instrument.bands(DEFAULT) == ()


def test_cadss6_sums_without_a_band() -> None:
    result = score("cadss6", [CADSS_ITEM_MAXIMUM, 0, 1, 0, 0, 2])
    assert (result.total, result.band) == (CADSS_ITEM_MAXIMUM + 3, None)


# Refusals common to every instrument ----------------------------------------------------------


def test_missing_answer_is_refused() -> None:
    answers = {f"gad7-{n}": 0 for n in range(1, 7)}
    with pytest.raises(AnswerError, match=r"^gad7-7: no answer, but the item is asked$"):
        get_instrument("gad7").score(answers, DEFAULT)


def test_out_of_range_answer_is_refused() -> None:
    with pytest.raises(AnswerError, match=r"^phq9-4: answer 5 is out of range 0-3$") as caught:
        score("phq9", [0, 0, 0, 5, 0, 0, 0, 0, 0])
    assert caught.value.item_id == "phq9-4"
    assert caught.value.problem == "answer 5 is out of range 0-3"


def test_negative_answer_is_refused() -> None:
    with pytest.raises(AnswerError, match=r"^dast10-1: answer -1 is out of range 0-1$"):
        score("dast10", [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_non_integer_answer_is_refused(value: object) -> None:
    answers: dict[str, object] = {"moaas-1": value}
    with pytest.raises(AnswerError, match=r"^moaas-1: answer .* is not an integer$"):
        get_instrument("moaas").score(answers, DEFAULT)  # type: ignore[arg-type]


def test_unknown_item_is_refused() -> None:
    answers = {"moaas-1": 3, "moaas-2": 1}
    with pytest.raises(AnswerError, match=r"^moaas-2: not an item of moaas$"):
        get_instrument("moaas").score(answers, DEFAULT)


def test_answer_error_is_a_value_error() -> None:
    assert issubclass(AnswerError, ValueError)


def test_positional_answers_map_onto_item_ids_and_drop_skipped() -> None:
    cssrs = get_instrument("cssrs-screen")
    assert answers_from_positional(cssrs, [1, 0, None, None, None, 0, None]) == {
        "cssrs-1": 1,
        "cssrs-2": 0,
        "cssrs-6": 0,
    }


def test_positional_answers_refuse_the_wrong_count() -> None:
    with pytest.raises(AnswerError, match=r"^phq9: expected 9 answers \(phq9-1 … phq9-9\), got 8$"):
        answers_from_positional(get_instrument("phq9"), [0] * 8)


def test_to_dict_puts_instrument_fields_beside_the_common_ones() -> None:
    assert score("cssrs-screen", [1, 1, 0, 1, 0, 0, None]).to_dict() == {
        "instrument": "cssrs-screen",
        "total": None,
        "band": "high",
        "flags": ["high_risk"],
        "risk": "high",
    }

"""Properties over random valid answers: totals in range, bands that tile the range."""

import itertools
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ketaguard.screening.instruments import (
    INSTRUMENTS,
    AnswerError,
    Band,
    Instrument,
    ScoringContext,
)
from ketaguard.screening.instruments.cssrs import RISK_LEVELS

contexts = st.builds(
    ScoringContext,
    sex=st.sampled_from(["female", "male"]),
    supervised=st.booleans(),
    pcl5_cutoff=st.integers(1, 80),
    sds_cutoff=st.none() | st.integers(1, 15),
)

instruments = pytest.mark.parametrize("instrument", INSTRUMENTS.values(), ids=lambda i: i.id)


def asked_answers(data: st.DataObject, instrument: Instrument) -> dict[str, int]:
    """Answers to exactly the items that skip logic asks, given the answers drawn before."""
    answers: dict[str, int] = {}
    for item in instrument.items:
        if item.is_asked(answers):
            answers[item.id] = data.draw(st.sampled_from([o.value for o in item.options]))
    return answers


def assert_tiles(bands: tuple[Band, ...], total_range: tuple[int, int]) -> None:
    """Bands run from the lowest total to the highest with no gap, overlap or empty band."""
    assert bands[0].low == total_range[0]
    assert bands[-1].high == total_range[1]
    for band in bands:
        assert band.low <= band.high
    for before, after in itertools.pairwise(bands):
        assert after.low == before.high + 1
    assert len({band.name for band in bands}) == len(bands)


@instruments
@given(data=st.data(), context=contexts)
def test_totals_stay_in_range_and_fall_in_their_band(
    instrument: Instrument, data: st.DataObject, context: ScoringContext
) -> None:
    result = instrument.score(asked_answers(data, instrument), context)
    assert result.instrument == instrument.id
    bands = instrument.bands(context)
    if instrument.total_range is None:
        assert result.total is None
        assert result.band in RISK_LEVELS
        return
    assert result.total is not None
    low, high = instrument.total_range
    assert low <= result.total <= high
    matching = [band.name for band in bands if band.low <= result.total <= band.high]
    assert matching == ([result.band] if bands else [])
    if not bands:
        assert result.band is None


@instruments
@given(context=contexts)
def test_band_tables_cover_the_whole_range(instrument: Instrument, context: ScoringContext) -> None:
    bands = instrument.bands(context)
    if bands:
        assert instrument.total_range is not None
        assert_tiles(bands, instrument.total_range)


def test_which_instruments_have_band_tables() -> None:
    context = ScoringContext(sex="female")
    assert {i.id for i in INSTRUMENTS.values() if i.bands(context)} == {
        "phq9",
        "gad7",
        "pcl5",
        "dast10",
        "audit-c",
        "ketamine-use-disorder",
    }
    assert INSTRUMENTS["sds"].bands(ScoringContext(sds_cutoff=5))


@instruments
@given(data=st.data(), context=contexts)
def test_every_asked_answer_is_required(
    instrument: Instrument, data: st.DataObject, context: ScoringContext
) -> None:
    answers = asked_answers(data, instrument)
    dropped = data.draw(st.sampled_from(sorted(answers)))
    del answers[dropped]
    with pytest.raises(AnswerError) as caught:
        instrument.score(answers, context)
    assert caught.value.item_id == dropped


@pytest.mark.parametrize(
    "instrument",
    [i for i in INSTRUMENTS.values() if any(item.enable_when for item in i.items)],
    ids=lambda i: i.id,
)
@given(data=st.data(), context=contexts)
def test_an_item_skip_logic_leaves_out_cannot_be_answered(
    instrument: Instrument, data: st.DataObject, context: ScoringContext
) -> None:
    answers = asked_answers(data, instrument)
    skipped = [item for item in instrument.items if item.id not in answers]
    assume(skipped)
    item = data.draw(st.sampled_from(skipped))
    answers[item.id] = item.options[0].value
    with pytest.raises(AnswerError, match="must not be answered") as caught:
        instrument.score(answers, context)
    assert caught.value.item_id == item.id


@instruments
@given(data=st.data(), context=contexts)
def test_scores_are_json_objects(
    instrument: Instrument, data: st.DataObject, context: ScoringContext
) -> None:
    result = instrument.score(asked_answers(data, instrument), context).to_dict()
    assert json.loads(json.dumps(result)) == result

"""Time-ordered ids, checked against RFC 9562's own example."""

import copy
import time
import uuid

import pytest

from ketaguard.kit.ids import uuid7, uuid7_of, uuid7_run, uuid7s, uuids_of


def test_the_rfc_example_id() -> None:
    # RFC 9562, Appendix A.6: 2022-02-22 19:22:22.000 UTC, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F.
    random = 0xCC3 << 64 | 0x18C4DC0C0C07398F
    made = uuid7_of(0x017F22E279B0, random)
    assert made == uuid.UUID("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")
    assert (made.version, made.variant) == (7, uuid.RFC_4122)


def test_version_and_variant_bits_override_the_random_ones() -> None:
    made = uuid7_of(0, (1 << 80) - 1)
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert made.int >> 80 == 0


def test_a_batch_carries_this_millisecond_and_distinct_random_bits() -> None:
    before = time.time_ns() // 1_000_000
    batch = uuid7s(500)
    after = time.time_ns() // 1_000_000
    assert len(set(batch)) == 500
    assert {made.int >> 80 for made in batch} <= set(range(before, after + 1))
    assert all((made.version, made.variant) == (7, uuid.RFC_4122) for made in batch)


def test_a_batch_counts_up_from_random_bits() -> None:
    first, second = uuid7s(100), uuid7s(100)
    assert [made.int - first[0].int for made in first] == list(range(100))
    assert first[0].int & (1 << 62) - 1 != second[0].int & (1 << 62) - 1  # drawn afresh


@pytest.mark.parametrize("counter", [(1 << 62) - 500, (1 << 62) - 1])
def test_a_run_near_the_top_of_its_counter_stays_inside_it(counter: int) -> None:
    # Counting up from there, unchecked, would carry into the variant and the version.
    run = uuids_of(uuid7_run(0x017F22E279B0, (1 << 80) - 1 & ~((1 << 62) - 1) | counter, 500))
    assert len(set(run)) == 500
    assert run == sorted(run)
    assert all((made.version, made.variant) == (7, uuid.RFC_4122) for made in run)
    assert {made.int >> 80 for made in run} == {0x017F22E279B0}
    assert {made.int >> 64 & 0xFFF for made in run} == {0xFFF}  # rand_a untouched


def test_ids_made_later_sort_after_earlier_ones() -> None:
    earlier = uuid7()
    time.sleep(0.002)
    assert uuid7() > earlier
    assert uuid7().hex > earlier.hex  # as SQLite stores and orders them


def test_an_id_made_without_the_constructor_is_an_ordinary_uuid() -> None:
    made = uuid7()
    parsed = uuid.UUID(str(made))
    assert type(made) is uuid.UUID
    assert made == parsed
    assert hash(made) == hash(parsed)
    assert made.is_safe is parsed.is_safe is uuid.SafeUUID.unknown
    assert copy.deepcopy(made) == made
    with pytest.raises(TypeError):
        made.int = 0  # type: ignore[misc]  # as immutable as any UUID

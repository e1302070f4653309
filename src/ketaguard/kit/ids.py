"""Time-ordered ids for rows that arrive many a second.

A random (version 4) primary key puts each new row at a random page of the key's index, so a
commit of a hundred readings rewrites about a hundred index pages, and every one of them goes
through the write-ahead log. Version 7 ids (RFC 9562 §5.7) begin with the time in milliseconds,
so rows made together sit together at the end of the index and a commit touches a page or two.
They give away when the row was made, so they are for rows that carry that time anyway (a
vital-sign reading). Python 3.14's `uuid.uuid7` has the same layout.
"""

import os
import time
import uuid
from collections.abc import Iterable

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
# Of 80 random bits after the timestamp, the 74 that are neither the version nor the variant.
_RANDOM = ((1 << 80) - 1) & ~(0xF << 76) & ~(0b11 << 62)
_RANDOM_BYTES = 10
# rand_b: the 62 bits below the variant, where a run of ids counts up (see `uuid7_run`).
_COUNTER = (1 << 62) - 1
# Read once: an enum member looked up through its class costs as much as the rest of an id.
_SAFETY_UNKNOWN = uuid.SafeUUID.unknown


def uuid7_of(unix_ms: int, random: int) -> uuid.UUID:
    """The version 7 id of a Unix time in milliseconds and 80 random bits (6 of which give way
    to the version and the variant)."""
    return _uuid_of_int(unix_ms << 80 | _VERSION_7 | _VARIANT_RFC | random & _RANDOM)


def _uuid_of_int(value: int) -> uuid.UUID:
    """`uuid.UUID(int=value)` for a value known to fit, without the checks of its constructor,
    which cost more than making the id (a gateway's batch needs a hundred): what Python 3.14's
    `uuid.UUID._from_int` does."""
    made = object.__new__(uuid.UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", _SAFETY_UNKNOWN)
    return made


def uuid7_run(unix_ms: int, random: int, count: int) -> range:
    """The integers of `count` version 7 ids of one millisecond, each one more than the one before.

    RFC 9562 §6.2, method 2 (monotonic random): the first id takes the random bits, and each next
    id adds one to them, in the 62 bits after the variant. The first id's counter is brought low
    enough that the run never carries into the variant."""
    counter = (random & _COUNTER) % (_COUNTER - count + 2)
    first = uuid7_of(unix_ms, random & ~_COUNTER | counter).int
    return range(first, first + count)


def new_uuid7_run(count: int) -> range:
    """The integers of `count` new version 7 ids of this millisecond, in ascending order: one draw
    of random bytes for them all rather than one an id, which halves what a gateway's batch of a
    hundred costs."""
    return uuid7_run(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(_RANDOM_BYTES)), count)


def uuid7s(count: int) -> list[uuid.UUID]:
    """`count` new version 7 ids of this millisecond, in ascending order."""
    return uuids_of(new_uuid7_run(count))


def uuids_of(values: Iterable[int]) -> list[uuid.UUID]:
    return [_uuid_of_int(value) for value in values]


def uuid7() -> uuid.UUID:
    return uuid7s(1)[0]

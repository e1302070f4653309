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

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
# Of 80 random bits after the timestamp, the 74 that are neither the version nor the variant.
_RANDOM = ((1 << 80) - 1) & ~(0xF << 76) & ~(0b11 << 62)
_RANDOM_BYTES = 10
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


def uuid7s(count: int) -> list[uuid.UUID]:
    """`count` version 7 ids of this millisecond."""
    unix_ms = time.time_ns() // 1_000_000
    noise = os.urandom(_RANDOM_BYTES * count)
    return [
        uuid7_of(unix_ms, int.from_bytes(noise[at : at + _RANDOM_BYTES]))
        for at in range(0, len(noise), _RANDOM_BYTES)
    ]


def uuid7() -> uuid.UUID:
    return uuid7s(1)[0]

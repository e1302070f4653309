from datetime import UTC, datetime, timedelta, tzinfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def fixed_offset(zone: tzinfo | None) -> timedelta | None:
    """The offset of a zone that has one for all times, else None.

    A zone answers an offset for no particular time only if it has one offset for all: a fixed
    offset does (the standard library's, and pydantic's, which every time read from JSON carries);
    a region's zone, with daylight saving, answers None. Two times in such a zone compare by their
    fields alone, and a run of them needs the offset asked for once: pydantic's zone is slow to
    ask (pydantic/pydantic#7897)."""
    return None if zone is None else zone.utcoffset(None)

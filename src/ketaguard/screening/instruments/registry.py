"""Every instrument by id, and answers given as a positional list."""

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ketaguard.screening.instruments.auditc import AUDIT_C
from ketaguard.screening.instruments.base import AnswerError, Instrument
from ketaguard.screening.instruments.cadss6 import CADSS6
from ketaguard.screening.instruments.cssrs import CSSRS_SCREEN
from ketaguard.screening.instruments.dast10 import DAST10
from ketaguard.screening.instruments.gad7 import GAD7
from ketaguard.screening.instruments.ketamine_use_disorder import KETAMINE_USE_DISORDER
from ketaguard.screening.instruments.moaas import MOAAS
from ketaguard.screening.instruments.olearysant import ICPI, ICSI
from ketaguard.screening.instruments.pcl5 import PCL5
from ketaguard.screening.instruments.phq9 import PHQ9
from ketaguard.screening.instruments.sds import SDS

INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType(
    {
        instrument.id: instrument
        for instrument in (
            PHQ9,
            GAD7,
            PCL5,
            CSSRS_SCREEN,
            DAST10,
            AUDIT_C,
            SDS,
            KETAMINE_USE_DISORDER,
            MOAAS,
            CADSS6,
            ICSI,
            ICPI,
        )
    }
)


def get_instrument(instrument_id: str) -> Instrument:
    try:
        return INSTRUMENTS[instrument_id]
    except KeyError:
        known = ", ".join(sorted(INSTRUMENTS))
        raise KeyError(f"unknown instrument {instrument_id!r}; known: {known}") from None


def answers_from_positional(instrument: Instrument, values: Sequence[int | None]) -> dict[str, int]:
    """Answers in item order onto item ids; None marks an item that was not asked."""
    items = instrument.items
    if len(values) != len(items):
        raise AnswerError(
            instrument.id,
            f"expected {len(items)} answers ({items[0].id} … {items[-1].id}), got {len(values)}",
        )
    return {item.id: value for item, value in zip(items, values, strict=True) if value is not None}

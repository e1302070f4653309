"""One patient's treatment timeline: the facts the dependence detectors read.

The caller builds it from the database; here it is frozen values only. Every record carries the
id of the stored row it comes from, so a signal's evidence links back to it. Times must be
timezone-aware (naive ones raise ``ValueError``) and are kept in UTC; each tuple of records is
sorted by time, then id, when the timeline is built, so builders may pass records in any order.
Scores outside their instrument's range, unknown vocabulary and duplicate ids raise
``ValueError`` too.

What the timeline covers (one plan, how far back) is the caller's choice; the detectors read all
of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ketaguard.protocols.scheduling import RULE_IDS
from ketaguard.screening.findings import SubstanceUse, require_aware
from ketaguard.screening.instruments.auditc import AUDIT_C
from ketaguard.screening.instruments.base import Instrument
from ketaguard.screening.instruments.dast10 import DAST10
from ketaguard.screening.instruments.ketamine_use_disorder import ITEMS as DSM5_ITEMS
from ketaguard.screening.instruments.ketamine_use_disorder import counted
from ketaguard.screening.instruments.olearysant import ICSI
from ketaguard.screening.instruments.phq9 import PHQ9
from ketaguard.screening.instruments.sds import SDS

# The same vocabularies as `plans.models.RequestKind` and `RequestDecision`, which this pure
# package cannot import (they are ORM enums); a test keeps them equal.
RequestKind = Literal["extra", "earlier", "higher_dose"]
RequestDecision = Literal["pending", "granted", "declined"]
Phq9Source = Literal["screening", "check_in"]
# The reference's suggested in-clinic questions (§4.3).
UrinarySymptom = Literal[
    "daytime_frequency", "nocturia", "urgency", "dysuria", "haematuria", "bladder_pain"
]
# Reported anecdotally after stopping ketamine, "K-cramps" being abdominal pain (§4.2 [S118]).
WithdrawalLikeSymptom = Literal["anxiety", "low_mood", "fatigue", "abdominal_pain"]

REQUEST_KINDS = cast(tuple[RequestKind, ...], get_args(RequestKind))
REQUEST_DECISIONS = cast(tuple[RequestDecision, ...], get_args(RequestDecision))
PHQ9_SOURCES = cast(tuple[Phq9Source, ...], get_args(Phq9Source))
URINARY_SYMPTOMS = cast(tuple[UrinarySymptom, ...], get_args(UrinarySymptom))
WITHDRAWAL_LIKE_SYMPTOMS = cast(tuple[WithdrawalLikeSymptom, ...], get_args(WithdrawalLikeSymptom))
KETAMINE_NAMES = frozenset({"ketamine", "esketamine"})


def _total_range(instrument: Instrument) -> tuple[int, int]:
    if instrument.total_range is None:
        raise ValueError(f"{instrument.id} has no total range")
    return instrument.total_range


# The scale the pre-dose checklist records craving on (`sessions.schemas_run.PreDoseIn`).
CRAVING_RANGE = (0, 10)
# The instruments' own total ranges.
PHQ9_RANGE = _total_range(PHQ9)
DAST10_RANGE = _total_range(DAST10)
AUDIT_C_RANGE = _total_range(AUDIT_C)
SDS_RANGE = _total_range(SDS)
ICSI_RANGE = _total_range(ICSI)


def _utc(value: datetime, name: str) -> datetime:
    require_aware(value, name)
    return value.astimezone(UTC)


def _in_range(value: int | None, bounds: tuple[int, int], name: str) -> None:
    low, high = bounds
    if value is not None and not low <= value <= high:
        raise ValueError(f"{name} {value} is outside {low}-{high}")


def _positive(value: float, name: str) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of mg, got {value}")


def _id(value: str, name: str) -> None:
    if not value.strip():
        raise ValueError(f"{name} must not be blank")


def _unknown(values: frozenset[str], known: tuple[str, ...], name: str) -> None:
    unknown = sorted(values - set(known))
    if unknown:
        raise ValueError(f"Unknown {name}: {unknown}")


# --- Plan and sessions ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlanRecord:
    """The treatment plan: its dose, the protocol's maximum per session, and where it runs."""

    plan_id: str
    dose_mg: float
    max_dose_mg: float
    start_date: date  # local date (clinic timezone) of week 1, day 1
    timezone: str  # the clinic's IANA timezone: signals show local dates, windows count them

    def __post_init__(self) -> None:
        _id(self.plan_id, "plan_id")
        _positive(self.dose_mg, "dose_mg")
        _positive(self.max_dose_mg, "max_dose_mg")
        if isinstance(self.start_date, datetime):
            raise ValueError("start_date must be a date, not a datetime")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"Unknown timezone {self.timezone!r}") from error

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, kw_only=True)
class DosedSession:
    """A session at which a dose was given. ``overridden_rules`` (booking rule ids) and
    ``override_reason`` are set when a prescriber booked it past the plan's limits."""

    session_id: str
    dosed_at: datetime
    planned_dose_mg: float
    given_dose_mg: float
    overridden_rules: tuple[str, ...] = ()
    override_reason: str | None = None

    def __post_init__(self) -> None:
        _id(self.session_id, "session_id")
        object.__setattr__(self, "dosed_at", _utc(self.dosed_at, "dosed_at"))
        _positive(self.planned_dose_mg, "planned_dose_mg")
        _positive(self.given_dose_mg, "given_dose_mg")
        _unknown(frozenset(self.overridden_rules), RULE_IDS, "overridden rule(s)")
        if bool(self.overridden_rules) != bool((self.override_reason or "").strip()):
            raise ValueError("An override needs both the overridden rules and the reason")


@dataclass(frozen=True, kw_only=True)
class BookedOverride:
    """A session a prescriber booked past the plan's limits and that has no dose yet: the
    override is there to see from the booking on, not only once the dose is given (then the
    session is a ``DosedSession`` instead)."""

    session_id: str
    booked_at: datetime
    scheduled_at: datetime
    planned_dose_mg: float
    overridden_rules: tuple[str, ...]
    override_reason: str

    def __post_init__(self) -> None:
        _id(self.session_id, "session_id")
        object.__setattr__(self, "booked_at", _utc(self.booked_at, "booked_at"))
        object.__setattr__(self, "scheduled_at", _utc(self.scheduled_at, "scheduled_at"))
        _positive(self.planned_dose_mg, "planned_dose_mg")
        _unknown(frozenset(self.overridden_rules), RULE_IDS, "overridden rule(s)")
        if not self.overridden_rules or not self.override_reason.strip():
            raise ValueError("An override needs both the overridden rules and the reason")


@dataclass(frozen=True, kw_only=True)
class PreDoseReport:
    """What the patient told staff before a session's dose (stored on the session).

    ``substance_use`` is the free-text answer about use since the last session; the builder
    passes None when it reports no use.
    """

    session_id: str
    at: datetime
    craving: int | None
    substance_use: str | None

    def __post_init__(self) -> None:
        _id(self.session_id, "session_id")
        object.__setattr__(self, "at", _utc(self.at, "at"))
        _in_range(self.craving, CRAVING_RANGE, "craving")
        if self.substance_use is not None and not self.substance_use.strip():
            raise ValueError("substance_use must be None or say what was used")


# --- Scores and check-ins ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Phq9Score:
    """A PHQ-9 total, taken at screening or at a check-in. ``record_id`` is the screening
    response holding it: check-ins store their questionnaires as screening responses too."""

    record_id: str
    at: datetime
    total: int
    source: Phq9Source

    def __post_init__(self) -> None:
        _id(self.record_id, "record_id")
        object.__setattr__(self, "at", _utc(self.at, "at"))
        _in_range(self.total, PHQ9_RANGE, "PHQ-9 total")
        if self.source not in PHQ9_SOURCES:
            raise ValueError(f"Unknown PHQ-9 source {self.source!r}")


@dataclass(frozen=True, kw_only=True)
class OutsideUse:
    """One substance the patient reports using outside sessions."""

    substance: str
    used_on: date | None  # local date, if the patient said
    amount: str | None
    is_ketamine: bool

    def __post_init__(self) -> None:
        _id(self.substance, "substance")
        if not self.is_ketamine and self.substance.strip().casefold() in KETAMINE_NAMES:
            raise ValueError(f"{self.substance!r} is ketamine: set is_ketamine")


@dataclass(frozen=True, kw_only=True)
class CheckIn:
    """A patient check-in between sessions. The defaults mean "nothing reported";
    ``urinary`` is None when the urinary questions were not asked, empty when all were no."""

    check_in_id: str
    at: datetime
    craving: int | None = None
    outside_use: tuple[OutsideUse, ...] = ()
    withdrawal_like: frozenset[WithdrawalLikeSymptom] = frozenset()
    urinary: frozenset[UrinarySymptom] | None = None
    icsi_total: int | None = None
    memory_complaint: bool = False
    sds_total: int | None = None

    def __post_init__(self) -> None:
        _id(self.check_in_id, "check_in_id")
        object.__setattr__(self, "at", _utc(self.at, "at"))
        _in_range(self.craving, CRAVING_RANGE, "craving")
        _unknown(self.withdrawal_like, WITHDRAWAL_LIKE_SYMPTOMS, "withdrawal-like symptom(s)")
        if self.urinary is not None:
            _unknown(self.urinary, URINARY_SYMPTOMS, "urinary symptom(s)")
        _in_range(self.icsi_total, ICSI_RANGE, "ICSI total")
        _in_range(self.sds_total, SDS_RANGE, "SDS total")


@dataclass(frozen=True, kw_only=True)
class RequestRecord:
    """A patient's request for an extra, earlier or higher-dose session, whatever the answer."""

    request_id: str
    at: datetime
    kind: RequestKind
    decision: RequestDecision
    details: str = ""

    def __post_init__(self) -> None:
        _id(self.request_id, "request_id")
        object.__setattr__(self, "at", _utc(self.at, "at"))
        if self.kind not in REQUEST_KINDS:
            raise ValueError(f"Unknown request kind {self.kind!r}")
        if self.decision not in REQUEST_DECISIONS:
            raise ValueError(f"Unknown request decision {self.decision!r}")


@dataclass(frozen=True, kw_only=True)
class Dsm5Checklist:
    """A clinician's DSM-5 ketamine use disorder checklist (the ``ketamine-use-disorder``
    screening instrument): the criteria met, by item id, and whether the patient takes ketamine
    only under medical supervision, in which case tolerance is not counted (§4.1 [S115])."""

    record_id: str
    at: datetime
    criteria_met: frozenset[str]
    supervised: bool

    def __post_init__(self) -> None:
        _id(self.record_id, "record_id")
        object.__setattr__(self, "at", _utc(self.at, "at"))
        _unknown(self.criteria_met, tuple(item.id for item in DSM5_ITEMS), "DSM-5 criteria")

    @property
    def counted(self) -> tuple[str, ...]:
        """The criteria that count, in item order (the instrument's own counting rule)."""
        answers = {item.id: int(item.id in self.criteria_met) for item in DSM5_ITEMS}
        return counted(answers, self.supervised)


# --- Screening baseline --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InstrumentTotal:
    """One screening response's total."""

    response_id: str
    at: datetime
    total: int

    def __post_init__(self) -> None:
        _id(self.response_id, "response_id")
        object.__setattr__(self, "at", _utc(self.at, "at"))


@dataclass(frozen=True, kw_only=True)
class AuditCResult:
    """An AUDIT-C response: ``positive`` is the instrument's sex-specific reading (§3.1)."""

    response_id: str
    at: datetime
    total: int
    positive: bool

    def __post_init__(self) -> None:
        _id(self.response_id, "response_id")
        object.__setattr__(self, "at", _utc(self.at, "at"))
        _in_range(self.total, AUDIT_C_RANGE, "AUDIT-C total")


@dataclass(frozen=True, kw_only=True)
class SubstanceHistory:
    """The substance-use history of the patient's current intake version: a use disclosed after
    the eligibility decision weighs the signals as much as one disclosed before it."""

    intake_id: str
    recorded_at: datetime
    uses: tuple[SubstanceUse, ...]

    def __post_init__(self) -> None:
        _id(self.intake_id, "intake_id")
        object.__setattr__(self, "recorded_at", _utc(self.recorded_at, "recorded_at"))


@dataclass(frozen=True, kw_only=True)
class ScreeningBaseline:
    """What screening knew before treatment; None where nothing was recorded."""

    dast10: InstrumentTotal | None = None
    audit_c: AuditCResult | None = None
    sds: InstrumentTotal | None = None
    substance_history: SubstanceHistory | None = None

    def __post_init__(self) -> None:
        if self.dast10 is not None:
            _in_range(self.dast10.total, DAST10_RANGE, "DAST-10 total")
        if self.sds is not None:
            _in_range(self.sds.total, SDS_RANGE, "SDS total")


# --- The timeline --------------------------------------------------------------------------------


_R = (
    DosedSession
    | BookedOverride
    | PreDoseReport
    | Phq9Score
    | CheckIn
    | RequestRecord
    | Dsm5Checklist
)


def _record_id(record: _R) -> str:
    if isinstance(record, DosedSession | BookedOverride | PreDoseReport):
        return record.session_id
    if isinstance(record, CheckIn):
        return record.check_in_id
    if isinstance(record, RequestRecord):
        return record.request_id
    return record.record_id


def _record_at(record: _R) -> datetime:
    if isinstance(record, DosedSession):
        return record.dosed_at
    return record.booked_at if isinstance(record, BookedOverride) else record.at


def _sorted(records: tuple[_R, ...], name: str) -> tuple[_R, ...]:
    ids = [_record_id(r) for r in records]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{name}: duplicate ids {duplicates}")
    return tuple(sorted(records, key=lambda r: (_record_at(r), _record_id(r))))


@dataclass(frozen=True, kw_only=True)
class PatientTimeline:
    """Everything the detectors read about one patient under one plan.

    ``phq9_baseline`` is the pre-treatment PHQ-9 that response is measured from; ``phq9`` holds
    the later scores, none before the baseline.
    """

    patient_id: str
    plan: PlanRecord
    baseline: ScreeningBaseline = field(default_factory=ScreeningBaseline)
    sessions: tuple[DosedSession, ...] = ()
    booked_overrides: tuple[BookedOverride, ...] = ()
    pre_dose_reports: tuple[PreDoseReport, ...] = ()
    phq9_baseline: Phq9Score | None = None
    phq9: tuple[Phq9Score, ...] = ()
    check_ins: tuple[CheckIn, ...] = ()
    requests: tuple[RequestRecord, ...] = ()
    dsm5_checklists: tuple[Dsm5Checklist, ...] = ()
    # SDS and ICSI given through screening outside a check-in (periodic re-screening, §7), other
    # than the SDS the eligibility decision read (``baseline.sds``).
    sds_rescreens: tuple[InstrumentTotal, ...] = ()
    icsi_rescreens: tuple[InstrumentTotal, ...] = ()

    def __post_init__(self) -> None:
        _id(self.patient_id, "patient_id")
        for name, total_range in (("sds_rescreens", SDS_RANGE), ("icsi_rescreens", ICSI_RANGE)):
            totals: tuple[InstrumentTotal, ...] = getattr(self, name)
            for total in totals:
                _in_range(total.total, total_range, name)
            ordered = tuple(sorted(totals, key=lambda t: (t.at, t.response_id)))
            object.__setattr__(self, name, ordered)
        for name in (
            "sessions",
            "booked_overrides",
            "pre_dose_reports",
            "phq9",
            "check_ins",
            "requests",
            "dsm5_checklists",
        ):
            object.__setattr__(self, name, _sorted(getattr(self, name), name))
        dosed = {s.session_id for s in self.sessions}
        both = sorted(dosed & {b.session_id for b in self.booked_overrides})
        if both:
            raise ValueError(f"booked_overrides: sessions {both} are dosed; list them once")
        baseline = self.phq9_baseline
        if baseline is not None:
            if any(p.at < baseline.at for p in self.phq9):
                raise ValueError("phq9: a score is earlier than the PHQ-9 baseline")
            if any(p.record_id == baseline.record_id for p in self.phq9):
                raise ValueError("phq9: the baseline is listed again among the later scores")

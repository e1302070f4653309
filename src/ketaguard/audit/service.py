"""The hash-chained audit trail: appending, verifying, searching and exporting."""

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    UnaryExpression,
    bindparam,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from ketaguard.audit.models import AuditEvent, AuditHead, Outcome
from ketaguard.audit.schemas import ACTION_PREFIX_WILDCARD, AccessHistoryEntry, AuditFilter
from ketaguard.auth.models import User
from ketaguard.kit.errors import InvalidInput
from ketaguard.kit.time import utcnow

GENESIS_HASH = "0" * 64

# The fields that the hash covers, in a fixed order. Changing this list breaks every chain.
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_user_id",
    "actor_token_id",
    "actor_role",
    "organisation_id",
    "clinic_id",
    "patient_id",
    "resource_type",
    "resource_id",
    "address",
    "user_agent",
    "detail",
    "prev_hash",
)


# Column sizes of the fields callers fill with free values, read from the model.
_LIMITED_LENGTHS = {
    name: cast(String, AuditEvent.__table__.c[name].type).length or 0
    for name in ("action", "resource_type", "resource_id")
}


@dataclass(frozen=True)
class AuditContext:
    """Who acts and from where; built once per request (or CLI command)."""

    actor_user_id: uuid.UUID | None = None
    actor_token_id: uuid.UUID | None = None
    actor_role: str | None = None
    organisation_id: uuid.UUID | None = None
    address: str | None = None
    user_agent: str | None = None


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def event_hash(event: AuditEvent) -> str:
    content = {name: _canonical(getattr(event, name)) for name in HASHED_FIELDS}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def record(
    db: Session,
    context: AuditContext,
    action: str,
    *,
    outcome: Outcome = Outcome.success,
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    resource_type: str | None = None,
    resource_id: str | uuid.UUID | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, so it commits or rolls back with the change.

    The event joins the chain when the transaction next flushes (at the latest, as it commits):
    only then is the head row locked, so concurrent transactions append one after the other and
    the chain never forks, while the lock is held for as short a time as the commit allows.
    """
    resource = str(resource_id) if resource_id is not None else None
    for name, value in (
        ("action", action),
        ("resource_type", resource_type),
        ("resource_id", resource),
    ):
        limit = _LIMITED_LENGTHS[name]
        if value is not None and len(value) > limit:
            # SQLite would store it and PostgreSQL refuse it: refuse it the same way everywhere.
            raise ValueError(f"audit {name} longer than {limit} characters: {value!r}")
    if context.actor_token_id is not None:
        # This event names the token as its actor: it is the audit of the token's use.
        db.info.pop(_PENDING_TOKEN_USE, None)
    event = AuditEvent(
        occurred_at=utcnow(),
        action=action,
        outcome=outcome.value,
        actor_user_id=context.actor_user_id,
        actor_token_id=context.actor_token_id,
        actor_role=context.actor_role,
        organisation_id=context.organisation_id,
        clinic_id=clinic_id,
        patient_id=patient_id,
        resource_type=resource_type,
        resource_id=resource,
        address=context.address,
        user_agent=context.user_agent[:400] if context.user_agent else None,
        detail=json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), default=str),
    )
    deferred: list[AuditEvent] | None = db.info.get(_DEFERRED)
    if deferred is not None:
        deferred.append(event)
        return event
    db.add(event)
    db.info.setdefault(_UNCHAINED, []).append(event)
    return event


_UNCHAINED = "ketaguard.audit.unchained"


def _chain(db: Session, events: list[AuditEvent]) -> None:
    with db.no_autoflush:
        # populate_existing: the head as stored now, though a plain statement moved it since
        # this session last loaded it (`chain_deferred`).
        locked = select(AuditHead).where(AuditHead.id == 1).with_for_update()
        head = db.scalars(locked.execution_options(populate_existing=True)).one()
    head.seq, head.hash = _link(events, head.seq, head.hash)


def _link(events: list[AuditEvent], seq: int, head_hash: str) -> tuple[int, str]:
    """Number and hash the events after the head (`seq`, `head_hash`); the new head."""
    for event in events:
        event.seq, event.prev_hash = seq + 1, head_hash
        event.hash = event_hash(event)
        seq, head_hash = event.seq, event.hash
    return seq, head_hash


@orm_event.listens_for(Session, "before_flush")
def _chain_recorded_events(db: Session, *_: Any) -> None:
    unchained: list[AuditEvent] = db.info.pop(_UNCHAINED, [])
    if unchained:
        _chain(db, unchained)


# A group commit runs many requests' work in one transaction (`ketaguard.db.group_commit`). If
# each flush locked the audit head, the group would hold it while it goes on to lock the next
# request's rows, and two groups (two server processes) could each wait for the other. Deferred,
# the group's events join the chain together, as the last thing before the commit.
_DEFERRED = "ketaguard.audit.deferred"
_DEFERRED_MARKS = "ketaguard.audit.deferred_marks"
# A group's events go in through plain statements: through the ORM's unit of work, the events
# of a group of single readings cost half as much as the readings' own work.
_LOCKED_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_MOVED_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_EVENT_COLUMNS = tuple(AuditEvent.__table__.columns.keys())


def defer_chaining(db: Session) -> None:
    """Hold the events recorded from now on out of the session until `chain_deferred`."""
    db.info[_DEFERRED] = []
    db.info[_DEFERRED_MARKS] = {}


def chain_deferred(db: Session) -> None:
    """Chain the held events in the order they were recorded and store them; the events
    recorded from now on join the chain as the session flushes, as usual."""
    events: list[AuditEvent] = db.info.pop(_DEFERRED, [])
    db.info.pop(_DEFERRED_MARKS, None)
    if not events:
        return
    db.flush()  # the plain statements below must see, and not overtake, what the ORM holds
    connection = db.connection()
    seq, head_hash = _link(events, *connection.execute(_LOCKED_HEAD).one())
    rows = [{name: getattr(event, name) for name in _EVENT_COLUMNS} for event in events]
    connection.execute(insert(AuditEvent), rows)
    connection.execute(_MOVED_HEAD, {"new_seq": seq, "new_hash": head_hash})


@orm_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(db: Session, transaction: SessionTransaction) -> None:
    if transaction.nested and _DEFERRED in db.info:
        db.info[_DEFERRED_MARKS][transaction] = len(db.info[_DEFERRED])


_PENDING_TOKEN_USE = "ketaguard.audit.pending_token_use"  # noqa: S105 - a key, not a secret


def record_token_use(
    db: Session, context: AuditContext, *, clinic_id: uuid.UUID | None, detail: Mapping[str, Any]
) -> None:
    """Audit a request made with an API token, as it commits, unless it audits itself.

    Any event the request records names the token as its actor, so it is the audit of this use;
    a request that records nothing else gets an `auth.token` event of its own. Recording it up
    front instead would hold the audit head's lock, and so every other writer, for the whole
    request.
    """
    db.info[_PENDING_TOKEN_USE] = (context, clinic_id, dict(detail))


@orm_event.listens_for(Session, "before_commit")
def _record_pending_token_use(db: Session) -> None:
    pending = db.info.pop(_PENDING_TOKEN_USE, None)
    if pending is not None:
        context, clinic_id, detail = pending
        record(db, context, "auth.token", clinic_id=clinic_id, detail=detail)


@orm_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_events(db: Session, previous: SessionTransaction) -> None:
    # Starting a savepoint flushes, so whatever is unchained was recorded inside the one rolled
    # back and went with it. The request's token use goes only with the whole transaction.
    db.info.pop(_UNCHAINED, None)
    if not previous.nested:
        db.info.pop(_PENDING_TOKEN_USE, None)
    elif (mark := db.info.get(_DEFERRED_MARKS, {}).pop(previous, None)) is not None:
        del db.info[_DEFERRED][mark:]


# Large enough to keep round trips few, small enough that a long trail never sits in memory.
VERIFY_BATCH_SIZE = 500

_COLUMNS = inspect(AuditEvent).columns
EVENT_FIELDS = tuple(_COLUMNS.keys())

# A spreadsheet treats a cell starting with one of these as a formula ("CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ChainReport:
    """checked counts the events found sound: all of them when ok, else those before the fault."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def _broken(checked: int, first_bad_seq: int | None, problem: str) -> ChainReport:
    return ChainReport(ok=False, checked=checked, first_bad_seq=first_bad_seq, problem=problem)


def _read_head(db: Session) -> tuple[int, str] | None:
    # Plain columns, not the ORM object, so a second read sees the database and not the session.
    row = db.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one_or_none()
    return None if row is None else (row.seq, row.hash)


def _missing(first: int, last: int) -> str:
    return f"event {first} is missing" if first == last else f"events {first} to {last} are missing"


def _link_problem(event: AuditEvent, previous_seq: int, previous_hash: str) -> str | None:
    expected = previous_seq + 1
    if event.seq < expected:
        return f"event {event.seq} is out of sequence: the trail must start at event 1"
    if event.seq > expected:
        jump = (
            f"the trail jumps from event {previous_seq} to event {event.seq}"
            if previous_seq
            else f"the trail starts at event {event.seq}"
        )
        return f"{_missing(expected, event.seq - 1)}: {jump}"
    if event.prev_hash != previous_hash:
        return (
            f"event {event.seq} does not chain from event {previous_seq}: "
            "events were removed, inserted or reordered"
        )
    if event_hash(event) != event.hash:
        return f"event {event.seq} was altered: its content no longer matches its hash"
    return None


def verify_chain(db: Session) -> ChainReport:
    """Walk the whole trail in order and report the first event that breaks it.

    Catches events removed, inserted, altered or reordered, and the newest events removed (through
    the head). Someone who can write the database can still rewrite every hash from an altered
    event onwards, head included; only a copy of the head kept out of their reach shows that.
    """
    # Read before the events: an append committed during the walk then only adds events past the
    # head, and cannot make removed events look present.
    head = _read_head(db)
    if head is None:
        return _broken(0, None, "the audit head is missing, so removed events cannot be ruled out")
    head_seq, head_hash = head
    if head_seq == 0 and head_hash != GENESIS_HASH:
        return _broken(0, None, "the audit head records no events but holds a hash")

    checked, last_hash = 0, GENESIS_HASH
    statement = (
        select(AuditEvent)
        .order_by(AuditEvent.seq)
        # populate_existing: check what is stored, not copies this session already holds.
        .execution_options(yield_per=VERIFY_BATCH_SIZE, populate_existing=True)
    )
    with db.scalars(statement) as events:
        for event in events:
            problem = _link_problem(event, checked, last_hash)
            if problem is None and event.seq == head_seq and event.hash != head_hash:
                problem = f"event {head_seq} does not match the audit head"
            if problem is not None:
                return _broken(checked, min(event.seq, checked + 1), problem)
            checked, last_hash = event.seq, event.hash

    if checked < head_seq:
        return _broken(
            checked,
            checked + 1,
            f"{_missing(checked + 1, head_seq)}: the trail ends at event {checked} "
            f"but the audit head records event {head_seq}",
        )
    if checked > head_seq:
        # Events past the head read above are fine if they were appended meanwhile: the head has
        # then moved at least as far. If it has not, they were written behind ketaguard's back.
        latest_seq, latest_hash = _read_head(db) or head
        if latest_seq < checked:
            return _broken(
                checked,
                latest_seq + 1,
                f"event {latest_seq + 1} is past the audit head (event {latest_seq}): "
                "it was added outside ketaguard",
            )
        if latest_seq == checked and latest_hash != last_hash:
            return _broken(checked, checked, f"event {checked} does not match the audit head")
    return ChainReport(ok=True, checked=checked)


def _conditions(
    organisation_id: uuid.UUID | None, filters: AuditFilter
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if organisation_id is not None:
        conditions.append(AuditEvent.organisation_id == organisation_id)
    if filters.actor_user_id is not None:
        conditions.append(AuditEvent.actor_user_id == filters.actor_user_id)
    if filters.patient_id is not None:
        conditions.append(AuditEvent.patient_id == filters.patient_id)
    if filters.action is not None:
        if filters.action.endswith(ACTION_PREFIX_WILDCARD):
            # Keep the dot: "auth.*" matches "auth.login", not "authority.x". LIKE would ignore
            # case on SQLite only; comparing the leading characters is exact on both databases.
            prefix = filters.action.removesuffix("*")
            conditions.append(func.substr(AuditEvent.action, 1, len(prefix)) == prefix)
        else:
            conditions.append(AuditEvent.action == filters.action)
    if filters.since is not None:
        conditions.append(AuditEvent.occurred_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEvent.occurred_at < filters.until)
    return conditions


def _ordering(sort: str, descending: bool) -> list[UnaryExpression[Any]]:
    column = _COLUMNS.get(sort)
    if column is None:
        raise InvalidInput(
            f"Cannot sort audit events by {sort!r}; choose one of: {', '.join(EVENT_FIELDS)}",
            allowed=list(EVENT_FIELDS),
        )
    # NULL sorts as the largest value, the order PostgreSQL's indexes use; SQLite would put it
    # first, and both databases must page through the same order.
    columns = [column] if sort == "seq" else [column, _COLUMNS["seq"]]
    if descending:
        return [c.desc().nulls_first() if c.nullable else c.desc() for c in columns]
    return [c.asc().nulls_last() if c.nullable else c.asc() for c in columns]


def search_events(
    db: Session,
    *,
    organisation_id: uuid.UUID | None,
    filters: AuditFilter,
    sort: str = "seq",
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """One page of events matching the filters; organisation_id None searches every organisation.

    seq breaks ties, so pages never overlap or skip events that share a sort value.
    """
    if limit < 1 or offset < 0:
        raise InvalidInput("limit must be at least 1 and offset must not be negative")
    statement = (
        select(AuditEvent)
        .where(*_conditions(organisation_id, filters))
        .order_by(*_ordering(sort, descending))
        .limit(limit)
        .offset(offset)
    )
    return list(db.scalars(statement))


def count_events(db: Session, *, organisation_id: uuid.UUID | None, filters: AuditFilter) -> int:
    statement = (
        select(func.count()).select_from(AuditEvent).where(*_conditions(organisation_id, filters))
    )
    return db.scalar(statement) or 0


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    text = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)
    # The apostrophe makes spreadsheets show the text instead of running it (OWASP's advice).
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def events_to_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    """CSV lines, header first, one per event: ready to stream or to join into a file."""
    yield _csv_line(EVENT_FIELDS)
    for event in events:
        yield _csv_line([_csv_cell(getattr(event, name)) for name in EVENT_FIELDS])


# Excel reads a UTF-8 CSV as such only when the file starts with a byte-order mark.
CSV_BOM = "\ufeff"
CSV_EXPORT_LIMIT = 100_000


def csv_document(events: Iterable[AuditEvent]) -> Iterator[str]:
    """A whole CSV file of the events, as spreadsheets open it."""
    yield CSV_BOM
    yield from events_to_csv(events)


@dataclass(frozen=True)
class ReportPage:
    total: int
    events: list[AuditEvent]


def read_report(
    db: Session,
    context: AuditContext,
    *,
    organisation_id: uuid.UUID,
    filters: AuditFilter,
    sort: str = "seq",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> ReportPage:
    """One page of an organisation's audit report; reading it is itself audited."""
    # Counted before the read is recorded, so the total never includes the read itself.
    total = count_events(db, organisation_id=organisation_id, filters=filters)
    events = _audited_search(
        db,
        context,
        "audit.read",
        organisation_id=organisation_id,
        filters=filters,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return ReportPage(total=total, events=events)


def export_report(
    db: Session,
    context: AuditContext,
    *,
    organisation_id: uuid.UUID,
    filters: AuditFilter,
    sort: str = "seq",
    descending: bool = False,
) -> list[AuditEvent]:
    """The events of an organisation's audit report for a CSV file; the export is audited."""
    return _audited_search(
        db,
        context,
        "audit.export",
        organisation_id=organisation_id,
        filters=filters,
        sort=sort,
        descending=descending,
        limit=CSV_EXPORT_LIMIT,
    )


def _audited_search(
    db: Session,
    context: AuditContext,
    action: str,
    *,
    organisation_id: uuid.UUID,
    filters: AuditFilter,
    sort: str,
    descending: bool,
    limit: int,
    offset: int = 0,
) -> list[AuditEvent]:
    events = search_events(
        db,
        organisation_id=organisation_id,
        filters=filters,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    record(
        db,
        context,
        action,
        resource_type="audit_event",
        detail={"filters": filters.model_dump(mode="json", exclude_none=True), "rows": len(events)},
    )
    return events


# A patient's history page shows recent accesses; the full record stays in the admin report.
ACCESS_HISTORY_LIMIT = 500


def access_history(db: Session, patient_id: uuid.UUID) -> list[AccessHistoryEntry]:
    """Who opened or changed a patient's record, newest first, named as the patient knows them."""
    rows = db.execute(
        select(AuditEvent, User.full_name)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.seq.desc())
        .limit(ACCESS_HISTORY_LIMIT)
    )
    return [
        AccessHistoryEntry(
            occurred_at=event.occurred_at,
            action=event.action,
            outcome=Outcome(event.outcome),
            by=name or ("a connected device" if event.actor_token_id else "the clinic's system"),
            role=event.actor_role,
        )
        for event, name in rows
    ]

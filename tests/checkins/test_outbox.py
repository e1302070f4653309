"""Reminders into the outbox, and the outbox out: claimed once, sent once, retried, given up."""

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ketaguard.audit.models import AuditEvent
from ketaguard.checkins import outbox
from ketaguard.checkins.models import CheckinDue, OutboxChannel, OutboxMessage, OutboxStatus
from ketaguard.checkins.reminders import BODY, SUBJECT, queue_reminders
from ketaguard.checkins.worker import WORKER, run_checkin_jobs
from ketaguard.cli import app
from ketaguard.config import ConfigurationError, Settings
from ketaguard.db.engine import build_sessionmaker
from ketaguard.db.session import unit_of_work
from ketaguard.kit.time import utcnow
from tests.factories import Personas

# Words that would tell whoever reads an e-mail or SMS what the patient is treated for.
CLINICAL_WORDS = (
    "ketamine",
    "esketamine",
    "spravato",
    "depress",
    "mood",
    "phq",
    "craving",
    "dose",
    "session",
    "treatment",
    "clinic",
    "symptom",
    "check-in",
    "suicid",
)


def test_reminder_wording_says_nothing_clinical() -> None:
    text = f"{SUBJECT}\n{BODY}".lower()
    assert [word for word in CLINICAL_WORDS if word in text] == []


def test_each_open_check_in_gets_one_reminder_to_the_patients_account(
    eligible: Personas, db: Session, open_due: CheckinDue
) -> None:
    now = utcnow()
    [message] = queue_reminders(db, WORKER, now)
    assert message.recipient == eligible.patient_user_a.email
    assert (message.subject, message.body) == (SUBJECT, BODY)
    assert message.status is OutboxStatus.pending
    assert message.patient_id == eligible.patient_a.id
    assert queue_reminders(db, WORKER, now + timedelta(minutes=1)) == []
    db.refresh(open_due)
    assert open_due.reminder_queued_at == now
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "checkin.reminder")).one()
    assert audited.resource_id == str(message.id)


def test_no_reminder_for_a_patient_without_an_active_account(
    eligible: Personas, db: Session, open_due: CheckinDue
) -> None:
    eligible.patient_user_a.is_active = False
    db.flush()
    assert queue_reminders(db, WORKER, utcnow()) == []
    db.refresh(open_due)
    assert open_due.reminder_queued_at is not None
    assert db.scalars(select(OutboxMessage)).all() == []


def test_the_worker_jobs_report_what_they_did(
    eligible: Personas, db: Session, open_due: CheckinDue
) -> None:
    result = run_checkin_jobs(db, utcnow())
    assert (result.weekly, result.missed, result.reminders) == (0, 0, 1)
    later = run_checkin_jobs(db, open_due.closes_at)
    assert (later.missed, later.reminders) == (1, 0)


@dataclass
class Recording:
    sent: list[str] = field(default_factory=list)
    fail_with: Exception | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: outbox.OutgoingMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        with self.lock:
            self.sent.append(message.recipient)


def recording_delivery(settings: Settings) -> Recording:
    """A delivery factory as an operator would name one in KETAGUARD_OUTBOX_DELIVERY."""
    return Recording()


def _queue(factory: sessionmaker[Session], count: int) -> list[uuid.UUID]:
    with unit_of_work(factory) as db:
        return [
            outbox.queue(
                db,
                dedupe_key=f"test:{uuid.uuid4()}",
                recipient=f"person{n}@example.org",
                channel=OutboxChannel.email,
                subject="s",
                body="b",
                not_before=utcnow() - timedelta(seconds=1),
            ).id
            for n in range(count)
        ]


def _statuses(factory: sessionmaker[Session]) -> list[tuple[OutboxStatus, int]]:
    with unit_of_work(factory) as db:
        return [(m.status, m.attempts) for m in db.scalars(select(OutboxMessage))]


def test_a_claimed_message_cannot_be_claimed_again_until_the_claim_runs_out(
    scratch_engine: Engine,
) -> None:
    factory = build_sessionmaker(scratch_engine)
    [message_id] = _queue(factory, 1)
    now, claim_for = utcnow(), timedelta(minutes=5)
    with unit_of_work(factory) as first:
        assert outbox.claim(first, message_id, now, claim_for)
    with unit_of_work(factory) as second:
        assert not outbox.claim(second, message_id, now + timedelta(minutes=1), claim_for)
    with unit_of_work(factory) as after_a_crash:
        assert outbox.claim(after_a_crash, message_id, now + claim_for, claim_for)


def test_two_workers_never_send_one_message_twice(scratch_engine: Engine, scratch_url: str) -> None:
    factory = build_sessionmaker(scratch_engine)
    ids = _queue(factory, 30)
    settings = Settings(database_url=scratch_url)
    workers = [Recording(), Recording()]
    errors: list[BaseException] = []

    def work(delivery: Recording) -> None:
        try:
            outbox.deliver_pending(factory, delivery, settings, utcnow())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sent = workers[0].sent + workers[1].sent
    assert sorted(sent) == sorted(f"person{n}@example.org" for n in range(len(ids)))
    assert _statuses(factory) == [(OutboxStatus.sent, 1)] * len(ids)
    assert outbox.deliver_pending(factory, Recording(), settings, utcnow()).sent == 0


def test_a_failing_send_is_retried_later_then_given_up(
    scratch_engine: Engine, scratch_url: str
) -> None:
    factory = build_sessionmaker(scratch_engine)
    [message_id] = _queue(factory, 1)
    settings = Settings(database_url=scratch_url, outbox_max_attempts=2, outbox_retry_minutes=15)
    broken = Recording(fail_with=ConnectionError("smtp host unreachable"))
    now = utcnow()
    first = outbox.deliver_pending(factory, broken, settings, now)
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    # Not due again until the retry delay has passed.
    assert outbox.deliver_pending(factory, broken, settings, now + timedelta(minutes=14)) == (
        outbox.DeliveryRun(sent=0, retrying=0, failed=0)
    )
    second = outbox.deliver_pending(factory, broken, settings, now + timedelta(minutes=15))
    assert second.failed == 1
    with unit_of_work(factory) as db:
        message = db.get_one(OutboxMessage, message_id)
        assert (message.status, message.attempts) == (OutboxStatus.failed, 2)
        assert "smtp host unreachable" in (message.last_error or "")
        outcomes = db.scalars(
            select(AuditEvent.outcome).where(AuditEvent.action == "outbox.deliver")
        ).all()
        assert outcomes == ["failure", "failure"]


def test_delivery_comes_from_settings() -> None:
    assert isinstance(outbox.delivery_from_settings(Settings()), outbox.LogDelivery)
    named = Settings(outbox_delivery="tests.checkins.test_outbox:recording_delivery")
    assert isinstance(outbox.delivery_from_settings(named), Recording)
    with pytest.raises(ConfigurationError, match="KETAGUARD_OUTBOX_DELIVERY"):
        outbox.delivery_from_settings(Settings(outbox_delivery="no.such.module:factory"))


def test_the_default_delivery_only_logs(caplog: pytest.LogCaptureFixture) -> None:
    message = outbox.OutgoingMessage("a@example.org", OutboxChannel.email, SUBJECT, BODY)
    with caplog.at_level(logging.INFO, logger="ketaguard.outbox"):
        outbox.LogDelivery().send(message)
    assert "a@example.org" in caplog.text
    assert SUBJECT in caplog.text


def test_the_worker_command_sends_what_it_queued(
    scratch_engine: Engine, scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = build_sessionmaker(scratch_engine)
    _queue(factory, 2)
    monkeypatch.setenv("KETAGUARD_DATABASE_URL", scratch_url)
    result = CliRunner().invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "check-ins missed 0" in result.output
    assert "messages sent 2" in result.output
    assert _statuses(factory) == [(OutboxStatus.sent, 1)] * 2

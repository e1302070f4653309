"""The request owns the transaction: one commit on success, a rollback on any error."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from ketaguard.kit.errors import DomainError

# Set while a group commit runs one request's work in a savepoint of the group's transaction.
JOB_SAVEPOINT = "ketaguard.db.job_savepoint"
# Set while a group commit runs its requests' work straight through, with no savepoints.
NO_SAVEPOINTS = "ketaguard.db.no_savepoints"


class WorkDiscarded(Exception):
    """A request's work cannot be undone alone here: its group runs again, with savepoints."""


def discard_work(db: Session) -> None:
    """Undo the unit of work so far, to keep only what is recorded next (a refusal's audit).

    The unit is the request's transaction, or, in a group commit, this request's savepoint:
    rolling back the whole transaction there would undo other requests' work with it.
    """
    if db.info.get(NO_SAVEPOINTS):
        raise WorkDiscarded
    savepoint: SessionTransaction | None = db.info.get(JOB_SAVEPOINT)
    if savepoint is None:
        db.rollback()
        return
    savepoint.rollback()
    db.info[JOB_SAVEPOINT] = db.begin_nested()


def request_transaction(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except DomainError as exc:
        if exc.keep_records:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield from request_transaction(session)


# scope="function" commits before the response is sent: a client never hears "done" for a write
# whose commit then fails (FastAPI's default scope runs this exit code after the response).
DbSession = Annotated[Session, Depends(get_db, scope="function")]


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction for work outside a request (CLI, jobs): commit on success, else roll back."""
    with factory() as session, session.begin():
        yield session

"""The request owns the transaction: one commit on success, a rollback on any error."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker


def get_db(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function" commits before the response is sent: a client never hears "done" for a write
# whose commit then fails (FastAPI's default scope runs this exit code after the response).
DbSession = Annotated[Session, Depends(get_db, scope="function")]


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction for work outside a request (CLI, jobs): commit on success, else roll back."""
    with factory() as session, session.begin():
        yield session

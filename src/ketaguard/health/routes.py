import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from ketaguard.config import ConfigurationError
from ketaguard.db.engine import READ_ONLY_OPTION
from ketaguard.db.migrate import ensure_schema_current

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


def database_problem(engine: Engine) -> str | None:
    """None when the database answers and its schema matches this code, else a short reason."""
    try:
        with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
            connection.execute(text("SELECT 1"))
        ensure_schema_current(engine)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        return "cannot connect to the database"
    except ConfigurationError as exc:
        return str(exc)
    return None


@router.get("/healthz", summary="Liveness and database reachability")
def healthz(request: Request) -> JSONResponse:
    problem = database_problem(request.app.state.engine)
    body: dict[str, Any]
    if problem is None:
        body = {"status": "ok", "database": "ok"}
        return JSONResponse(body)
    body = {"status": "unavailable", "database": "error", "reason": problem}
    return JSONResponse(body, status_code=503)

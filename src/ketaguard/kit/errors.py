"""Domain errors carry their HTTP status, so services can refuse without knowing about HTTP."""

from typing import Any, ClassVar, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        # Set (by kept()) when the request's work was rolled back and only records of the refusal
        # itself are pending (its audit event, a failed-login count, an ended session): the
        # transaction dependency then commits them instead of dropping them with the request.
        self.keep_records = False


DomainErrorT = TypeVar("DomainErrorT", bound=DomainError)


def kept(error: DomainErrorT) -> DomainErrorT:
    error.keep_records = True
    return error


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


def error_response(exc: DomainError) -> JSONResponse:
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
    if exc.details:
        body["details"] = exc.details
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return error_response(exc)

    app.add_exception_handler(DomainError, handle)

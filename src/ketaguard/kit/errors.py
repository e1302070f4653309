"""Domain errors carry their HTTP status, so services can refuse without knowing about HTTP."""

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


def install_error_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.details:
            body["details"] = exc.details
        return JSONResponse(body, status_code=exc.status_code)

    app.add_exception_handler(DomainError, handle)

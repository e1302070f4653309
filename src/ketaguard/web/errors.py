"""Errors as pages for a browser, and as the API's JSON for everyone else.

One set of exceptions serves both: a service raises `Forbidden`, and a person sees a page saying
they may not see this, while a script calling the same address gets `{"detail", "code"}`.
"""

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException

from ketaguard.auth.deps import SESSION_COOKIE, clear_session_cookie, settings_of
from ketaguard.kit.errors import DomainError, Forbidden, NotFound, Unauthenticated, error_response
from ketaguard.web.deps import MfaPending
from ketaguard.web.pages import render

LOGIN_PAGE = "/login"
MFA_PAGE = "/login/mfa"
# The login page explains why it is shown; query values are keys, so a link cannot inject text.
ENDED_NOTICE = "ended"


def wants_page(request: Request) -> bool:
    """A browser (or HTMX) asking for a page, rather than a client of the JSON API."""
    if request.url.path.startswith("/api/"):
        return False
    return request.headers.get("HX-Request") == "true" or "text/html" in request.headers.get(
        "accept", ""
    )


def _go_to(request: Request, location: str) -> Response:
    if request.headers.get("HX-Request") == "true":
        # HTMX follows a plain redirect inside the page; this makes the whole page move.
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _unauthenticated(request: Request, exc: Unauthenticated) -> Response:
    if isinstance(exc, MfaPending):
        return _go_to(request, MFA_PAGE)
    if SESSION_COOKIE not in request.cookies:
        return _go_to(request, LOGIN_PAGE)
    # The cookie named a session that has ended (time-out, logout, an admin); drop it.
    response = _go_to(request, f"{LOGIN_PAGE}?notice={ENDED_NOTICE}")
    clear_session_cookie(response, settings_of(request))
    return response


def error_page(request: Request, status_code: int, message: str) -> Response:
    # The handler does not know who is signed in, so the page offers only "home", which does.
    template = {
        Forbidden.status_code: "errors/forbidden.html",
        NotFound.status_code: "errors/not_found.html",
    }.get(status_code, "errors/error.html")
    return render(request, template, public_nav=False, status_code=status_code, message=message)


def install_page_error_handlers(app: FastAPI) -> None:
    """Answer errors with a page for a browser and with the API's JSON for anyone else."""

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not wants_page(request):
            return error_response(exc)
        if isinstance(exc, Unauthenticated):
            return _unauthenticated(request, exc)
        return error_page(request, exc.status_code, exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not wants_page(request):
            return await http_exception_handler(request, exc)
        return error_page(request, exc.status_code, str(exc.detail))

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(HTTPException, http_error)

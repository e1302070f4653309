"""Every route refuses an anonymous caller, except a short explicit public list."""

import re
import uuid

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from ketaguard.app import create_app
from ketaguard.config import Settings

# Reviewed one by one: nothing here touches patient data. The web login form posts a password
# like the API's; the self-check reads and stores nothing. Static files are mounts, not routes.
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("POST", "/api/auth/login"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/self-check"),
    ("POST", "/self-check"),
}


def _concrete_path(path: str) -> str:
    # Any id will do: authentication is checked before a record is looked up.
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def registered_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, through included routers; mounts are left out
    because they only serve static assets (/static), public by design."""
    return {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if context.path is not None and context.methods
        for method in context.methods
        if method != "HEAD"
    }


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes outside the public list that answer an anonymous caller with anything but 401."""
    client = TestClient(app, raise_server_exceptions=False)
    problems = []
    for method, path in sorted(registered_routes(app) - PUBLIC_ROUTES):
        response = client.request(method, _concrete_path(path), json={})
        refused = response.status_code == 401 and "detail" in response.json()
        if not refused:
            problems.append(f"{method} {path} -> {response.status_code}")
    return problems


def test_every_non_public_route_refuses_anonymous_callers(app: FastAPI, client: TestClient) -> None:
    assert unguarded_routes(app) == []


def test_the_walk_sees_every_documented_route(app: FastAPI, client: TestClient) -> None:
    registered = registered_routes(app)
    documented = {
        (method.upper(), path)
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        for method in operations
    }
    assert documented <= registered
    assert registered >= PUBLIC_ROUTES
    assert len(registered - PUBLIC_ROUTES) >= 20


def test_a_route_without_a_permission_is_caught(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/api/forgot-to-protect")
    def leaky() -> dict[str, str]:
        return {"patients": "everyone"}

    assert unguarded_routes(app) == ["GET /api/forgot-to-protect -> 200"]
    app.state.engine.dispose()

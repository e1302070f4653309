from fastapi.testclient import TestClient

from ketaguard.app import create_app
from ketaguard.config import Settings


def test_healthz_reports_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    app = create_app(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    client = TestClient(app)  # no lifespan: the schema check would refuse to start at all
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "error",
        "reason": "cannot connect to the database",
    }


def test_healthz_is_503_when_the_schema_is_behind(scratch_url: str) -> None:
    app = create_app(Settings(database_url=scratch_url))
    response = TestClient(app).get("/healthz")
    assert response.status_code == 503
    assert "ketaguard db upgrade" in response.json()["reason"]
    app.state.engine.dispose()


def test_openapi_and_docs_are_served_without_a_cdn(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/healthz" in spec.json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "https://" not in docs.text
    for asset in ("/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css"):
        assert asset in docs.text
        assert client.get(asset).status_code == 200

"""A body read from its bytes gets the same answer, good or bad, as FastAPI's usual way gives."""

from typing import Any

import httpx2 as httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute

from ketaguard.kit.json_route import JsonBodyRoute, _ValidatedRequest
from ketaguard.sessions.schemas_run import DeviceBatch
from tests.aio import run_async


def _echo(body: DeviceBatch, request: Request) -> dict[str, Any]:
    return {
        "body": body.model_dump(mode="json"),
        "from_bytes": isinstance(request, _ValidatedRequest),
    }


def _app() -> FastAPI:
    app = FastAPI()
    for path, route_class in (("/bytes", JsonBodyRoute), ("/usual", APIRoute)):
        router = APIRouter(route_class=route_class)
        router.post(path)(_echo)
        app.include_router(router)
    return app


AT = "2026-12-06T05:00:00.123456+00:00"


def _reading(value: object = 72, at: str = AT, extra: str = "") -> str:
    return f'{{"vital": "heart_rate", "value": {value}, "measured_at": "{at}"{extra}}}'


def _batch(*readings: str, device: str = '"monitor-1"') -> bytes:
    return f'{{"device_id": {device}, "readings": [{", ".join(readings)}]}}'.encode()


GOOD = [
    _batch(_reading()),
    _batch(_reading(72.5, "2026-12-06T05:00:00Z"), _reading(80, "2026-12-06T10:45:00+05:45")),
    _batch(_reading('"72"')),  # a number in a string: both lax
    _batch(_reading(), _reading()),  # a repeat: the services count it
    f'{{"device_id": "first", "device_id": "last", "readings": [{_reading()}]}}'.encode(),
    # Let through by the schema either way, and refused by the readings' checks after it.
    _batch(_reading("NaN")),
    _batch(_reading("1e400")),
    _batch(_reading("true")),
]
BAD = [
    b"",
    b"null",
    b"[]",
    b'{"device_id": "monitor-1", "readings": [',
    _batch(_reading(at="2026-12-06T05:00:00")),  # no zone
    _batch(_reading(at="yesterday")),
    _batch(_reading(extra=', "unit": "bpm"')),
    _batch('{"vital": "heart_rate", "value": 72}'),
    _batch(),
    _batch(_reading(), device='""'),
    _batch(_reading(), device="12"),
    b"\xff\xfe not text",
]


def _post(path: str, body: bytes, content_type: str | None) -> httpx.Response:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"content-type": content_type} if content_type else {}
            return await client.post(path, content=body, headers=headers)

    return run_async(post())


def _both(body: bytes, content_type: str | None) -> tuple[httpx.Response, httpx.Response]:
    return _post("/bytes", body, content_type), _post("/usual", body, content_type)


def _answer(response: httpx.Response) -> tuple[int, Any]:
    answer = response.json()
    if isinstance(answer, dict):
        answer.pop("from_bytes", None)
    return response.status_code, answer


@pytest.mark.parametrize("body", GOOD)
def test_a_good_body_is_read_from_its_bytes_into_the_same_model(body: bytes) -> None:
    fast, usual = (
        _post("/bytes", body, "application/json"),
        _post("/usual", body, "application/json"),
    )
    assert fast.json()["from_bytes"] is True
    assert _answer(fast) == _answer(usual)
    assert fast.status_code == 200


@pytest.mark.parametrize("body", BAD)
def test_a_bad_body_is_refused_in_fastapis_own_words(body: bytes) -> None:
    fast, usual = (
        _post("/bytes", body, "application/json"),
        _post("/usual", body, "application/json"),
    )
    assert _answer(fast) == _answer(usual)
    assert fast.status_code in (400, 422)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "text/plain", None])
def test_a_body_not_sent_as_plain_json_goes_fastapis_way(content_type: str | None) -> None:
    body = GOOD[0]
    fast, usual = _both(body, content_type)
    assert _answer(fast) == _answer(usual)
    if fast.status_code == 200:
        assert fast.json()["from_bytes"] is False


def test_the_openapi_description_is_fastapis() -> None:
    paths = _app().openapi()["paths"]
    assert paths["/bytes"]["post"]["requestBody"] == paths["/usual"]["post"]["requestBody"]

"""`ketaguard serve --workers N` as a clinic runs it: real processes, real sockets."""

import asyncio
import contextlib
import gc
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from ketaguard.serving import Supervisor, _Server, spreads_connections
from tests.aio import run_async

pytestmark = pytest.mark.skipif(
    not spreads_connections(), reason="workers with their own sockets need Linux"
)
WORKERS = 2


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
        return port


def answers(port: int) -> bool:
    with contextlib.suppress(OSError):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        finally:
            connection.close()
    return False


def workers_of(pid: int) -> list[int]:
    """The worker processes the supervisor started (not multiprocessing's resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
    return found


def sockets_held(pid: int) -> set[str]:
    """The socket inodes a process holds open."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                held.add(target[len("socket:[") : -1])
    return held


ESTABLISHED, LISTEN = "01", "0A"  # TCP states as /proc/net/tcp writes them


def sockets_on(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets on local `port` in `state`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def serve_command(port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "ketaguard", "serve", "--port", str(port), *options]


def serve_env(url: str) -> dict[str, str]:
    return {**os.environ, "KETAGUARD_DATABASE_URL": url, "KETAGUARD_ENV": "development"}


def served_on_a_taken_port(url: str, *options: str) -> tuple[int, subprocess.CompletedProcess[str]]:
    """`ketaguard serve` on a port something else already listens on: the port and the run."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port: int = taken.getsockname()[1]
        return port, subprocess.run(  # noqa: S603 - our own interpreter and command
            serve_command(port, *options),
            env=serve_env(url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@contextlib.contextmanager
def serving(url: str, port: int, workers: int = WORKERS) -> Iterator[subprocess.Popen[str]]:
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        serve_command(port, "--workers", str(workers)),
        env=serve_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not answers(port):
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the server did not answer /healthz"
            time.sleep(0.1)
        yield server
    finally:
        if server.poll() is None:
            server.terminate()  # the supervisor stops its workers, which hold its output open
        server.communicate(timeout=60)


@pytest.fixture
def url(scratch_engine: Engine, scratch_url: str) -> str:
    return scratch_url  # migrated by scratch_engine


def test_workers_share_the_connections_that_stay_open(url: str) -> None:
    port = free_port()
    with serving(url, port) as server:
        workers = workers_of(server.pid)
        assert len(workers) == WORKERS
        # Each worker's socket listens from the start, even while its worker is still starting.
        assert len(sockets_on(port, LISTEN)) == WORKERS
        # Gateways keep their connections open: 16 of them, connecting together as soon as the
        # first worker answers.
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(16)]
        try:
            for client in clients:
                client.request("GET", "/healthz")
                assert client.getresponse().read()
            open_ends = sockets_on(port, ESTABLISHED)
            held = Counter({pid: len(sockets_held(pid) & open_ends) for pid in workers})
        finally:
            for client in clients:
                client.close()
        assert sum(held.values()) == 16
        # The kernel hashes each connection to a worker: all 16 on one would happen by chance
        # once in 2**15 runs. With one shared socket, 4 of 5 trials put all 16 on one worker.
        assert all(count > 0 for count in held.values()), held


def test_a_worker_that_dies_is_replaced(url: str) -> None:
    port = free_port()
    with serving(url, port) as server:
        first = workers_of(server.pid)
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (now := workers_of(server.pid)) == first or len(now) < WORKERS:
            assert time.monotonic() < deadline, "no worker took the dead one's place"
            time.sleep(0.1)
        assert first[0] not in now
        assert answers(port)
        server.terminate()
        output, _ = server.communicate(timeout=60)
    assert "A worker exited (exit code -9); starting another" in output


def test_sigterm_stops_every_worker_and_exits_cleanly(url: str) -> None:
    port = free_port()
    with serving(url, port) as server:
        workers = workers_of(server.pid)
        server.terminate()
        assert server.wait(timeout=60) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert not answers(port)


def test_a_port_in_use_is_refused_in_one_line(url: str) -> None:
    port, result = served_on_a_taken_port(url, "--workers", "2")
    assert result.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_one_process_on_a_port_in_use_exits_with_an_error(url: str) -> None:
    _, result = served_on_a_taken_port(url)
    assert result.returncode != 0
    assert "address already in use" in result.stderr


def test_a_started_server_keeps_the_apps_objects_out_of_the_collectors_passes(
    app: FastAPI,
) -> None:
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=free_port()))

    async def frozen_once_started() -> tuple[int, int]:
        before = gc.get_freeze_count()
        serving = asyncio.create_task(server.serve())
        while not server.started:
            assert not serving.done(), serving.result()
            await asyncio.sleep(0.01)
        frozen = gc.get_freeze_count()
        server.should_exit = True
        await serving
        return before, frozen

    try:
        before, after = run_async(frozen_once_started())
    finally:
        gc.unfreeze()  # the other tests' objects are collected as usual
    assert before == 0
    assert after > 10_000


def exits_while_starting(sock: socket.socket, started: Event) -> None:
    raise SystemExit(3)  # as uvicorn does when the app's startup fails


def test_a_worker_that_fails_to_start_stops_the_server_instead_of_restarting() -> None:
    said: list[str] = []
    supervisor = Supervisor(
        "127.0.0.1", free_port(), WORKERS, said.append, worker=exits_while_starting
    )
    assert supervisor.run() == 1
    assert said == ["A worker exited while starting (exit code 3); stopping"]

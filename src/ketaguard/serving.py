"""`ketaguard serve --workers N`: worker processes that each accept their own connections.

uvicorn's workers share one listening socket, and the worker already awake takes every connection
that arrives while it is. Gateways keep their connections open, so a burst of them stays on one
worker: 16 clients connecting together all landed on one of two workers in 4 of 5 trials, and one
core served them all. Here each worker has a listening socket of its own, bound with SO_REUSEPORT,
and Linux spreads new connections across those sockets by a hash of their addresses.

The supervisor opens every socket, and they all listen before any worker starts: a socket that
began listening only once its worker was up would leave the first worker up every gateway that
reconnects after a restart. A connection that arrives while its worker is starting waits in that
socket's queue. A worker that dies is replaced on the same socket, so what waits there is not lost.
"""

import contextlib
import gc
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from types import FrameType

import uvicorn
from fastapi import FastAPI

APP_FACTORY = "ketaguard.app:app_from_environment"
# How long a worker may finish its requests after SIGTERM before it is killed.
STOP_SECONDS = 30.0
# The connections a socket holds for its worker while the worker is busy or starting.
BACKLOG = 2048

Worker = Callable[[socket.socket, EventType], None]


def spreads_connections() -> bool:
    """Whether the kernel balances connections across sockets sharing a port (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class PortTaken(Exception):
    """Something already listens on the address."""


def bound_socket(host: str, port: int, *, shared: bool) -> socket.socket:
    """A TCP socket bound to (host, port); with `shared`, other sockets may bind it too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortTaken(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, which sets its app's long-lived objects apart from the garbage
    collector once the app has started, and tells the supervisor, if any."""

    def __init__(self, config: uvicorn.Config, app_started: EventType | None = None) -> None:
        super().__init__(config)
        self._app_started = app_started  # the supervisor's event; `self.started` is uvicorn's

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            # The app's routes, models and mappings live as long as the process, and the
            # collector's full passes walked them all: 220,000 objects, a 100 ms pause in which
            # no request is answered, and a few percent of a gateway's CPU. Frozen, they are
            # left out of every pass.
            gc.freeze()
            if self._app_started is not None:
                self._app_started.set()


def serve_app(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` in this process until stopped. A failed start exits, as uvicorn does."""
    with contextlib.suppress(KeyboardInterrupt):
        _Server(uvicorn.Config(app, host=host, port=port)).run()


def run_worker(sock: socket.socket, started: EventType) -> None:
    """One worker process: the app built from the environment, serving on `sock`."""
    config = uvicorn.Config(APP_FACTORY, factory=True, backlog=BACKLOG)
    _Server(config, started).run(sockets=[sock])


@dataclass
class _Running:
    process: BaseProcess
    started: EventType


class Supervisor:
    """Keeps `count` workers running until it is asked to stop."""

    def __init__(
        self,
        host: str,
        port: int,
        count: int,
        report: Callable[[str], None],
        *,
        worker: Worker = run_worker,
    ) -> None:
        self.host, self.port, self.count, self.report = host, port, count, report
        self._worker = worker
        self._context = multiprocessing.get_context("spawn")
        self._stopping = False

    def _request_stop(self, _signal: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        """Serve until stopped; 0 after a requested stop, 1 when a worker failed to start."""
        # Sockets that all set SO_REUSEPORT share a port silently, so a second server started on
        # the same port would take part of the first one's connections. Binding once without
        # the option fails if anything, another ketaguard included, already listens there.
        bound_socket(self.host, self.port, shared=False).close()
        with contextlib.ExitStack() as stack:
            sockets = [
                stack.enter_context(bound_socket(self.host, self.port, shared=True))
                for _ in range(self.count)
            ]
            for sock in sockets:
                sock.listen(BACKLOG)
            running: list[_Running] = []
            with self._stop_on_signals():
                try:
                    for sock in sockets:
                        running.append(self._start(sock))
                    return self._watch(sockets, running)
                finally:
                    self._stop(running)

    def _start(self, sock: socket.socket) -> _Running:
        started = self._context.Event()
        process = self._context.Process(
            target=self._worker, args=(sock, started), name="ketaguard-worker"
        )
        process.start()
        return _Running(process, started)

    def _watch(self, sockets: list[socket.socket], running: list[_Running]) -> int:
        while not self._stopping:
            wait([r.process.sentinel for r in running], timeout=0.5)
            for number, worker in enumerate(running):
                if worker.process.is_alive() or self._stopping:
                    continue
                code = worker.process.exitcode
                if not worker.started.is_set():
                    # What stopped it before its app started (a setting, the database) would
                    # stop the next one too: better one clear stop than a loop of restarts.
                    self.report(f"A worker exited while starting (exit code {code}); stopping")
                    return 1
                self.report(f"A worker exited (exit code {code}); starting another")
                running[number] = self._start(sockets[number])
        return 0

    def _stop(self, running: list[_Running]) -> None:
        for worker in running:
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: uvicorn finishes the open requests
        deadline = time.monotonic() + STOP_SECONDS
        for worker in running:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._request_stop) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

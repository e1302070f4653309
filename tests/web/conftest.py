"""Browser tests: the real app served by uvicorn, driven by Debian's Chromium through Playwright.

The server runs in a background thread on a free port against its own scratch database of the
kind under test (a SQLite file, or a PostgreSQL database created and dropped here), because the
rolled-back `db` transaction of the other tests cannot be shared with another thread's requests.
One Chromium serves the whole session; each test gets a fresh context (its own cookies).
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ketaguard.app import create_app
from ketaguard.auth.models import User
from ketaguard.bootstrap import prepare_database
from ketaguard.config import Environment, Settings
from ketaguard.db.engine import build_engine
from ketaguard.web.assets import missing_vendor_files
from tests.databases import scratch_database
from tests.factories import Personas, make_personas
from tests.web import forms

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SERVER_START_SECONDS = 30
_screenshots_taken: list[Path] = []


@dataclass(frozen=True)
class LiveSite:
    url: str
    settings: Settings
    # The test's own connection to the server's database, for setting up and checking.
    engine: Engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A committed unit of work; loaded objects stay readable after it ends."""
        with Session(self.engine, expire_on_commit=False) as db, db.begin():
            yield db


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    if missing := missing_vendor_files():
        pytest.fail(f"Browser libraries are not installed ({', '.join(missing)}): run make assets")
    with scratch_database(tmp_path_factory.mktemp("live")) as url:
        settings = Settings(database_url=url, env=Environment.test)
        engine = build_engine(settings)
        prepare_database(engine)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name="live-site", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("The ketaguard server for the browser tests did not start")
            time.sleep(0.05)
        try:
            yield LiveSite(url=f"http://127.0.0.1:{port}", settings=settings, engine=engine)
        finally:
            server.should_exit = True
            thread.join(timeout=SERVER_START_SECONDS)
            listener.close()
            engine.dispose()


@pytest.fixture(scope="session")
def live_personas(live_site: LiveSite) -> Personas:
    """The access-test personas, committed to the server's database once per session."""
    with live_site.write() as db:
        return make_personas(db)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run scripts/ensure-chromium (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser, live_site: LiveSite) -> Iterator[Page]:
    """A page in a fresh context; fails the test if the browser reported a script error or a
    Content-Security-Policy violation (both show up only in the console)."""
    context = chromium.new_context(base_url=live_site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    # A 4xx page is expected in some tests; the browser logs its status as an error too.
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot to var/screenshots/<name>.png and report where it is."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        _screenshots_taken.append(path)
        print(f"screenshot: {path}")
        return path

    return take


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Captured output of passing tests is not shown; CI logs should still say where these are.
    if _screenshots_taken:
        terminalreporter.section("screenshots of the web pages")
        for path in _screenshots_taken:
            terminalreporter.write_line(str(path))


@pytest.fixture
def as_user(app: FastAPI, client: TestClient, db: Session) -> forms.Browse:
    """A browser of the user's own, logged in through the pages (MFA where the role needs it)."""

    def log_in(user: User) -> forms.Browser:
        browser = forms.Browser(app, headers=forms.BROWSER)
        browser.csrf = forms.csrf_of(forms.web_login(browser, db, user))
        return browser

    return log_in

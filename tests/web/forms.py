"""Driving the pages over HTTP like a browser: HTML accepted, forms posted, CSRF from the page."""

import html
import re
from collections.abc import Callable

import pyotp
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, inspect, select, table
from sqlalchemy.orm import Session

from ketaguard.auth.models import User
from tests.factories import PASSWORD, current_totp

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SECRET = re.compile(r"data-mfa-secret>(.*?)</p>", re.DOTALL)
_RECOVERY = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def csrf_of(page: Response) -> str:
    found = _CSRF.search(page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def field_error(page: Response, field: str) -> str | None:
    """The error shown next to a field, provided the input points at it for screen readers."""
    found = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page.text, re.DOTALL)
    if found is None:
        return None
    described_by = re.search(rf'id="{field}"[^>]*aria-describedby="([^"]*)"', page.text)
    assert described_by, f"#{field} is not described by its error"
    assert f"{field}-error" in described_by.group(1).split()
    message = re.sub(r"<[^>]+>", "", found.group(1)).removeprefix("Error:").strip()
    return html.unescape(message)


def post_login(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    return client.post(
        "/login",
        data={"email": email, "password": password},
        headers=BROWSER,
        follow_redirects=False,
    )


def enrol_on_the_web(client: TestClient, user: User) -> list[str]:
    """From the password step of a login that owes MFA enrolment to a finished login."""
    page = client.get("/login/mfa/enrol", headers=BROWSER)
    start = client.post(
        "/login/mfa/enrol", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert start.status_code == 303
    page = client.get("/login/mfa/enrol", headers=BROWSER)
    secret_html = _SECRET.search(page.text)
    assert secret_html, "the enrolment page shows no key"
    secret = re.sub(r"<[^>]+>|\s", "", secret_html.group(1))
    done = client.post(
        "/login/mfa/enrol/confirm",
        data={"csrf_token": csrf_of(page), "code": pyotp.TOTP(secret).now()},
        headers=BROWSER,
    )
    assert done.status_code == 200, done.text
    return _RECOVERY.findall(done.text)


def web_login(client: TestClient, db: Session, user: User) -> Response:
    """Log in through the pages, enrolling in or entering MFA when the account needs it;
    returns the home page."""
    step = post_login(client, user.email)
    assert step.status_code == 303, step.text
    if step.headers["location"] == "/login/mfa/enrol":
        enrol_on_the_web(client, user)
    elif step.headers["location"] == "/login/mfa":
        page = client.get("/login/mfa", headers=BROWSER)
        db.refresh(user)
        code = current_totp(user, client.app.state.settings.secret_key)  # type: ignore[attr-defined]
        verified = client.post(
            "/login/mfa",
            data={"csrf_token": csrf_of(page), "code": code},
            follow_redirects=False,
        )
        assert verified.status_code == 303, verified.text
    home = client.get("/", headers=BROWSER)
    assert home.status_code == 200, home.text
    return home


def row_counts(db: Session) -> dict[str, int]:
    """Rows in every table of the database, as this session sees them."""
    names = inspect(db.connection()).get_table_names()
    return {name: db.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}


class Browser(TestClient):
    """A person's browser: its cookies, and the CSRF token its pages carry."""

    csrf = ""


Browse = Callable[[User], Browser]

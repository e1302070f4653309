"""Vital-sign ingest over HTTP, measured against the plain database driver on the same table.

SQLite (a temporary file) unless --database-url names an existing, empty PostgreSQL database.
Prints the figures and PASS/MISS against the targets; a miss is not an error. See README.md.
"""

import argparse
import contextlib
import json
import math
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import psycopg
from fastapi import FastAPI
from sqlalchemy import Engine, make_url

from ketaguard.app import create_app
from ketaguard.audit.service import AuditContext
from ketaguard.auth import service as auth
from ketaguard.auth.permissions import Permission
from ketaguard.bootstrap import prepare_database
from ketaguard.clinics import service as clinics
from ketaguard.clinics.models import Role
from ketaguard.config import Environment, Settings
from ketaguard.db.session import unit_of_work
from ketaguard.intake.schemas import IntakeData
from ketaguard.intake.service import record_intake
from ketaguard.kit.ids import uuid7
from ketaguard.kit.time import utcnow
from ketaguard.patients.service import create_patient
from ketaguard.plans.models import PlanStatus
from ketaguard.plans.schemas import Goal, PlanCreate
from ketaguard.plans.service import change_status, create_plan
from ketaguard.protocols.loader import load_builtin
from ketaguard.screening import decisions
from ketaguard.screening.demo import DEMO_PATIENTS
from ketaguard.screening.schemas import ResponseCreate, SignOff
from ketaguard.screening.service import administer
from ketaguard.sessions import booking, run
from ketaguard.sessions.models import TreatmentSession, VitalReading
from ketaguard.sessions.schemas import BookingRequest
from ketaguard.sessions.schemas_run import DoseComplete, DoseStart, PreDoseIn

BATCH, DEVICE_CLIENTS, SINGLE_CLIENTS = 100, 4, 16
# Of 50 trials the nearest-rank p99 would be the slowest one; of 200 it is the third slowest, so
# one stall of the disk shows in the max, printed beside it, and not as the p99.
TRIALS = 200
PASSWORD = "bench-password-2026"  # noqa: S105 - a synthetic account in a throwaway database
# Inside every protocol's thresholds, so that the load raises no alert.
CALM = (("heart_rate", 72.0), ("spo2", 98.0), ("respiratory_rate", 14.0))
MS = timedelta(milliseconds=1)  # reading k is measured k milliseconds after its origin
COLUMNS = tuple(VitalReading.__table__.columns.keys())
ELIGIBLE = next(p for p in DEMO_PATIENTS if p.record == "DT-0003")  # demo: eligible, low risk
Bounds = tuple[float, int]  # seconds, operations
Step = Callable[[int], int]  # performs operation number n, returns the rows it stored
Connection = psycopg.Connection[Any] | sqlite3.Connection


@dataclass(frozen=True)
class Fixture:
    device_sessions: list[uuid.UUID]
    single_sessions: list[uuid.UUID]
    alert_session: uuid.UUID
    token_id: uuid.UUID
    token: str
    nurse_email: str


@dataclass
class Result:
    elapsed: float = 0.0
    ok: int = 0
    rows: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def rate(self, of_rows: bool = False) -> float:
        return (self.rows if of_rows else self.ok) / self.elapsed if self.elapsed else math.nan

    def record(self, spent: float, rows: int, error: str = "") -> None:
        if error:
            self.errors.append(error[:300])
        else:
            self.ok, self.rows = self.ok + 1, self.rows + rows
            self.latencies.append(spent)

    def pct(self, p: float) -> float:  # nearest-rank latency percentile, in milliseconds
        ordered = sorted(self.latencies) or [math.nan]
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def build_clinic(app: FastAPI) -> Fixture:
    """Staff, an eligible patient, checked-in sessions, a device token: services, one commit."""
    ctx, now = AuditContext(), utcnow()
    with unit_of_work(app.state.sessionmaker) as db:
        org = clinics.create_organisation(db, f"Bench {uuid.uuid4().hex[:8]}")
        clinic = clinics.create_clinic(db, org, name="Bench clinic", timezone="UTC")
        clinics.update_screening_settings(db, ctx, clinic, {"screening_valid_days": 30})
        users = {}
        for role in (Role.admin, Role.prescriber, Role.nurse):
            email, name = f"{role.value}-{org.id.hex[:8]}@bench.example.org", f"Bench {role}"
            users[role] = auth.create_user(
                db, organisation_id=org.id, email=email, full_name=name, password=PASSWORD
            )
            clinics.add_membership(db, user_id=users[role].id, clinic=clinic, role=role)
        nurse = auth.principal_for_user(db, users[Role.nurse], None)
        prescriber = auth.principal_for_user(db, users[Role.prescriber], None)
        patient = create_patient(
            db, clinic_id=clinic.id, record_number=ELIGIBLE.record, given_name="Pat",
            family_name="Synthetic", date_of_birth=date(1985, 6, 15),
        )  # fmt: skip
        record_intake(db, nurse, ctx, patient.id, IntakeData.model_validate(ELIGIBLE.intake), None)
        for instrument, answers in ELIGIBLE.screenings.items():
            body = ResponseCreate(instrument=instrument, answers=answers, completed_at=now)
            administer(db, nurse, ctx, patient.id, body)
        decision = decisions.compute(db, nurse, ctx, patient.id)
        decisions.sign_off(db, prescriber, ctx, patient.id, decision.id, SignOff())
        yesterday = now.date() - timedelta(days=1)  # the clinic's local date: UTC
        goals = [Goal(kind="phq9_response", description="PHQ-9 halved", by_week=4)]

        def checked_in(protocol: str) -> uuid.UUID:
            # A plan per session: each is its plan's first, so no scheduling rule is in the way.
            body = PlanCreate(protocol=protocol, start_date=yesterday, goals=goals)
            plan = create_plan(db, prescriber, ctx, patient.id, body)
            change_status(db, prescriber, ctx, plan.id, PlanStatus.active, "benchmark")
            start = BookingRequest(local_start=datetime.combine(yesterday, datetime.min.time()))
            session_id: uuid.UUID = booking.book(db, prescriber, ctx, plan.id, start).id
            run.check_in(db, nurse, ctx, session_id)
            return session_id

        device = [checked_in("esketamine-trd") for _ in range(DEVICE_CLIENTS)]
        single = [checked_in("esketamine-trd") for _ in range(SINGLE_CLIENTS)]
        # A ketamine IV session in monitoring, where a systolic >= 180 raises an urgent alert.
        alert = checked_in("ketamine-iv-0.5")
        checks = {check.id: True for check in load_builtin()["ketamine-iv-0.5"].pre_dose_checks}
        vitals = readings(now - timedelta(hours=1), 0, len(CALM))
        pre = PreDoseIn.model_validate({"checks": checks, "vitals": vitals, "moaas": 5})
        run.clear_pre_dose(db, nurse, ctx, alert, pre)
        mg = db.get_one(TreatmentSession, alert).planned_dose_mg
        dose = DoseStart(dose_mg=mg, lot_number="K-1", started_at=now - timedelta(minutes=50))
        run.start_dose(db, nurse, ctx, alert, dose)
        ended = DoseComplete(infusion_ended_at=now - timedelta(minutes=10))
        run.complete_dose(db, nurse, ctx, alert, ended)
        scopes, admin = [Permission.vitals_write], users[Role.admin].id
        issued = auth.create_api_token(
            db, ctx, clinic=clinic, name="Bench gateway", scopes=scopes, created_by=admin
        )
        email = users[Role.nurse].email
        return Fixture(device, single, alert, issued.token.id, issued.secret, email)


@contextlib.contextmanager
def serving(url: str, workers: int) -> Iterator[str]:
    """`ketaguard serve` in its own process, as a clinic runs it: the load generator in this
    process must not compete with the server for one interpreter lock."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "KETAGUARD_DATABASE_URL": url, "KETAGUARD_ENV": "development"}
    command = [sys.executable, "-m", "ketaguard", "serve", "--port", str(port)]
    # The server's own messages, shown only if it fails to start.
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [*command, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while server.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/healthz", trust_env=False).status_code == 200:
                        break
                time.sleep(0.1)
            else:
                log.seek(0)
                raise RuntimeError(f"the server did not answer /healthz:\n{log.read().decode()}")
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


def load(steps: list[Step], bounds: Bounds) -> Result:
    """A thread per step, each repeating it until the time or the operations run out."""
    result, lock, numbers = Result(), threading.Lock(), iter(range(1, bounds[1] + 1))
    deadline = time.perf_counter() + bounds[0]

    def worker(step: Step) -> None:
        while time.perf_counter() < deadline and (n := next(numbers, 0)):
            began, rows, error = time.perf_counter(), 0, ""
            try:
                rows = step(n)
            except Exception as exc:  # reported with the figures
                error = repr(exc)
            with lock:
                result.record(time.perf_counter() - began, rows, error)

    began = time.perf_counter()
    with ThreadPoolExecutor(len(steps)) as pool:
        list(pool.map(worker, steps))
    result.elapsed = time.perf_counter() - began
    return result


def client(base: str, token: str = "") -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=60, trust_env=False)


class Gateway:
    """One load client: a keep-alive HTTP/1.1 connection on a plain socket, posting JSON with a
    device token. It writes each request in one piece and reads the answer by its
    Content-Length, nothing more, so the load generator, which shares the cores with the server
    here, takes as little of them as it can: the server is what is measured, as the baseline's
    bare driver calls measure the database. Single readings on PostgreSQL: 0.095 ms of this
    process's CPU a request, against 0.23 with the standard library's http.client (and that
    was a fifth of httpx's)."""

    def __init__(self, base: str, token: str) -> None:
        address = urlsplit(base)
        self.address = (address.hostname or "", address.port or 80)
        self.head = (
            f"Host: {address.netloc}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.sock: socket.socket | None = None

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body).encode()
        request = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
            path.encode(), self.head, len(payload), payload
        )  # fmt: skip
        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.address, timeout=60)
            self.sock.sendall(request)
            status, text, close = self._answer(self.sock)
        except OSError:
            self.close()  # the next request opens a new connection
            raise
        if close:
            self.close()
        if status != 200:
            raise RuntimeError(f"{path}: {status} {text.decode(errors='replace')}")
        answer: dict[str, Any] = json.loads(text)
        return answer

    @staticmethod
    def _answer(sock: socket.socket) -> tuple[int, bytes, bool]:
        """The status, body and whether the server closes, of the next response on `sock`."""
        received = b""
        while b"\r\n\r\n" not in received:
            received += Gateway._more(sock)
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *lines = head.split(b"\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in
                  (line.partition(b":") for line in lines)}  # fmt: skip
        if b"content-length" not in fields:
            raise ConnectionError(f"an answer without Content-Length: {head!r}")
        length = int(fields[b"content-length"])
        while len(body) < length:
            body += Gateway._more(sock)
        return int(status_line.split()[1]), body, fields.get(b"connection", b"").lower() == b"close"

    @staticmethod
    def _more(sock: socket.socket) -> bytes:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def reconnect(gateways: list[Gateway]) -> None:
    """Each gateway opens a new connection at its next request: the server has closed those left
    idle beyond its keep-alive."""
    for gateway in gateways:
        gateway.close()


def poster(gateway: Gateway, path: str, body: Callable[[int], dict[str, Any]]) -> Step:
    return lambda n: int(gateway.post(path, body(n))["added"])


def readings(origin: datetime, first: int, count: int) -> list[dict[str, Any]]:
    """`count` calm readings one millisecond apart, numbered from `first` after `origin`."""
    return [
        {"vital": vital, "value": value, "measured_at": (origin + k * MS).isoformat()}
        for k in range(first, first + count)
        for vital, value in [CALM[k % 3]]
    ]


def alert_trials(base: str, fixture: Fixture, trials: int, seconds: float) -> Result:
    """Post a systolic of 200, then time until a logged-in nurse reads its alert at /api/alerts."""
    result = Result()
    with client(base, fixture.token) as gateway, client(base) as nurse:
        credentials = {"email": fixture.nurse_email, "password": PASSWORD}
        login = nurse.post("/api/auth/login", json=credentials)
        if login.status_code != 200 or login.json()["mfa"] != "none":
            raise RuntimeError(f"nurse login failed: {login.status_code} {login.text}")
        nurse.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        path = f"/api/sessions/{fixture.alert_session}/vitals/device"
        began = time.perf_counter()
        while result.ok + len(result.errors) < trials and time.perf_counter() - began < seconds:
            reading = {"vital": "systolic_bp", "value": 200, "measured_at": utcnow().isoformat()}
            start = time.perf_counter()
            posted = gateway.post(path, json={"device_id": "bench", "readings": [reading]})
            raised = posted.json().get("alerts", []) if posted.status_code == 200 else []
            # The alert commits with its reading, before the response: one read must find it.
            open_ids = {a["id"] for a in nurse.get("/api/alerts").json()}
            if not raised or raised[0]["id"] not in open_ids:
                result.record(0, 0, f"no alert read: {posted.status_code} {posted.text}")
                continue
            result.record(time.perf_counter() - start, 1)
            # Acknowledged, untimed, so that the next trial raises a new alert.
            nurse.post(f"/api/alerts/{raised[0]['id']}/acknowledge", json={"action": "rechecked"})
        result.elapsed = time.perf_counter() - began
    return result


class Raw:
    """The plain driver on the benchmark database, storing rows as the app stores them."""

    def __init__(self, engine: Engine) -> None:
        url = make_url(engine.url)
        self.postgres = url.get_backend_name() == "postgresql"
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.path = url.database or ""
        table = VitalReading.__table__
        # As the column types store them on this dialect (a time as SQLite's text, say).
        self.encoders = [
            table.c[name].type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
            for name in COLUMNS
        ]
        marks = ", ".join(["%s" if self.postgres else "?"] * len(COLUMNS))
        self.insert = f"INSERT INTO vital_reading ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
        self.copy = f"COPY vital_reading ({', '.join(COLUMNS)}) FROM STDIN"

    def row(
        self, session: uuid.UUID, token: uuid.UUID, key: str, origin: datetime, k: int
    ) -> tuple[Any, ...]:
        """Reading number `k`: calm, `k` milliseconds after `origin`."""
        vital, value, at = *CALM[k % 3], origin + k * MS
        values = {
            "id": uuid7(), "created_at": utcnow(), "session_id": session, "vital": vital,
            "value": value, "measured_at": at, "source": "device", "device_key": key,
            "recorded_by_id": None, "recorded_by_token_id": token,
        }  # fmt: skip
        if self.postgres:  # psycopg adapts the Python values itself
            return tuple(values[c] for c in COLUMNS)
        pairs = zip(COLUMNS, self.encoders, strict=True)
        return tuple(encode(values[c]) if encode else values[c] for c, encode in pairs)

    def connect(self) -> Connection:
        if self.postgres:
            return psycopg.connect(self.conninfo)
        # As ketaguard.db.engine opens SQLite: WAL, synchronous=FULL, foreign keys on.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        pragmas = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000")
        conn.executescript("".join(f"PRAGMA {pragma};" for pragma in pragmas))
        return conn

    def store(self, conn: Connection, rows: list[tuple[Any, ...]]) -> int:
        """One transaction: executemany on SQLite (as the app begins it), else COPY or INSERT."""
        if isinstance(conn, sqlite3.Connection):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(self.insert, rows)
            conn.execute("COMMIT")
        elif len(rows) == 1:
            conn.execute(self.insert, rows[0])
            conn.commit()
        else:
            with conn.cursor() as cur, cur.copy(self.copy) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
        return len(rows)


@dataclass
class Round:
    """One round's measurements, each beside its baseline, taken one right after the other."""

    device: Result
    bulk: Result
    single: Result
    plain: Result

    @property
    def device_ratio(self) -> float:
        return self.device.rate(of_rows=True) / self.bulk.rate(of_rows=True)

    @property
    def single_ratio(self) -> float:
        return self.single.rate() / self.plain.rate()


def measure(url: str, bounds: Bounds, workers: int, rounds: int) -> int:
    """Set up, run every round and the alert trials, report; 1 when a request failed."""
    app = create_app(Settings(database_url=url, env=Environment.development))
    engine: Engine = app.state.engine
    prepare_database(engine)
    fixture = build_clinic(app)
    raw, now, token_id = Raw(engine), utcnow(), fixture.token_id
    devices, singles = fixture.device_sessions, fixture.single_sessions

    def batches(http: Gateway, session: uuid.UUID, origin: datetime) -> Step:
        path, device = f"/api/sessions/{session}/vitals/device", f"monitor-{session}"
        return poster(http, path, lambda n: {
            "device_id": device, "readings": readings(origin, n * BATCH, BATCH)})  # fmt: skip

    def single(http: Gateway, session: uuid.UUID, origin: datetime) -> Step:
        path = f"/api/sessions/{session}/vitals"
        return poster(http, path, lambda n: {"readings": readings(origin, n, 1)})

    def storing(conn: Connection, rows: list[tuple[Any, ...]]) -> Step:
        return lambda _: raw.store(conn, rows)

    def inserter(conn: Connection, session: uuid.UUID, key: str, origin: datetime) -> Step:
        return lambda n: raw.store(conn, [raw.row(session, token_id, key, origin, n)])

    results: list[Round] = []
    with serving(url, workers) as base, contextlib.ExitStack() as stack:
        http = [
            stack.enter_context(contextlib.closing(Gateway(base, fixture.token))) for _ in singles
        ]
        conns = [stack.enter_context(contextlib.closing(raw.connect())) for _ in singles]
        pairs = list(zip(http, devices, strict=False))
        warm_up = now - timedelta(hours=1)
        load([batches(h, s, warm_up) for h, s in pairs], (1.0, 8))  # not counted
        for number in range(rounds):
            # Each round's readings an hour before the last's, so none repeats another's; the
            # baselines' device keys differ from HTTP's, so no row of theirs collides either.
            origin = now - timedelta(hours=2 + number)
            reconnect(http)
            device = load([batches(h, s, origin) for h, s in pairs], bounds)
            rows = [
                raw.row(devices[k % DEVICE_CLIENTS], token_id, f"bulk-{number}", origin, k)
                for k in range(device.rows)
            ]
            bulk = load([storing(conns[0], rows)], (math.inf, 1))
            reconnect(http)
            single_http = load(
                [single(h, s, origin) for h, s in zip(http, singles, strict=True)], bounds
            )
            key = f"single-{number}"
            plain = load(
                [inserter(c, s, key, origin) for c, s in zip(conns, singles, strict=True)], bounds
            )
            results.append(Round(device, bulk, single_http, plain))
        alerts = alert_trials(base, fixture, TRIALS, bounds[0])
    engine.dispose()
    return report(results, alerts)


def report(rounds: list[Round], alerts: Result) -> int:
    table: list[tuple[str, ...]] = [("measurement", "http", "driver", "ratio")]
    for number, r in enumerate(rounds, 1):
        both = (r.single, r.plain)
        table += [
            (f"round {number}", "", "", ""),
            ("1 device batches 4 x 100, rows/s", f"{r.device.rate(True):,.0f}",
             f"{r.bulk.rate(True):,.0f}", f"{r.device_ratio:.3f}"),
            ("  rows / seconds", *(f"{x.rows:,} / {x.elapsed:.2f}" for x in (r.device, r.bulk))),
            ("2 single readings, 16 clients, req/s", *(f"{x.rate():,.0f}" for x in both),
             f"{r.single_ratio:.3f}"),
            ("  latency p50 / p99 ms", *(f"{x.pct(50):.1f} / {x.pct(99):.1f}" for x in both)),
            ("  requests / seconds", *(f"{x.ok:,} / {x.elapsed:.2f}" for x in both)),
        ]  # fmt: skip
    table += [
        (f"3 alert readable ({alerts.ok} trials), p50 ms", f"{alerts.pct(50):.1f}"),
        ("  p99 / max ms", f"{alerts.pct(99):.1f} / {alerts.pct(100):.1f}"),
    ]
    for label, *cells in table:
        print(f"{label:<40}" + "".join(f"{cell:>18}" for cell in cells))
    named = {"3": alerts}
    for number, r in enumerate(rounds, 1):
        named |= {f"round {number}, {n}": x for n, x in zip(("1 http", "1 driver", "2 http",
                  "2 driver"), (r.device, r.bulk, r.single, r.plain), strict=True)}  # fmt: skip
    failed = [(name, x) for name, x in named.items() if x.errors]
    for name, x in failed:
        print(f"errors in {name}: {len(x.errors)}; first: {x.errors[0]}")
    # The median round, so that one round slowed by the machine does not decide the figure.
    device_ratio = statistics.median(r.device_ratio for r in rounds)
    single_ratio = statistics.median(r.single_ratio for r in rounds)
    single_p99 = statistics.median(r.single.pct(99) for r in rounds)
    print(f"targets (the median of {len(rounds)} round{'s' * (len(rounds) > 1)}):")
    for text, met in [
        (f"device rows/s ratio >= 0.3 ({device_ratio:.3f})", device_ratio >= 0.3),
        (f"device rows/s ratio >= 0.5, the aim ({device_ratio:.3f})", device_ratio >= 0.5),
        (f"single req/s ratio >= 0.25 ({single_ratio:.3f})", single_ratio >= 0.25),
        (f"single reading p99 <= 50 ms ({single_p99:.1f} ms)", single_p99 <= 50),
        (f"alert readable p99 <= 100 ms ({alerts.pct(99):.1f} ms)", alerts.pct(99) <= 100),
    ]:
        print(f"  {'PASS' if met else 'MISS'}  {text}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="an existing empty database (default: SQLite)")
    parser.add_argument("--seconds", type=float, default=10.0, help="bound per measurement")
    parser.add_argument("--max-requests", type=int, default=20_000, help="bound per measurement")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of measurements; the median round decides"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="server processes (default: 1 on SQLite, one per core on PostgreSQL)",
    )
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="ketaguard-bench-") as tmp:
        url = args.database_url or f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        postgres = make_url(url).get_backend_name() == "postgresql"
        workers = args.workers or (cores if postgres else 1)
        print(f"cores: {cores}; server worker processes: {workers}")
        print(f"database: {make_url(url).render_as_string(hide_password=True)}\n")
        return measure(url, (args.seconds, args.max_requests), workers, args.rounds)


if __name__ == "__main__":
    raise SystemExit(main())

"""Shared pieces for the benchmarks: servers under test, and a load generator that
runs in its own process and measures from each request's scheduled start time
(so a slow server cannot hide its queueing: no coordinated omission)."""

from __future__ import annotations

import http.client
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


ADMIN_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str) -> str:
    """A new, empty Postgres database for one benchmark run; its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(ADMIN_PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return ADMIN_PG.rsplit("/", 1)[0] + "/" + name


def app_env(
    database_url: str, redis_url: str, token: str, account_sid: str = "AC" + "1" * 32
) -> dict[str, str]:
    """The production settings every benchmark runs supportbot with."""
    return {
        "SUPPORTBOT_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench",
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": token,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "KEYWORDS_FILE": str(ROOT / "keywords.yaml"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, path: str = "/healthz", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def start_gunicorn(
    app: str,
    port: int,
    env: dict[str, str],
    workers: int = 2,
    threads: int = 4,
    worker_class: str = "gthread",
) -> subprocess.Popen:
    cmd = [
        str(BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,  # noqa: S603
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


Request = tuple[str, bytes, dict[str, str]]  # path, body, headers


def run_fixed_rate(
    port: int, requests: list[Request], rate: float, threads: int = 32, offsets: list[float] | None = None
) -> dict:
    """Send the requests at `rate` per second; latency counts from the scheduled time.

    Also returns "samples": (scheduled offset s, latency ms, status, TwiML had a <Message>).
    """
    todo: queue.Queue = queue.Queue()
    latencies: list[float] = []
    errors: list[int] = []
    samples: list[tuple[float, float, int, bool]] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    for i, req in enumerate(requests):
        todo.put((start + (offsets[i] if offsets is not None else i / rate), req))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            try:
                due, (path, body, headers) = todo.get_nowait()
            except queue.Empty:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            answered = False
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                answered = b"<Message" in resp.read()
                status = resp.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            done = time.perf_counter()
            with lock:
                latencies.append((done - due) * 1000)
                samples.append((due - start, (done - due) * 1000, status, answered))
                if status != 200:
                    errors.append(status)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    return {**summarise(latencies, errors, elapsed), "samples": samples}


def run_closed_loop(port: int, make: Callable[[int], Request], seconds: float, clients: int = 8) -> dict:
    """As fast as `clients` connections can go: the sustained throughput."""
    answered: list[bool] = []
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop_at:
            with lock:
                n = next(counter)
            path, body, headers = make(n)
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            said = b"<Message" in resp.read()
            t1 = time.perf_counter()
            with lock:
                latencies.append((t1 - t0) * 1000)
                answered.append(said)
                if resp.status != 200:
                    errors.append(resp.status)

    t_start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result = summarise(latencies, errors, time.perf_counter() - t_start)
    return {**result, "answered": sum(answered)}


def summarise(latencies: list[float], errors: list[int], elapsed: float) -> dict:
    return {
        "n": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
    }


def signed_inbound(base: str, token: str, n: int, run: str, body: str | None = None) -> Request:
    from twilio.request_validator import RequestValidator

    form = {
        "MessageSid": f"SM{run}{n:020d}",
        "AccountSid": "AC" + "1" * 32,
        # valid NANP numbers (replies are sent to them): area codes other than the
        # big run's filled contacts (+1628), exchanges 200-999
        "From": f"+1{(415, 510, 650, 925)[n // 8_000_000 % 4]}{2_000_000 + n % 8_000_000}",
        "To": "+15005550006",
        "Body": body if body is not None else f"My order {n} has not arrived, can you help?",
        "NumMedia": "0",
    }
    path = "/twilio/inbound"
    sig = RequestValidator(token).compute_signature(base + path, form)
    headers = {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}
    return path, urlencode(form).encode(), headers

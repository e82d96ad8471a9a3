"""Test infrastructure: throwaway databases and real server processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

ADMIN_URL = os.environ.get("BOXOFFICE_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BOXOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


LOAD_LIMITS_OFF = {
    "BOXOFFICE_RATE_LIMIT_PER_IP": "0",
    "BOXOFFICE_RATE_LIMIT_PER_USER": "0",
    "BOXOFFICE_SEATS_PER_USER": "0",
    "BOXOFFICE_WS_MAX_CONNECTIONS_PER_ADDRESS": "0",
}
"""For servers that tests drive with load from one address and a few names: the default rate limits,
seat cap and per-address WebSocket cap (on, sized for real buyers) would refuse what they measure."""


def pg_connect(database_url: str, autocommit: bool = True, retry_s: float = 30.0) -> psycopg.Connection:
    """Connect for checking, waiting out a server that is briefly at max_connections."""
    deadline = time.monotonic() + retry_s
    while True:
        try:
            return psycopg.connect(database_url, autocommit=autocommit)
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def url_for(database: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


@contextlib.contextmanager
def fresh_database(prefix: str = "bo_test") -> Iterator[str]:
    """A uniquely named database, dropped afterwards (connections and all)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_for(name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_inventory(database_url: str, *, from_scratch: bool = False) -> None:
    """Every seat AVAILABLE again, no bookings, holds, idempotency keys or change events; layout kept.

    `from_scratch` also puts versions back to 0 and restarts the sequences, so tests that compare
    versions or sequences start equal; otherwise versions move forward, as a live relay expects.
    """
    restart = " RESTART IDENTITY" if from_scratch else ""
    version = "0" if from_scratch else "version + 1"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE seat_events, bookings, holds, idempotency_keys{restart}")
        conn.execute(
            "UPDATE seats SET status = 'AVAILABLE', booked_by = NULL, booked_at = NULL, held_by = NULL,"
            f" hold_token = NULL, held_until = NULL, version = {version}"
        )


@dataclass
class ServerProcess:
    """`boxoffice serve` in its own process, on a free port, with the given environment."""

    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    ready_path: str = "/api/v1/seats"
    """Polled until it answers 200 (e.g. `/actuator/health/liveness` when the database is meant to be down)."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> ServerProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        # One worker unless a test asks for more (`--workers N`): the default follows the core count.
        env.update({"BOXOFFICE_PORT": str(self.port), "BOXOFFICE_REDIS_URL": REDIS_URL, "BOXOFFICE_WORKERS": "1"})
        env.update(self.env)
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "boxoffice.cli", "serve", *self.args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log: {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}{self.ready_path}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"server did not answer within {timeout_s}s; log: {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout_s)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def race(
    client: httpx.AsyncClient, requests: list[dict[str, object]], concurrency: int | None = None
) -> list[httpx.Response]:
    """Fire requests together (a barrier releases them at once), at most `concurrency` in flight.

    httpx's pool degrades badly with thousands of queued requests, so large runs cap the
    in-flight count instead of queueing inside the client.
    """
    gate = asyncio.Event()
    slots = asyncio.Semaphore(concurrency or len(requests))

    async def one(body: dict[str, object]) -> httpx.Response:
        await gate.wait()
        async with slots:
            return await client.post("/api/v1/bookings", json=body)

    tasks = [asyncio.create_task(one(b)) for b in requests]
    await asyncio.sleep(0)
    gate.set()
    # Wait for every request, even after a failure, so no straggler lands in the next test.
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, httpx.Response)]

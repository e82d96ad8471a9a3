"""Test infrastructure: throwaway databases, real server processes and the factory that starts them."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

Setting = str | int | float | bool
"""A value of one `boxoffice.settings.Settings` field, as the factory takes it."""

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
"""Server logs and other evidence a failed run leaves behind (ignored by git)."""
ADMIN_URL = os.environ.get("BOXOFFICE_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BOXOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MIGRATION_LOCK_KEY = 0x626F786F
"""The advisory lock `boxoffice/storage/migrations/env.py` takes so that instances migrate one at a time."""
START_TIMEOUT_S = 120.0
"""A busy machine (CI on 2 cores, other suites in parallel) can take a while to start a server."""


LOAD_LIMITS_OFF: dict[str, Setting] = {
    "rate_limit_per_ip": 0,
    "rate_limit_per_user": 0,
    "seats_per_user": 0,
    "ws_max_connections_per_address": 0,
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

    def start(self, timeout_s: float = START_TIMEOUT_S) -> ServerProcess:
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
                if httpx.get(f"{self.base_url}{self.ready_path}", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"server did not answer within {timeout_s}s; log: {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int | None:
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


StartServer = Callable[..., ServerProcess]


def setting_env(settings: Mapping[str, Setting]) -> dict[str, str]:
    """`hold_ttl_s=3` -> `BOXOFFICE_HOLD_TTL_S=3`: keyword names follow `boxoffice.settings.Settings`."""
    return {
        f"BOXOFFICE_{name.upper()}": (str(v).lower() if isinstance(v, bool) else str(v)) for name, v in settings.items()
    }


class ServerFactory:
    """Starts real `boxoffice serve` processes with per-test settings; `close()` stops them all and
    drops every database it created (servers first, so nothing is connected any more).

    Each server gets, unless told otherwise: a fresh database, a Redis key prefix of its own, one
    worker and a small pool (many servers share one PostgreSQL), no drain on SIGTERM (stopping
    must not wait), and a log file in `test-artifacts/`.
    """

    DEFAULTS: Mapping[str, Setting] = {"workers": 1, "db_pool_min": 1, "db_pool_max": 5, "drain_s": 0}

    def __init__(self, artifacts: Path, name: str) -> None:
        self._stack = contextlib.ExitStack()
        self._artifacts = artifacts
        artifacts.mkdir(exist_ok=True)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        self._name = re.sub(r"[^\w.-]+", "_", f"{name}-{worker}" if worker else name)[:150]
        self._logs: Counter[str] = Counter()

    def __enter__(self) -> ServerFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def database(self, prefix: str = "bo_test") -> str:
        """A fresh, empty database, dropped when the factory closes."""
        return self._stack.enter_context(fresh_database(prefix))

    def __call__(
        self,
        *args: str,
        database_url: str | None = None,
        embedded: bool = False,
        log: str = "server",
        ready_path: str = "/api/v1/seats",
        env: Mapping[str, str] | None = None,
        settings: Mapping[str, Setting] | None = None,
        **overrides: Setting,
    ) -> ServerProcess:
        """Start a server and wait until `ready_path` answers 200.

        `args` go to `boxoffice serve` (e.g. "--workers", "2"). `settings` (a suite's preset) and then
        `overrides` are `Settings` field names: `server_factory(settings=REALTIME, ws_max_connections=3)`.
        `env` sets other variables (e.g. PROMETHEUS_MULTIPROC_DIR). With `embedded=True` there is no
        DATABASE_URL: `serve` runs its embedded PostgreSQL.
        """
        full = {
            **self.DEFAULTS,
            "redis_key_prefix": f"bo-test-{uuid.uuid4().hex[:8]}:",
            **(settings or {}),
            **overrides,
        }
        environment = setting_env(full)
        if not embedded:
            environment["DATABASE_URL"] = database_url or self.database()
        environment.update(env or {})
        server = ServerProcess(env=environment, args=list(args), log_path=self._log_path(log), ready_path=ready_path)
        return self._stack.enter_context(server)

    def configured(self, settings: Mapping[str, Setting] | None = None, **defaults: Any) -> StartServer:
        """This factory with a suite's preset `settings` and default arguments; a call's own win."""

        def start(*args: str, **kwargs: Any) -> ServerProcess:
            overrides = {**defaults, **kwargs}
            return self(*args, settings={**(settings or {}), **overrides.pop("settings", {})}, **overrides)

        return start

    def _log_path(self, log: str) -> Path:
        """A new, empty log file (a restart of the same server appends to it; an earlier run's lines go)."""
        stem = f"{self._name}-{log}"
        self._logs[stem] += 1
        count = self._logs[stem]
        path = self._artifacts / (f"{stem}.log" if count == 1 else f"{stem}-{count}.log")
        path.write_bytes(b"")
        return path

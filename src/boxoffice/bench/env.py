"""A throwaway database and a real `boxoffice serve` process for one benchmark run."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("BOXOFFICE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str = "bo_bench") -> Iterator[str]:
    """A uniquely named database on the admin URL's server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temp dir (run as `postgres` under root): safe to restart.

    Tests restart it; the benchmark uses it so the shared server's connection limit and other
    tenants' databases stay out of the measurement.
    """

    port: int = field(default_factory=lambda: free_port())
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bo-pg-")))
    options: str = ""
    """Extra server flags, e.g. `-c fsync=off` for tests that only care about behaviour."""

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        os.chmod(self.root, 0o777)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.root / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        extra = os.environ.get("BOXOFFICE_BENCH_PG_OPTIONS", "")  # e.g. "-c log_min_duration_statement=50"
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        opts = f"{opts} {self.options} {extra}"
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.root / "data"),
            "-o",
            opts,
            "-w",
            "-l",
            str(self.root / "log"),
            "start",
        )

    def postmaster_pid(self) -> int:
        """The server's root process: its CPU plus its children's is all PostgreSQL spent."""
        return int((self.root / "data" / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()
        if keep := os.environ.get("BOXOFFICE_BENCH_PG_LOG"):  # the server's log outlives the cluster
            with contextlib.suppress(OSError):
                shutil.copyfile(self.root / "log", keep)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_postgres(options: str = "") -> Iterator[PrivatePostgres]:
    """Start a throwaway cluster; yield it (admin URL, postmaster); stop and delete it afterwards."""
    pg = PrivatePostgres(options=options)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


def reset_inventory(database_url: str) -> None:
    """Every seat available again, no bookings or events; the layout stays."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE seat_events, bookings")
        conn.execute("UPDATE seats SET status = 'AVAILABLE', booked_by = NULL, booked_at = NULL")
        conn.execute("VACUUM ANALYZE seats")


@contextlib.contextmanager
def server(
    env: dict[str, str], workers: int, log_path: Path | None, timeout_s: float = 60.0
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Run `boxoffice serve` in its own session; yield (port, process) once it answers."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    full_env.update(env)
    # A benchmark's server stops when its run ends: no load balancer to drain from.
    full_env.update({"BOXOFFICE_PORT": str(port), "BOXOFFICE_WORKERS": str(workers), "BOXOFFICE_DRAIN_S": "0"})
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "serve"],
        env=full_env,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server did not answer in {timeout_s}s; see {log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/seats?limit=1", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        yield port, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if log:
            log.close()

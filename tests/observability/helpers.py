"""Scraping, waiting and a controllable TCP proxy (a database that can vanish or hang on demand)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.support import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, keyed by (sample name, labels)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def scrape(base_url: str) -> Samples:
    response = httpx.get(f"{base_url}/actuator/prometheus", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def readiness(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/actuator/health/readiness", timeout=30)


def mmap_file(path: Path, read_mode: bool = False) -> Any:
    """One worker's metric file, through prometheus_client's (untyped) MmapedDict."""
    return MmapedDict(str(path), read_mode=read_mode)  # type: ignore[no-untyped-call]


def file_samples(path: Path) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples one worker wrote to its own mmap file (to prove a scrape adds the workers up)."""
    out = {}
    mapped = mmap_file(path, read_mode=True)
    try:
        for key, val, _ in mapped.read_all_values():
            _, name, labels, _ = json.loads(key)
            out[(name, frozenset(labels.items()))] = val
    finally:
        mapped.close()
    return out


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `close()` drops every connection and refuses new ones,
    `blackhole()` accepts and swallows bytes (a hung database), `drop_replies()` forwards requests
    but swallows the answers (the database acts, the client never hears), `open()` restores service."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._forwarding = True
        self._replies = True
        self._trigger: bytes | None = None

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self, coro: Callable[[], object]) -> None:
        async def call() -> None:
            result = coro()
            if asyncio.iscoroutine(result):
                await result

        asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    def open(self) -> None:
        def set_forwarding() -> None:
            self._forwarding = self._replies = True
            self._trigger = None

        self._run(set_forwarding)
        if self._server is None:
            self._run(self._listen)

    def blackhole(self) -> None:
        def stop_forwarding() -> None:
            self._forwarding = False

        self._run(stop_forwarding)

    def drop_replies(self, after: bytes | None = None) -> None:
        """Swallow answers from now on, or from when a request containing `after` (e.g. b"COMMIT") is sent."""

        def stop_replies() -> None:
            if after is None:
                self._replies = False
            else:
                self._trigger = after

        self._run(stop_replies)

    def close(self) -> None:
        self._run(self._shutdown)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _upstream(self, writer: asyncio.StreamWriter) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Open the connection to the target for a client's `writer` (None: refused, client aborted)."""
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return None
        self._writers.add(up_writer)
        return up_reader, up_writer

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._upstream(writer)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer, reply=True), return_exceptions=True
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: bool = False) -> None:
        while data := await reader.read(65536):
            if not reply and self._trigger is not None and self._trigger in data:
                self._replies, self._trigger = False, None
            if self._forwarding and (self._replies or not reply):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()


@contextlib.contextmanager
def redis_lease(url: str, key: str, ttl_ms: int = 30_000) -> Iterator[None]:
    """Hold a seat's lease as if another instance were booking it."""
    import redis

    client = redis.Redis.from_url(url)
    client.set(key, "held-by-test", px=ttl_ms)
    try:
        yield
    finally:
        client.delete(key)
        client.close()


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, ours to stop and start (never the shared one)."""

    BIN = Path(os.environ.get("BOXOFFICE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="bo-obs-pg-", dir="/tmp"))
        self.data = self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def __enter__(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.start()
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

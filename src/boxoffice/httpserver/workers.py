"""Instance-wide readiness: each worker marks its state in the shared metrics directory.

With several worker processes behind one port, a load balancer's probe reaches one of them at
random; readiness must speak for all. Two marks, named after the worker's pid:

- `worker_ready_<pid>`: migrated and seeded, serving. Removed when the worker drains or stops.
- `worker_starting_<pid>`: taking connections but not ready yet. At start-up each worker listens at
  once (liveness answers while it migrates or waits for another instance's migration) and answers
  503 until it is ready; while one does, the whole instance says DOWN, so a probe gets the same
  answer from every worker.

A worker that starts while a sibling already serves (the supervisor's replacement of a crashed
worker, or a rolling restart) takes no connection until it is ready (`take_turn`): its siblings
answer meanwhile, and the instance stays in rotation as long as the quorum of ready workers holds.
A dead worker's marks (its pid is gone) do not count and are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from boxoffice.observability.metrics_dir import ENV

PREFIX = "worker_ready_"
STARTING_PREFIX = "worker_starting_"
EXPECTED_ENV = "BOXOFFICE_WORKERS"
_EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class Workers:
    ready: int
    """Live workers marked ready (serving)."""
    starting: int
    """Live workers taking connections before they are ready (start-up)."""
    expected: int

    def quorum(self, minimum: int) -> int:
        """Ready workers the instance needs: `minimum` (0: every worker), at most as many as it runs."""
        return self.expected if minimum <= 0 else min(minimum, self.expected)

    def serving(self, minimum: int) -> bool:
        return self.starting == 0 and self.ready >= self.quorum(minimum)


def _directory() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


_PROC = Path("/proc/self/stat").exists()


def _alive(pid: int) -> bool:
    """Running: a killed worker stays a zombie until the supervisor reaps it (up to 0.5 s), and a
    zombie serves nothing. Not shared with observability.multiprocess: importing it loads
    prometheus_client, which must not happen before serve has set up the metrics directory."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if not _PROC:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat.rsplit(b")", 1)[-1].split()[:1] not in ([b"Z"], [b"X"])


def _mark(prefix: str, on: bool) -> None:
    path = _directory()
    if path is None:
        return
    marker = path / f"{prefix}{os.getpid()}"
    if on:
        marker.touch()
    else:
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()


def mark_ready(ready: bool) -> None:
    """Mark (or unmark) this worker ready; either way it is no longer starting. A no-op outside
    `boxoffice serve` (no shared directory)."""
    _mark(PREFIX, ready)
    _mark(STARTING_PREFIX, False)


def clear_stale(path: Path) -> None:
    """Forget a previous run's markers (an operator-provided directory outlives the server)."""
    for prefix in (PREFIX, STARTING_PREFIX):
        for stale in path.glob(f"{prefix}*"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()


def _live(path: Path, prefix: str) -> list[int]:
    """Pids with a `prefix` mark whose process is alive; the marks of dead ones are removed."""
    pids = []
    for entry in os.scandir(path):
        name = entry.name
        if not name.startswith(prefix) or not name[len(prefix) :].isdigit():
            continue
        pid = int(name[len(prefix) :])
        if _alive(pid):
            pids.append(pid)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
    return pids


def workers() -> Workers | None:
    """How many workers are ready (and starting) out of how many `serve` started; None outside
    `boxoffice serve`."""
    path = _directory()
    if path is None:
        return None
    expected = int(os.environ.get(EXPECTED_ENV, "1") or "1")
    return Workers(len(_live(path, PREFIX)), len(_live(path, STARTING_PREFIX)), expected)


async def take_turn(ready: asyncio.Event) -> None:
    """Return when this worker should start taking connections (uvicorn listens once the app's
    start-up returns).

    While a sibling serves, that is once this worker is ready (or asked to stop): a replacement
    does not answer 503 to requests its siblings would serve. Otherwise at once, marked as
    starting, so that liveness answers during a long migration.
    """
    path = _directory()
    if path is None or ready.is_set():
        return
    others = [pid for pid in _live(path, PREFIX) if pid != os.getpid()]
    if not others:
        _mark(STARTING_PREFIX, True)
        return
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    originals = {int(sig): signal.getsignal(sig) for sig in _EXIT_SIGNALS}

    def on_signal(sig: int, frame: FrameType | None) -> None:
        # uvicorn's own handler still runs (it marks the server as exiting); the wait ends with it.
        original = originals[sig]
        if callable(original):
            original(sig, frame)
        loop.call_soon_threadsafe(stop.set)

    for number in originals:
        signal.signal(number, on_signal)
    waits = [asyncio.ensure_future(ready.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
        for number, original in originals.items():
            if original is not None and signal.getsignal(number) is on_signal:
                signal.signal(number, original)

"""Losing any one machine of the multi-machine stack under load loses no acknowledged booking.

One stack for the module (tests/ha/conftest.py). Each case resets the inventory, puts bookings
through HAProxy from many clients, injects its fault while requests are in flight, and ends on the
fault suite's invariants read from the current primary: no seat booked twice, every 201 in the
database, bookings = booked seats, nothing committed behind a definite refusal. Failover times are
printed (`-s` or `-rP` shows them).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time

import pytest
from deploy.ha.localstack import PatroniNode, Stack, redis_command

from tests.ha.harness import Recorder, check_invariants, first_success, load
from tests.helpers import DEADLINE_S, until
from tests.realtime.client import SeatView, comparable
from tests.realtime.helpers import db_seats
from tests.support import reset_inventory

pytestmark = [pytest.mark.ha, pytest.mark.timeout(900)]

LOAD_SEATS = range(1, 601)
PROBE_SEATS = range(601, 1001)
ALL = ("ATOMIC", "DB", "REDIS")
DATABASE_ONLY = ("ATOMIC", "DB")


def servers(stack: Stack) -> dict[str, str]:
    """HAProxy's view of the Box Office backend, from its admin socket."""
    return {k.split("/", 1)[1]: v for k, v in stack.haproxy_servers().items() if k.startswith("boxoffice/")}


def served(stack: Stack, name: str) -> int:
    """Requests HAProxy has sent to one instance (`stot`, from the admin socket)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(2)
        sock.connect(str(stack.root / "haproxy.sock"))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    for line in data.decode().splitlines():
        cols = line.split(",")
        if cols[:2] == ["boxoffice", name]:
            return int(cols[7])
    raise AssertionError(f"{name} not in HAProxy's stats")


def all_up(stack: Stack) -> bool:
    return all(state == "UP" for state in servers(stack).values())


def report(what: str, seconds: float) -> None:
    print(f"\nHA {what}: {seconds:.2f} s")


@pytest.fixture
def fresh(stack: Stack) -> Stack:
    """Every seat free, every instance ready in HAProxy."""
    wait = time.monotonic() + DEADLINE_S
    while not all_up(stack):
        assert time.monotonic() < wait, f"not every instance is UP in HAProxy: {servers(stack)}"
        time.sleep(0.2)
    reset_inventory(stack.database_url)
    return stack


async def test_app_instance_sigkill_under_load(fresh: Stack) -> None:
    stack = fresh
    recorder, stop = Recorder(), asyncio.Event()
    loader = asyncio.create_task(load(recorder, stack.base_url, LOAD_SEATS, ALL, stop))
    await until(recorder.progress(150), what="load before the kill")
    victim = stack.instances[0]
    assert victim.popen is not None
    killed_at = time.monotonic()
    victim.signal(signal.SIGKILL)
    await until(lambda: servers(stack)["app0"] == "DOWN", what="HAProxy to take app0 out")
    down_at = time.monotonic()
    report("app instance SIGKILL -> DOWN in HAProxy", down_at - killed_at)
    await until(recorder.progress(150), what="load on the survivor")
    before = served(stack, "app0")
    stack.start_app(0)
    await until(lambda: servers(stack)["app0"] == "UP", what="HAProxy to put app0 back")
    await until(lambda: served(stack, "app0") > before + 20, what="traffic on the restarted app0")
    stop.set()
    await loader
    print(f"\nHA app kill history: {recorder.summary()}")

    # Only requests in flight on the victim may end unknown (HAProxy: 503 OUTCOME_UNKNOWN, or a lost
    # connection): sent before HAProxy saw it down, and no more than the clients had in flight.
    # Every request sent after that was answered, by the survivor.
    unknown = recorder.where(lambda t: t.op.kind == "unknown")
    seen = [(round(t.started - killed_at, 2), t.op.error or t.op.message) for t in unknown]
    print(f"\nHA app kill unknowns (started s after the kill, answer): {seen}")
    late = [(round(t.started - killed_at, 3), t.op) for t in unknown if t.started >= down_at]
    assert not late, f"requests sent after HAProxy took the instance out ended unknown: {late[:3]}"
    assert len(unknown) <= 16, f"more unknowns than requests in flight: {len(unknown)}"
    assert recorder.where(lambda t: t.started > killed_at and t.op.kind == "ok"), "nothing booked after the kill"
    check_invariants(stack.database_url, recorder)


async def test_rolling_restart_fails_no_request(fresh: Stack) -> None:
    stack = fresh
    recorder, stop = Recorder(), asyncio.Event()
    loader = asyncio.create_task(load(recorder, stack.base_url, LOAD_SEATS, ALL, stop))
    await until(recorder.progress(100), what="load before the restart")
    for index in range(len(stack.instances)):
        name, old = f"app{index}", stack.instances[index]
        assert old.popen is not None
        signalled = time.monotonic()
        old.signal(signal.SIGTERM)
        # Readiness turns 503 at once: HAProxy takes the instance out while it still serves.
        await until(lambda n=name: servers(stack)[n] != "UP", what=f"HAProxy to take {name} out")  # type: ignore[misc]
        assert old.alive, f"{name} stopped before HAProxy took it out of the rotation"
        report(f"rolling restart: {name} out of HAProxy after SIGTERM", time.monotonic() - signalled)
        await asyncio.to_thread(old.popen.wait, DEADLINE_S)
        before = served(stack, name)
        stack.start_app(index)
        await until(lambda n=name: servers(stack)[n] == "UP", what=f"{name} back in HAProxy")  # type: ignore[misc]
        report(f"rolling restart: {name} SIGTERM -> UP again", time.monotonic() - signalled)
        await until(lambda n=name, b=before: served(stack, n) > b + 20, what=f"traffic on {name}")  # type: ignore[misc]
    stop.set()
    await loader
    print(f"\nHA rolling restart history: {recorder.summary()}")

    # Zero failed requests: every answer is a booking, a refusal about the seat, or a definite 503
    # with Retry-After (a retry the client was told to make). Nothing unknown, no lost connection.
    unknown = recorder.where(lambda t: t.op.kind == "unknown")
    assert not unknown, [t.op for t in unknown[:5]]
    refused = {(t.op.status, t.op.error) for t in recorder.timed if t.op.kind == "fail"}
    assert all(status in (409, 503) for status, _ in refused), refused
    check_invariants(stack.database_url, recorder)


async def test_redis_master_killed_database_strategies_never_stop(fresh: Stack) -> None:
    stack = fresh
    assert stack.redis is not None
    recorder, stop = Recorder(), asyncio.Event()
    loader = asyncio.create_task(load(recorder, stack.base_url, LOAD_SEATS, ALL, stop))
    await until(recorder.progress(150), what="load before the kill")
    old_master = stack.redis.master_port()
    killed_at = time.monotonic()
    dead = stack.redis.kill_master()
    # REDIS bookings fail fast (503 REDIS_UNAVAILABLE) until Sentinel promotes the replica, then
    # resume by themselves; the instances are not restarted.
    resumed_at = await first_success(recorder, stack.base_url, PROBE_SEATS, "REDIS", 0.1)
    report("Redis master SIGKILL -> REDIS bookings succeed again", resumed_at - killed_at)
    assert stack.redis.master_port() not in (None, old_master)
    await until(recorder.progress(150), what="load after the failover")
    stop.set()
    await loader
    print(f"\nHA Redis failover history: {recorder.summary()}")

    database = recorder.where(lambda t: t.op.strategy in DATABASE_ONLY)
    # (DATABASE_BUSY, a pool wait on a starved machine, has nothing to do with Redis.)
    stopped = [
        t.op for t in database if t.op.kind == "unknown" or (t.op.status == 503 and t.op.error != "DATABASE_BUSY")
    ]
    assert not stopped, f"DB/ATOMIC bookings stopped with Redis: {stopped[:5]}"
    during = [t for t in database if killed_at < t.ended < resumed_at and t.op.kind == "ok"]
    assert during or resumed_at - killed_at < 0.5, "no DB/ATOMIC booking succeeded while Redis failed over"
    check_invariants(stack.database_url, recorder)
    # The old master comes back as a replica of the new one (Sentinel reconfigures it).
    stack.redis.procs[dead].start()
    port = stack.redis.ports[dead]
    await until(
        lambda: "master_link_status:up" in str(_redis_info(port)),
        what="the old master to rejoin as a replica",
    )


def _redis_info(port: int) -> object:
    try:
        return redis_command(port, "INFO", "replication")
    except (OSError, ValueError):
        return None


async def test_postgres_primary_killed_standby_promoted_nothing_lost(fresh: Stack) -> None:
    stack = fresh
    old = stack.primary()
    assert old is not None and stack.sync_standby_ready()
    standby = next(n for n in stack.nodes if n is not old)
    app_pids = [p.popen.pid for p in stack.instances if p.popen is not None]
    views = [SeatView(stack.base_url) for _ in range(3)]
    for view in views:
        await view.start()
    end = time.monotonic() + 10 * DEADLINE_S
    pumps = [asyncio.create_task(v.pump(end)) for v in views]

    recorder, stop = Recorder(), asyncio.Event()
    loader = asyncio.create_task(load(recorder, stack.base_url, LOAD_SEATS, ALL, stop))
    await until(recorder.progress(150), what="load before the kill")
    killed_at = time.monotonic()
    await asyncio.to_thread(old.kill)
    resumed_at = await first_success(recorder, stack.base_url, PROBE_SEATS, "DB", 0.25)
    promoted = await asyncio.to_thread(_role, standby)
    report("PostgreSQL primary SIGKILL -> bookings succeed again", resumed_at - killed_at)
    assert promoted == "primary", f"the synchronous standby was not promoted ({promoted})"
    await until(recorder.progress(150), what="load after the failover")
    stop.set()
    await loader
    print(f"\nHA PostgreSQL failover history: {recorder.summary()}")

    # Every 201 is in the new primary (reached through HAProxy's primary endpoint).
    check_invariants(stack.database_url, recorder)
    # The instances recovered by themselves: same processes, still in the rotation.
    assert [p.popen.pid for p in stack.instances if p.popen is not None] == app_pids
    assert all_up(stack)
    # WebSocket clients (STOMP through HAProxy) converge on the new primary's seats.
    database = await asyncio.to_thread(db_seats, stack.database_url)
    try:
        await until(
            lambda: all({s: comparable(x) for s, x in v.seats.items()} == database for v in views),
            what="every WebSocket view to match the new primary",
        )
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for view in views:
            await view.close()
    print(f"\nHA WebSocket views: resyncs={[v.resyncs for v in views]} reconnects={[v.reconnects for v in views]}")

    # The old primary rejoins as the synchronous standby (pg_rewind if it must).
    rejoin = time.monotonic()
    stack.restart_node(old)
    await until(lambda: _role(old) == "replica" and stack.sync_standby_ready(), what="the old primary to rejoin")
    report("old primary restarted -> synchronous standby again", time.monotonic() - rejoin)


def _role(node: PatroniNode) -> str:
    return node.role()

"""The standard JavaScript STOMP client (@stomp/stompjs, from npm) against the real server."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

from tests.helpers import DEADLINE_S
from tests.realtime.client import without_sequences, ws_url
from tests.realtime.helpers import HEARTBEAT_MS, assert_consecutive, book, free_seats, snapshot
from tests.support import ServerProcess

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
SEATS = 25


async def test_stompjs_receives_every_booking(rt_server: ServerProcess, rt_database: str) -> None:
    node = shutil.which("node")
    assert node, "Node.js is required (see README: Real-time updates)"
    assert (NODE_DIR / "node_modules" / "@stomp" / "stompjs").is_dir(), "run scripts/bootstrap (npm ci in tests/node)"
    proc = await asyncio.create_subprocess_exec(
        node,
        "stomp_subscriber.mjs",
        ws_url(rt_server.base_url),
        str(SEATS),
        str(int(2 * DEADLINE_S * 1000)),
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: list[dict[str, Any]] = []

    async def next_line() -> dict[str, Any]:
        raw = await asyncio.wait_for(stdout.readline(), DEADLINE_S)
        assert raw, f"node exited early: {lines}"
        lines.append(json.loads(raw))
        return lines[-1]

    try:
        connected = await next_line()
        assert connected == {"event": "connected", "version": "1.2", "heartBeat": f"{HEARTBEAT_MS},{HEARTBEAT_MS}"}
        assert (await next_line())["event"] == "subscribed"
        # Stay idle across several heart-beat periods (1 s, negotiated from the client's 1000 and the
        # server's 400): stompjs drops the link if beats stop either way.
        await asyncio.sleep(3.5)
        seats = free_seats(rt_database, SEATS)
        started = time.monotonic()
        bookings = [await asyncio.to_thread(book, rt_server.base_url, s, f"js-{s}") for s in seats]
        await asyncio.wait_for(proc.wait(), 2 * DEADLINE_S)
        while raw := await stdout.readline():
            lines.append(json.loads(raw))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, lines
    messages = [line for line in lines if line["event"] == "message"]
    assert not [line for line in lines if line["event"] in ("stomp-error", "timeout")], lines
    lifecycle = [line["event"] for line in lines if line["event"] != "message"]
    assert lifecycle[-3:] == ["disconnect-receipt", "closed", "done"]
    assert [line["receiptId"] for line in lines if line["event"] == "disconnect-receipt"] == ["bye"]
    assert_consecutive([m["body"]["sequence"] for m in messages])
    assert [m["body"]["sequence"] for m in messages] == [b["sequence"] for b in bookings]
    current = {s["seatId"]: s for s in snapshot(rt_server.base_url)["seats"]}
    for message in messages:
        headers, body = message["headers"], message["body"]
        assert headers["destination"] == "/topic/seats"
        assert headers["subscription"] == "seats-1"
        assert headers["content-type"] == "application/json"
        assert headers["message-id"]
        assert without_sequences(body) == current[body["seatId"]]
    print(f"\nstompjs: {len(messages)} messages in {time.monotonic() - started:.2f}s")

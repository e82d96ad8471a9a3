"""STOMP 1.2 over a real WebSocket against a real server: handshake, frames, receipts, errors, limits."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.realtime.client import ClosedError, StompClient, without_sequences, ws_url
from tests.realtime.conftest import ALLOWED_ORIGIN, HEARTBEAT_MS, MAX_FRAME, MAX_SUBSCRIPTIONS, realtime_env
from tests.realtime.helpers import book, free_seats, snapshot
from tests.support import ServerProcess


@pytest.fixture
async def bystander(rt_server: ServerProcess) -> AsyncIterator[StompClient]:
    """A well-behaved subscriber that must keep receiving whatever other clients do."""
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.subscribe()
    yield client
    await client.close()


async def assert_still_served(client: StompClient, server: ServerProcess, database_url: str) -> None:
    [seat] = free_seats(database_url, 1)
    await asyncio.to_thread(book, server.base_url, seat, "bystander-check")
    [event] = await client.messages(1, wait_s=10)
    assert event["seatId"] == seat and event["status"] == "BOOKED"


async def test_connect_negotiates_version_heart_beat_and_subprotocol(rt_server: ServerProcess) -> None:
    client = await StompClient.open(ws_url(rt_server.base_url), subprotocols=["v10.stomp", "v12.stomp"])
    assert client.ws.subprotocol == "v12.stomp"
    await client.send("CONNECT", [("accept-version", "1.0,1.1,1.2"), ("host", "x"), ("heart-beat", "100,50")])
    frame = await client.next_frame()
    assert frame.command == "CONNECTED"
    assert frame.headers["version"] == "1.2"
    assert frame.headers["heart-beat"] == f"{HEARTBEAT_MS},{HEARTBEAT_MS}"
    assert frame.headers["session"]
    await client.close()


async def test_stomp_command_connects_too(rt_server: ServerProcess) -> None:
    client = await StompClient.open(ws_url(rt_server.base_url), subprotocols=[])
    await client.send("STOMP", [("accept-version", "1.2"), ("host", "x")])
    assert (await client.next_frame()).command == "CONNECTED"
    await client.close()


async def test_server_sends_heart_beats_at_the_negotiated_rate(rt_server: ServerProcess) -> None:
    # The client wants one every 100 ms; the server cannot beat faster than its own 400 ms.
    client = await StompClient.connect(ws_url(rt_server.base_url), heartbeat="0,100")
    await asyncio.sleep(2.2)
    beats = client.heartbeats
    assert 3 <= len(beats) <= 8, beats
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert min(gaps) > HEARTBEAT_MS / 1000 * 0.8, gaps
    await client.close()


async def test_no_heart_beats_when_the_client_asks_for_none(rt_server: ServerProcess) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url), heartbeat="0,0")
    await asyncio.sleep(1.2)
    assert client.heartbeats == []
    await client.close()


async def test_a_client_that_stops_beating_is_disconnected(rt_server: ServerProcess) -> None:
    beating = await StompClient.connect(ws_url(rt_server.base_url), heartbeat=f"{HEARTBEAT_MS},0")
    silent = await StompClient.connect(ws_url(rt_server.base_url), heartbeat=f"{HEARTBEAT_MS},0")
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        await beating.send_raw("\n")
        await asyncio.sleep(HEARTBEAT_MS / 1000 / 2)
    error = await silent.next_frame(wait_s=5)
    assert error.command == "ERROR" and "heart-beat" in error.headers["message"]
    await silent.wait_closed()
    # The client that kept beating is still connected and usable.
    await beating.send("DISCONNECT", [("receipt", "bye")])
    frame = await beating.next_frame()
    assert frame.command == "RECEIPT" and frame.headers["receipt-id"] == "bye"
    await beating.close()


async def test_message_frame_headers_and_body_match_the_rest_api(rt_server: ServerProcess, rt_database: str) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    weird_id = "id:with\nspecial\\chars"
    await client.subscribe(weird_id, ack="client-individual")
    [seat] = free_seats(rt_database, 1)
    booking = await asyncio.to_thread(book, rt_server.base_url, seat, "carol")
    frame = await client.next_frame()
    assert frame.command == "MESSAGE"
    assert frame.headers["subscription"] == weird_id
    assert frame.headers["destination"] == "/topic/seats"
    assert frame.headers["content-type"] == "application/json"
    assert frame.headers["message-id"]
    assert frame.headers["ack"] == frame.headers["message-id"]
    body = orjson.loads(frame.body)
    assert body["sequence"] == booking["sequence"]
    [rest] = [s for s in snapshot(rt_server.base_url)["seats"] if s["seatId"] == seat]
    assert without_sequences(body) == rest
    # ACK is accepted (and answered with its receipt).
    await client.send("ACK", [("id", frame.headers["ack"]), ("receipt", "acked")])
    assert (await client.next_frame()).headers["receipt-id"] == "acked"
    await client.close()


async def test_unsubscribe_by_id(rt_server: ServerProcess, rt_database: str) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.subscribe("drop")
    await client.send("UNSUBSCRIBE", [("id", "drop"), ("receipt", "u1")])
    assert (await client.next_frame()).headers["receipt-id"] == "u1"
    # The topic is free again for this connection (one subscription per topic), and only "keep" delivers.
    await client.subscribe("keep")
    [seat] = free_seats(rt_database, 1)
    await asyncio.to_thread(book, rt_server.base_url, seat)
    frame = await client.next_frame()
    assert frame.command == "MESSAGE" and frame.headers["subscription"] == "keep"
    with pytest.raises(TimeoutError):
        await client.next_frame(wait_s=0.5)
    await client.close()


async def test_disconnect_with_receipt_then_close(rt_server: ServerProcess) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.send("DISCONNECT", [("receipt", "77")])
    frame = await client.next_frame()
    assert frame.command == "RECEIPT" and frame.headers["receipt-id"] == "77"
    await client.wait_closed()
    assert client.close_code == 1000


async def test_frames_split_across_and_packed_into_websocket_messages(rt_server: ServerProcess) -> None:
    client = await StompClient.open(ws_url(rt_server.base_url))
    wire = "CONNECT\naccept-version:1.2\nhost:x\n\n\x00\nSUBSCRIBE\nid:s\ndestination:/topic/seats\nreceipt:r1\n\n\x00"
    for piece in (wire[:5], wire[5:20], wire[20:41], wire[41:60], wire[60:]):
        await client.send_raw(piece)
        await asyncio.sleep(0.05)
    assert (await client.next_frame()).command == "CONNECTED"
    assert (await client.next_frame()).headers["receipt-id"] == "r1"
    # Two frames and heart-beat EOLs in one binary message.
    await client.send_raw(b"\n\r\nSUBSCRIBE\nid:t\ndestination:/topic/events/2/seats\n\n\x00\nSEND")
    await client.send_raw(b"\n\n")  # ends SEND's head; its body's NUL comes in the next message
    await client.send_raw(b"\x00")
    error = await client.next_frame()
    assert error.command == "ERROR" and "SEND" in error.headers["message"]
    await client.wait_closed()


@pytest.mark.parametrize(
    ("payload", "message", "code"),
    [
        ("HELLO\n\n\x00", "unknown command", 1002),
        ("SUBSCRIBE\nid:a\\tb\ndestination:/topic/seats\n\n\x00", "escape", 1002),
        ("SUBSCRIBE\ndestination:/topic/seats\n\n\x00", "'id'", 1002),
        ("SUBSCRIBE\nid:1\ndestination:/queue/secret\n\n\x00", "unknown destination", 1002),
        ("SUBSCRIBE\nid:1\ndestination:/topic/seats\nack:sometimes\n\n\x00", "ack mode", 1002),
        ("SEND\ndestination:/topic/seats\n\nfake\x00", "SEND is not supported", 1002),
        ("BEGIN\ntransaction:t\n\n\x00", "BEGIN is not supported", 1002),
        ("CONNECT\naccept-version:1.2\n\n\x00", "already connected", 1002),
        ("UNSUBSCRIBE\nid:nope\n\n\x00", "no subscription", 1002),
        ("SEND\ncontent-length:5\n\nabcdefgh\x00", "content-length", 1002),
        ("SEND\ndestination:/x\n\n" + "x" * (MAX_FRAME + 100) + "\x00", "exceeds", 1009),
    ],
)
async def test_bad_frames_get_error_and_close_without_hurting_others(
    rt_server: ServerProcess, rt_database: str, bystander: StompClient, payload: str, message: str, code: int
) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.send_raw(payload)
    error = await client.next_frame()
    assert error.command == "ERROR"
    assert message in error.headers["message"]
    await client.wait_closed()
    assert client.close_code == code
    await assert_still_served(bystander, rt_server, rt_database)


async def test_frames_before_connect_and_bad_versions_are_refused(rt_server: ServerProcess) -> None:
    for first in (
        "SUBSCRIBE\nid:1\ndestination:/topic/seats\n\n\x00",
        "CONNECT\naccept-version:1.0,1.1\n\n\x00",
        "CONNECT\naccept-version:1.2\nheart-beat:fast\n\n\x00",
    ):
        client = await StompClient.open(ws_url(rt_server.base_url))
        await client.send_raw(first)
        error = await client.next_frame()
        assert error.command == "ERROR", first
        await client.wait_closed()


async def test_error_carries_the_receipt_of_the_offending_frame(rt_server: ServerProcess) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.send("SUBSCRIBE", [("id", "1"), ("destination", "/nowhere"), ("receipt", "r-bad")])
    error = await client.next_frame()
    assert error.command == "ERROR" and error.headers["receipt-id"] == "r-bad"
    await client.wait_closed()


async def test_a_huge_websocket_message_is_refused_before_buffering(
    rt_server: ServerProcess, rt_database: str, bystander: StompClient
) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.send_raw(b"SEND\n\n" + b"x" * (MAX_FRAME * 4))
    with pytest.raises(ClosedError):
        await client.next_frame()
    assert client.close_code == 1009
    await assert_still_served(bystander, rt_server, rt_database)


async def test_an_oversized_frame_split_over_many_messages_is_refused(rt_server: ServerProcess) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.send_raw("SEND\ndestination:/x\n\n")
    with pytest.raises(ConnectionClosed):
        for _ in range(20):
            await client.send_raw("y" * 500)
            await asyncio.sleep(0.05)
    error = await client.next_frame()
    assert error.command == "ERROR" and "exceeds" in error.headers["message"]


async def test_subscription_limit_per_connection(rt_server: ServerProcess) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    for i in range(MAX_SUBSCRIPTIONS):
        await client.subscribe(f"s{i}", f"/topic/events/{i + 2}/seats")
    await client.send("SUBSCRIBE", [("id", "one-too-many"), ("destination", "/topic/seats")])
    error = await client.next_frame()
    assert error.command == "ERROR" and "at most" in error.headers["message"]
    await client.wait_closed()


async def test_duplicate_subscription_id_is_refused(rt_server: ServerProcess) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.subscribe("same")
    await client.send("SUBSCRIBE", [("id", "same"), ("destination", "/topic/seats")])
    assert (await client.next_frame()).command == "ERROR"
    await client.wait_closed()


async def test_origin_allowlist(rt_server: ServerProcess) -> None:
    url = ws_url(rt_server.base_url)
    with pytest.raises(InvalidStatus) as refused:
        await StompClient.open(url, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    for origin in (ALLOWED_ORIGIN, rt_server.base_url, None):
        client = await StompClient.connect(url, origin=origin)
        await client.close()


async def test_connection_limit_per_process(rt_database: str, artifacts: Path) -> None:
    env = realtime_env(rt_database, BOXOFFICE_WS_MAX_CONNECTIONS="3")
    with ServerProcess(env=env, log_path=artifacts / "realtime-limit.log") as server:
        url = ws_url(server.base_url)
        clients = [await StompClient.connect(url) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await StompClient.open(url)
        assert refused.value.response.status_code == 403
        await clients.pop().close()
        for _ in range(50):  # the server notices the close asynchronously
            try:
                clients.append(await StompClient.connect(url))
                break
            except InvalidStatus:
                await asyncio.sleep(0.1)
        assert len(clients) == 3
        for client in clients:
            await client.close()

"""Per-event topics: `/topic/events/{id}/seats`, `/topic/seats` for the default event only, and
gap detection by `prevSequence` while other events' changes take sequence values in between."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import orjson
import pytest

from boxoffice.domain import DEFAULT_EVENT_ID
from boxoffice.realtime.hub import Event, Hub, Subscription
from tests.realtime.client import SeatView, StompClient, comparable, without_sequences, ws_url
from tests.realtime.helpers import REALTIME, book
from tests.support import ServerFactory, ServerProcess, pg_connect

ADMIN_TOKEN = "topics-admin-" + "t" * 24


@pytest.fixture(scope="module")
def topics(module_servers: ServerFactory) -> tuple[ServerProcess, str, int]:
    """A server on its own database with a second event (so no other test sees its changes)."""
    url = module_servers.database("bo_topics")
    proc = module_servers(database_url=url, admin_token=ADMIN_TOKEN, settings=REALTIME)
    spec = {
        "slug": f"topics-{uuid.uuid4().hex[:8]}",
        "name": "Topics Night",
        "venue": "Hall",
        "sections": [{"name": "Main", "rows": 4, "columns": 10}],
    }
    created = httpx.post(
        f"{proc.base_url}/api/v1/admin/events",
        json=spec,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    event_id = created.json()["eventId"]
    assert event_id != DEFAULT_EVENT_ID
    return proc, url, event_id


def event_snapshot(base_url: str, event_id: int) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/api/v1/events/{event_id}/seats", timeout=30).raise_for_status().json()
    return body


def free_seats_of(database_url: str, event_id: int, count: int) -> list[int]:
    with pg_connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id FROM seats WHERE event_id = %s AND status = 'AVAILABLE' ORDER BY id LIMIT %s", (event_id, count)
        ).fetchall()
    assert len(rows) == count
    return [r[0] for r in rows]


async def frames(client: StompClient, count: int) -> list[tuple[Mapping[str, str], dict[str, Any]]]:
    out: list[tuple[Mapping[str, str], dict[str, Any]]] = []
    for _ in range(count):
        frame = await client.next_frame()
        assert frame.command == "MESSAGE", frame
        out.append((frame.headers, orjson.loads(frame.body)))
    return out


async def test_each_topic_carries_only_its_events_changes(topics: tuple[ServerProcess, str, int]) -> None:
    server, database, other = topics
    base = server.base_url
    other_topic = f"/topic/events/{other}/seats"
    legacy, default, per_event, both = [await StompClient.connect(ws_url(base)) for _ in range(4)]
    try:
        await legacy.subscribe("legacy", "/topic/seats")
        await default.subscribe("one", f"/topic/events/{DEFAULT_EVENT_ID}/seats")
        await per_event.subscribe("two", other_topic)
        await both.subscribe("d", "/topic/seats")
        await both.subscribe("o", other_topic)
        before = event_snapshot(base, other)
        [x, y] = free_seats_of(database, other, 2)
        [d, z] = free_seats_of(database, DEFAULT_EVENT_ID, 2)
        # Interleaved: each topic's changes have the other's sequence values between them.
        booked = [await asyncio.to_thread(book, base, seat, f"u{seat}") for seat in (x, d, y, z)]
        seqs = {b["seatId"]: b["sequence"] for b in booked}
        assert seqs[x] < seqs[d] < seqs[y] < seqs[z]

        got_legacy = await frames(legacy, 2)
        got_default = await frames(default, 2)
        got_other = await frames(per_event, 2)
        got_both = await frames(both, 4)
        # The next default-event message after d is z: y (in between) never reached the default topic.
        assert [b["seatId"] for _, b in got_legacy] == [d, z]
        assert [b for _, b in got_default] == [b for _, b in got_legacy], "same shape and content"
        assert [b["seatId"] for _, b in got_other] == [x, y]
        assert {h["destination"] for h, _ in got_legacy} == {"/topic/seats"}
        assert {h["destination"] for h, _ in got_default} == {f"/topic/events/{DEFAULT_EVENT_ID}/seats"}
        assert {h["destination"] for h, _ in got_other} == {other_topic}
        by_sub = {sub: [b["seatId"] for h, b in got_both if h["subscription"] == sub] for sub in ("d", "o")}
        assert by_sub == {"d": [d, z], "o": [x, y]}
        assert all(b["eventId"] == other for _, b in got_other)
        assert all(b["eventId"] == DEFAULT_EVENT_ID for _, b in got_legacy)

        # prevSequence chains each topic's messages; the snapshot taken before is a resume point.
        (_, mx), (_, my) = got_other
        assert mx["sequence"] == seqs[x] and my["sequence"] == seqs[y]
        assert mx["prevSequence"] <= before["sequence"] < mx["sequence"]
        assert my["prevSequence"] == mx["sequence"]
        (_, md), (_, mz) = got_legacy
        assert mz["prevSequence"] == md["sequence"] == seqs[d]
        # Messages equal the per-event snapshot's seats.
        now = {s["seatId"]: s for s in event_snapshot(base, other)["seats"]}
        assert without_sequences(my) == now[y]

        # A client that missed x notices it at y, whichever sequence values lie in between.
        view = SeatView(base, seats={s["seatId"]: s for s in before["seats"]}, sequence=before["sequence"])
        assert view.apply(my) is False and view.gaps == 1
        assert view.apply(mx) and view.apply(my) and view.gaps == 1
        for client in (legacy, default, per_event, both):
            with pytest.raises(TimeoutError):
                await client.next_frame(0.3)
    finally:
        for client in (legacy, default, per_event, both):
            await client.close()


async def test_views_of_two_events_never_see_false_gaps(topics: tuple[ServerProcess, str, int]) -> None:
    """Concurrent bookings in both events: each view stays live on its own topic and ends equal to the database."""
    server, database, other = topics
    base = server.base_url
    views = {
        DEFAULT_EVENT_ID: SeatView(base),
        other: SeatView(base, topic=f"/topic/events/{other}/seats", snapshot_path=f"/api/v1/events/{other}/seats"),
    }
    for view in views.values():
        await view.start()
    seats = {event: free_seats_of(database, event, 12) for event in views}
    # Alternate the events so every topic skips sequence values; several at a time.
    order = [seat for pair in zip(seats[DEFAULT_EVENT_ID], seats[other], strict=True) for seat in pair]
    chunks = [order[i::4] for i in range(4)]

    def book_all(chunk: list[int]) -> list[dict[str, Any]]:
        return [book(base, seat, f"w{seat}") for seat in chunk]

    async def pump_until_done(view: SeatView, last: int) -> None:
        await view.pump_until(lambda: view.sequence >= last, what=f"the view to reach sequence {last}")

    try:
        pumps = [asyncio.ensure_future(view.pump(time.monotonic() + 2)) for view in views.values()]
        results = await asyncio.gather(*(asyncio.to_thread(book_all, chunk) for chunk in chunks))
        await asyncio.gather(*pumps)
        bookings = [b for chunk in results for b in chunk]
        last = {event: max(b["sequence"] for b in bookings if b["seatId"] in seats[event]) for event in views}
        await asyncio.gather(*(pump_until_done(view, last[event]) for event, view in views.items()))
        for event, view in views.items():
            assert view.gaps == 0 and view.resyncs == 1 and view.reconnects == 0, (event, view)
            assert view.sequence == last[event]
            assert view.applied == 12
            truth = {s["seatId"]: s for s in event_snapshot(base, event)["seats"]}
            assert sorted(map(comparable, view.seats.values())) == sorted(map(comparable, truth.values()))
        # The test exercised skipping: the default event's own sequence values are not consecutive.
        default_seqs = sorted(b["sequence"] for b in bookings if b["seatId"] in seats[DEFAULT_EVENT_ID])
        assert default_seqs != list(range(default_seqs[0], default_seqs[0] + len(default_seqs)))
    finally:
        for view in views.values():
            await view.close()


@pytest.mark.parametrize(
    "destination",
    [
        "/topic/events/0/seats",
        "/topic/events/-1/seats",
        "/topic/events/2147483648/seats",
        "/topic/events/99999999999999999999/seats",
        "/topic/events/01/seats",
        "/topic/events/+1/seats",
        "/topic/events/abc/seats",
        "/topic/events//seats",
        "/topic/events/1/seats/extra",
        "/topic/events/1",
        "/topic/events/\uff11/seats",
    ],
)
async def test_bad_event_topics_get_error_and_close(rt_server: ServerProcess, destination: str) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.send("SUBSCRIBE", [("id", "1"), ("destination", destination), ("receipt", "r")])
    error = await client.next_frame()
    assert error.command == "ERROR" and error.headers["receipt-id"] == "r"
    assert "unknown destination" in error.headers["message"]
    await client.wait_closed()
    assert client.close_code == 1002


async def test_largest_event_id_is_a_valid_topic(rt_server: ServerProcess) -> None:
    """No such event: a valid name that simply carries nothing (ids are not looked up per SUBSCRIBE)."""
    client = await StompClient.connect(ws_url(rt_server.base_url))
    try:
        await client.subscribe("max", "/topic/events/2147483647/seats")
        await client.send("UNSUBSCRIBE", [("id", "max"), ("receipt", "gone")])
        assert (await client.next_frame()).headers["receipt-id"] == "gone"
    finally:
        await client.close()


async def test_hub_index_follows_unsubscribe_and_disconnect() -> None:
    """Two subscriptions to one event on a session: dropping one keeps the other fed; dropping all stops it."""
    hub = Hub(queue_size=100, max_subscriptions=5, max_connections=10, heartbeat_ms=0, send_timeout_s=5)
    sent: dict[str, list[str]] = {"a": [], "b": []}

    async def closed(_: int) -> None:
        return None

    def sink(name: str) -> Callable[[str], Awaitable[None]]:
        async def send(text: str) -> None:
            sent[name].append(text)

        return send

    a, b = hub.open(sink("a"), closed), hub.open(sink("b"), closed)
    hub.subscribe(a, Subscription("s1", "/topic/seats", DEFAULT_EVENT_ID, "auto", 1))
    hub.subscribe(a, Subscription("s2", "/topic/events/1/seats", DEFAULT_EVENT_ID, "auto", 2))
    hub.subscribe(a, Subscription("s3", "/topic/events/7/seats", 7, "auto", 3))
    hub.subscribe(b, Subscription("t", "/topic/events/7/seats", 7, "auto", 1))

    async def publish(seq: int, event_id: int) -> list[str]:
        before = {name: len(frames) for name, frames in sent.items()}
        hub.publish([Event.from_json(seq, event_id, b"{}")])
        await asyncio.sleep(0.05)
        return [
            f"{name}:{frame.split('subscription:')[1].split(chr(10))[0]}"
            for name, frames in sent.items()
            for frame in frames[before[name] :]
        ]

    assert sorted(await publish(1, DEFAULT_EVENT_ID)) == ["a:s1", "a:s2"]
    assert sorted(await publish(2, 7)) == ["a:s3", "b:t"]
    assert await publish(3, 8) == []
    assert hub.unsubscribe(a, "s1")
    assert await publish(4, DEFAULT_EVENT_ID) == ["a:s2"]
    assert hub.unsubscribe(a, "s2")
    assert await publish(5, DEFAULT_EVENT_ID) == []
    hub.discard(b)
    assert await publish(6, 7) == ["a:s3"]
    hub.unsubscribe_all(a)
    assert await publish(7, 7) == [] and hub.subscriber_count == 0
    assert not hub._by_event, "the per-event index keeps no session without a subscription"
    await hub.stop()

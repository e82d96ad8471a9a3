"""The waiting room over HTTP: gating, admission tokens (forged, expired, wrong event, replayed,
revoked), many tabs of one visitor, fairness of positions, and what an ungated event keeps doing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import jwt
import pytest

from boxoffice.booking.waitroom.tokens import ADMISSION_AUDIENCE, ADMISSION_ISSUER
from tests.helpers import assert_consistent, eventually, rows, until
from tests.shared import client_for
from tests.support import ServerFactory, ServerProcess
from tests.waitroom import (
    ADMIN,
    WAITROOM,
    admission_key,
    admitted,
    book,
    gate,
    iso,
    join,
    me,
    new_event,
    session,
    soon,
    user_of,
)


@pytest.fixture(scope="module")
def room_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_wr")


@pytest.fixture(scope="module")
def room_server(module_servers: ServerFactory, room_db: str) -> Iterator[ServerProcess]:
    yield module_servers(database_url=room_db, log="waitroom", settings=WAITROOM, seed_rows=2, seed_cols=5)


@pytest.fixture
async def wr(room_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(room_server) as c:
        yield c


@pytest.fixture(scope="module")
def keep_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_wr_keep")


@pytest.fixture(scope="module")
def keep_server(module_servers: ServerFactory, keep_db: str) -> Iterator[ServerProcess]:
    """A server whose purchases do not end admissions (`BOXOFFICE_WAITROOM_END_ON_PURCHASE=false`)."""
    settings = {**WAITROOM, "waitroom_end_on_purchase": False}
    yield module_servers(database_url=keep_db, log="waitroom-keep", settings=settings, seed_rows=2, seed_cols=5)


@pytest.fixture
async def keep(keep_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(keep_server) as c:
        yield c


SLOT_FREED_S = 15.0
"""How long the next in line may wait for a slot a purchase freed: a few 0.2 s ticks, far below the
admission's 600 s lifetime (the wait without the end on purchase)."""


async def _admitted_within(wr: httpx.AsyncClient, event_id: int, auth: dict[str, str], timeout_s: float) -> str:
    async def probe() -> str | None:
        status = await me(wr, event_id, auth)
        token: str | None = status["admissionToken"] if status["state"] == "ADMITTED" else None
        return token

    return await eventually(probe, timeout_s=timeout_s, what="the next in line admitted")


async def test_a_purchase_frees_the_slot_for_the_next_in_line(wr: httpx.AsyncClient, room_db: str) -> None:
    """One buyer at a time: the admitted buyer's purchase ends its admission, so the next visitor is
    admitted by the next steps instead of when the admission expires (600 s). Both ways of buying:
    a hold confirmed (what the page does: the confirmation carries no admission token), then seats
    booked with the token."""
    event_id, seats = await new_event(wr)
    await gate(wr, event_id, maxActive=1, admissionTtlS=600)
    alice, bob, carol = await session(wr), await session(wr), await session(wr)
    for auth in (alice, bob, carol):
        assert (await join(wr, event_id, auth)).status_code == 201
    token = await admitted(wr, event_id, alice)
    assert (await me(wr, event_id, bob))["state"] == "WAITING"
    held = await wr.post("/api/v1/holds", json={"seatIds": seats[:2]}, headers={**alice, "Admission-Token": token})
    assert held.status_code == 201, held.text
    confirmed = await wr.post("/api/v1/bookings", json={"holdToken": held.json()["holdToken"]}, headers=alice)
    assert confirmed.status_code == 201, confirmed.text
    bob_token = await _admitted_within(wr, event_id, bob, SLOT_FREED_S)
    # Alice's turn is over: her state says so and her token buys nothing more.
    assert (await me(wr, event_id, alice))["state"] == "LEFT"
    again = await book(wr, seats[2:3], alice, token)
    assert again.status_code == 403 and again.json()["error"] == "ADMISSION_REVOKED", again.text
    assert "purchase" in again.json()["message"]
    # Leaving after the purchase (what the page does) is harmless: still LEFT.
    left = await wr.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=alice)
    assert left.status_code == 200 and left.json()["state"] == "LEFT", left.text
    # Seats booked with the token end the admission as well: carol is next.
    assert (await book(wr, seats[3:4], bob, bob_token)).status_code == 201
    await _admitted_within(wr, event_id, carol, SLOT_FREED_S)
    states = rows(room_db, "SELECT user_id, state FROM waitroom_visitors WHERE event_id = %s", event_id)
    assert {r["user_id"]: r["state"] for r in states} == {
        user_of(alice): "LEFT",
        user_of(bob): "LEFT",
        user_of(carol): "ADMITTED",
    }
    # A new join after a purchase queues again at the back.
    assert (await join(wr, event_id, alice)).json()["state"] == "WAITING"
    assert_consistent(room_db)


async def test_with_end_on_purchase_off_the_admission_outlives_a_purchase(
    keep: httpx.AsyncClient, keep_db: str
) -> None:
    """`BOXOFFICE_WAITROOM_END_ON_PURCHASE=false`: the buyer keeps its slot (and may buy again) until
    the admission expires or it leaves; the next in line waits meanwhile."""
    event_id, seats = await new_event(keep)
    await gate(keep, event_id, maxActive=1, admissionTtlS=600)
    alice, bob = await session(keep), await session(keep)
    for auth in (alice, bob):
        assert (await join(keep, event_id, auth)).status_code == 201
    token = await admitted(keep, event_id, alice)
    assert (await book(keep, seats[:1], alice, token)).status_code == 201

    def ticked_at() -> datetime:
        moment: datetime = rows(keep_db, "SELECT ticked_at FROM waitroom_events WHERE event_id = %s", event_id)[0][
            "ticked_at"
        ]
        return moment

    # Several steps run after the purchase (a condition on the store, not a sleep); the slot stays taken.
    after = ticked_at()
    await until(lambda: (ticked_at() - after).total_seconds() >= 1.0, what="steps after the purchase")
    assert (await me(keep, event_id, bob))["state"] == "WAITING"
    assert (await me(keep, event_id, alice))["admissionToken"] == token
    assert (await book(keep, seats[1:2], alice, token)).status_code == 201
    # Leaving still frees it.
    await keep.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=alice)
    await _admitted_within(keep, event_id, bob, SLOT_FREED_S)
    assert_consistent(keep_db)


async def test_ungated_event_needs_no_token(wr: httpx.AsyncClient, room_db: str) -> None:
    event_id, seats = await new_event(wr)
    auth = await session(wr)
    r = await join(wr, event_id, auth)
    assert r.status_code == 200 and r.json()["state"] == "NOT_GATED", r.text
    public = (await wr.get(f"/api/v1/events/{event_id}/waiting-room")).json()
    assert public["enabled"] is False
    assert (await book(wr, seats[:1], auth, None)).status_code == 201
    assert (await wr.get("/api/v1/events/999999/waiting-room")).status_code == 404
    assert (await join(wr, 999999, auth)).json()["error"] == "EVENT_NOT_FOUND"
    assert_consistent(room_db)


async def test_gated_event_admits_then_books(wr: httpx.AsyncClient, room_db: str) -> None:
    event_id, seats = await new_event(wr)
    await gate(wr, event_id)
    auth = await session(wr)
    # Without a session there is no place in the queue.
    anonymous = await wr.post(f"/api/v1/events/{event_id}/waiting-room/join")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "UNAUTHENTICATED"
    assert (await wr.get(f"/api/v1/events/{event_id}/waiting-room/me", headers=auth)).status_code == 404
    joined = await join(wr, event_id, auth)
    assert joined.status_code == 201 and joined.json()["state"] in ("WAITING", "ADMITTED"), joined.text
    # Holds and bookings of the gated event need the admission; a hold confirmation does not.
    refused = await book(wr, seats[:1], auth, None)
    assert refused.status_code == 401 and refused.json()["error"] == "ADMISSION_REQUIRED"
    held = await wr.post("/api/v1/holds", json={"seatIds": seats[1:3]}, headers=auth)
    assert held.status_code == 401 and held.json()["error"] == "ADMISSION_REQUIRED"
    # Seats picked by the server (best available, GA by quantity) are gated by the event named.
    best = {"eventId": event_id, "bestAvailable": {"quantity": 2}}
    for path in ("/api/v1/holds", "/api/v1/bookings"):
        by_quantity = await wr.post(path, json=best, headers=auth)
        assert by_quantity.status_code == 401 and by_quantity.json()["error"] == "ADMISSION_REQUIRED", by_quantity.text
    token = await admitted(wr, event_id, auth)
    # Polling again returns the same token.
    assert (await me(wr, event_id, auth))["admissionToken"] == token
    hold = await wr.post("/api/v1/holds", json={"seatIds": seats[1:3]}, headers={**auth, "Admission-Token": token})
    assert hold.status_code == 201, hold.text
    assert (await book(wr, seats[:1], auth, token)).status_code == 201
    # That purchase ended the admission; the hold placed under it is still confirmed.
    confirmed = await wr.post("/api/v1/bookings", json={"holdToken": hold.json()["holdToken"]}, headers=auth)
    assert confirmed.status_code == 201, confirmed.text
    # The default event stays ungated.
    assert (await wr.post("/api/v1/bookings", json={"seatId": 1, "userId": "walk-in"})).status_code == 201
    assert rows(room_db, "SELECT count(*) AS n FROM bookings WHERE status = 'CONFIRMED'")[0]["n"] >= 4
    assert_consistent(room_db)


async def test_forged_wrong_session_wrong_event_and_expired_tokens(wr: httpx.AsyncClient, room_db: str) -> None:
    event_a, seats_a = await new_event(wr)
    event_b, seats_b = await new_event(wr)
    await gate(wr, event_a)
    await gate(wr, event_b)
    alice, bob = await session(wr), await session(wr)
    await join(wr, event_a, alice)
    await join(wr, event_a, bob)
    token = await admitted(wr, event_a, alice)
    claims = jwt.decode(token, options={"verify_signature": False})

    async def refused(seat_ids: list[int], auth: dict[str, str], bad: str) -> str:
        r = await book(wr, seat_ids, auth, bad)
        assert r.status_code == 403, r.text
        error: str = r.json()["error"]
        return error

    # Forged: a valid-looking token signed with another key, and a tampered one.
    forged = jwt.encode({**claims, "exp": int(time.time()) + 600}, b"k" * 32, algorithm="HS256")
    assert await refused(seats_a[:1], alice, forged) == "ADMISSION_INVALID"
    head, body, sig = token.split(".")
    assert await refused(seats_a[:1], alice, f"{head}.{body}.{sig[::-1]}") == "ADMISSION_INVALID"
    assert await refused(seats_a[:1], alice, "not-a-token") == "ADMISSION_INVALID"
    # Another session's token, and a bearer-less request naming the user.
    assert await refused(seats_a[:1], bob, token) == "ADMISSION_INVALID"
    anonymous = await wr.post(
        "/api/v1/bookings", json={"seatIds": seats_a[:1], "userId": "mallory"}, headers={"Admission-Token": token}
    )
    assert anonymous.status_code == 403 and anonymous.json()["error"] == "ADMISSION_INVALID"
    # For another event.
    assert await refused(seats_b[:1], alice, token) == "ADMISSION_WRONG_EVENT"
    # Expired: correctly signed (the servers' key) but past its expiry.
    key = admission_key(room_db)
    expired = jwt.encode({**claims, "exp": int(time.time()) - 1}, key, algorithm="HS256")
    assert await refused(seats_a[:1], alice, expired) == "ADMISSION_EXPIRED"
    # The same key and fresh claims do pass: the refusals above were for the reasons named.
    fresh = jwt.encode(
        {**claims, "exp": int(time.time()) + 60, "aud": ADMISSION_AUDIENCE, "iss": ADMISSION_ISSUER},
        key,
        algorithm="HS256",
    )
    assert (await book(wr, seats_a[:1], alice, fresh)).status_code == 201
    assert (
        rows(
            room_db,
            "SELECT count(*) AS n FROM bookings b JOIN seats s ON s.id = b.seat_id WHERE s.event_id = ANY(%s)",
            [event_a, event_b],
        )[0]["n"]
        == 1
    )
    assert_consistent(room_db)


async def test_token_replayed_after_expiry_is_refused(keep: httpx.AsyncClient) -> None:
    """(On a server where purchases do not end admissions: the token books until it expires.)"""
    wr = keep
    event_id, seats = await new_event(wr)
    await gate(wr, event_id, admissionTtlS=10)
    auth = await session(wr)
    await join(wr, event_id, auth)
    token = await admitted(wr, event_id, auth)
    assert (await book(wr, seats[:1], auth, token)).status_code == 201
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]

    async def lapsed() -> bool:
        r = await book(wr, seats[1:2], auth, token)
        assert r.status_code in (201, 403), r.text
        if r.status_code == 201:
            assert time.time() < expiry + 1  # accepted only before its expiry
            await wr.post(f"/api/v1/bookings/{r.json()['bookings'][0]['bookingId']}/cancel", headers=auth)
            return False
        return bool(r.json()["error"] == "ADMISSION_EXPIRED")

    await eventually(lapsed, what="the admission to lapse", interval_s=0.5)
    status = await me(wr, event_id, auth)
    assert status["state"] == "EXPIRED" and status["admissionToken"] is None
    # Joining again queues at the back and admits anew, with a new token.
    again = await join(wr, event_id, auth)
    assert again.status_code == 200 and again.json()["state"] in ("WAITING", "ADMITTED")
    assert await admitted(wr, event_id, auth) != token


async def test_revocation_and_leaving_end_admissions(wr: httpx.AsyncClient) -> None:
    event_id, seats = await new_event(wr)
    await gate(wr, event_id)
    alice, bob, carol = await session(wr), await session(wr), await session(wr)
    for auth in (alice, bob, carol):
        await join(wr, event_id, auth)
    tokens = [await admitted(wr, event_id, a) for a in (alice, bob, carol)]
    user = jwt.decode(tokens[0], options={"verify_signature": False})["sub"]
    r = await wr.post(f"/api/v1/admin/events/{event_id}/waiting-room/revoke", json={"userId": user}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["revoked"] == 1
    refused = await book(wr, seats[:1], alice, tokens[0])
    assert refused.status_code == 403 and refused.json()["error"] == "ADMISSION_REVOKED"
    assert (await me(wr, event_id, alice))["state"] == "REVOKED"
    assert (await join(wr, event_id, alice)).json()["error"] == "ADMISSION_REVOKED"
    # Leaving ends one's own admission.
    left = await wr.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=bob)
    assert left.status_code == 200 and left.json()["state"] == "LEFT"

    async def bob_refused() -> bool:
        r = await book(wr, seats[1:2], bob, tokens[1])
        return r.status_code == 403 and r.json()["error"] == "ADMISSION_REVOKED"

    await eventually(bob_refused, what="the left visitor's token refused")
    # Revoke everyone: carol's token stops; the room keeps going.
    r = await wr.post(f"/api/v1/admin/events/{event_id}/waiting-room/revoke", headers=ADMIN)
    assert r.status_code == 200 and r.json()["revoked"] >= 1
    refused = await book(wr, seats[2:3], carol, tokens[2])
    assert refused.status_code == 403 and refused.json()["error"] == "ADMISSION_REVOKED"
    admin = (await wr.get(f"/api/v1/admin/events/{event_id}/waiting-room", headers=ADMIN)).json()
    assert admin["revokedBefore"] is not None and admin["enabled"] is True


async def test_many_tabs_of_one_visitor_share_one_place(wr: httpx.AsyncClient, room_db: str) -> None:
    event_id, _ = await new_event(wr)
    await gate(wr, event_id, startsAt=iso(soon(3600)))  # nobody is admitted: everyone waits
    others = [await session(wr) for _ in range(5)]
    for auth in others:
        await join(wr, event_id, auth)
    visitor = await session(wr)
    answers = await asyncio.gather(*(join(wr, event_id, visitor) for _ in range(30)))
    assert sorted(r.status_code for r in answers) == [200] * 29 + [201], [r.text for r in answers]
    assert {r.json()["state"] for r in answers} == {"WAITING"}
    placed = rows(
        room_db,
        "SELECT count(*) AS n, min(rank) AS r FROM waitroom_visitors WHERE event_id = %s"
        " GROUP BY user_id ORDER BY n DESC",
        event_id,
    )
    assert len(placed) == 6 and placed[0]["n"] == 1
    before = rows(room_db, "SELECT rank FROM waitroom_visitors WHERE event_id = %s ORDER BY id", event_id)
    await asyncio.gather(*(join(wr, event_id, visitor) for _ in range(10)))
    assert rows(room_db, "SELECT rank FROM waitroom_visitors WHERE event_id = %s ORDER BY id", event_id) == before
    # Before the start nobody has a position yet (the order is drawn at random).
    status = await me(wr, event_id, visitor)
    assert status["position"] is None and status["startsAt"] is not None


async def test_prestart_arrivals_are_shuffled_and_later_ones_queue_in_order(
    wr: httpx.AsyncClient, room_db: str
) -> None:
    event_id, _ = await new_event(wr)
    await gate(wr, event_id, startsAt=iso(soon(3600)), maxActive=1, perMinute=1)
    early = [await session(wr) for _ in range(40)]
    for auth in early:
        assert (await join(wr, event_id, auth)).status_code == 201
    # The on-sale starts; admissions are slow (one a minute) so the queue stays put while we look.
    await gate(wr, event_id, startsAt=iso(soon(-1)), maxActive=1, perMinute=1)
    late = [await session(wr) for _ in range(10)]
    for auth in late:
        await join(wr, event_id, auth)

    async def positions(group: list[dict[str, str]]) -> list[int]:
        return [((await me(wr, event_id, a))["position"] or 0) for a in group]

    async def settled() -> tuple[list[int], list[int]] | None:
        # Positions count against a queue snapshot at most a second old: wait until it has everyone.
        e, lt = await positions(early), await positions(late)
        return (e, lt) if all(lt) and lt == sorted(set(lt)) else None

    # Admitted visitors have no position (0 here): the first step admits one early arrival.
    early_pos, late_pos = await eventually(settled, what="positions of everyone")
    waiting_early = [p for p in early_pos if p]
    # Every early arrival is ahead of every late one; late ones are first come, first served.
    assert max(waiting_early) < min(late_pos)
    assert late_pos == sorted(late_pos)
    # The early order is a lottery, not the join order: rank correlation far from 1.
    rho = spearman(list(range(len(waiting_early))), waiting_early)
    assert abs(rho) < 0.7, (rho, early_pos)
    queue = rows(room_db, "SELECT rank FROM waitroom_visitors WHERE event_id = %s ORDER BY joined_at", event_id)
    assert sum(1 for r in queue if r["rank"] < 2**40) == 40


def spearman(xs: list[int], ys: list[int]) -> float:
    """Rank correlation of two equally long sequences without ties."""
    n = len(xs)
    rx = {v: i for i, v in enumerate(sorted(xs))}
    ry = {v: i for i, v in enumerate(sorted(ys))}
    d2 = sum((rx[x] - ry[y]) ** 2 for x, y in zip(xs, ys, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


async def test_admissions_respect_max_active(wr: httpx.AsyncClient, room_db: str) -> None:
    event_id, _ = await new_event(wr)
    await gate(wr, event_id, maxActive=3, perMinute=60_000)
    visitors = [await session(wr) for _ in range(8)]
    for auth in visitors:
        await join(wr, event_id, auth)

    def active() -> int:
        n: int = rows(
            room_db, "SELECT count(*) AS n FROM waitroom_visitors WHERE event_id = %s AND state = 'ADMITTED'", event_id
        )[0]["n"]
        return n

    await until(lambda: active() == 3, what="three admitted")
    # Steps keep running; the cap holds until someone leaves.
    admin = (await wr.get(f"/api/v1/admin/events/{event_id}/waiting-room", headers=ADMIN)).json()
    assert admin["admittedTotal"] == 3 and active() == 3
    states = [(await me(wr, event_id, a))["state"] for a in visitors]
    first = visitors[states.index("ADMITTED")]
    await wr.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=first)
    await until(lambda: active() == 3 and _total(room_db, event_id) == 4, what="a fourth")
    public = (await wr.get(f"/api/v1/events/{event_id}/waiting-room")).json()
    assert public["enabled"] is True and public["open"] is True


def _total(database_url: str, event_id: int) -> int:
    n: int = rows(database_url, "SELECT admitted_total AS n FROM waitroom_events WHERE event_id = %s", event_id)[0]["n"]
    return n


async def test_bad_configuration_is_refused(wr: httpx.AsyncClient) -> None:
    event_id, _ = await new_event(wr)
    url = f"/api/v1/admin/events/{event_id}/waiting-room"
    ok = {"enabled": True, "startsAt": iso(soon(60)), "maxActive": 10, "perMinute": 100}
    assert (await wr.put(url, json=ok)).status_code == 401
    for bad in (
        {**ok, "maxActive": 0},
        {**ok, "perMinute": 10**9},
        {**ok, "startsAt": "2026-12-01T10:00:00"},
        {**ok, "minPerMinute": 1000},
        {**ok, "holdS": 1},
        {**ok, "surprise": 1},
    ):
        r = await wr.put(url, json=bad, headers=ADMIN)
        assert r.status_code == 422 and r.json()["error"] == "VALIDATION_FAILED", (bad, r.text)
    assert (await wr.get(url, headers=ADMIN)).status_code == 404
    assert (await wr.put("/api/v1/admin/events/999999/waiting-room", json=ok, headers=ADMIN)).status_code == 404


async def test_early_arrivals_come_back_by_their_draw_not_all_at_the_start(wr: httpx.AsyncClient, room_db: str) -> None:
    """Before the start the order is drawn but not shown; those drawn first are told to poll at the
    start, those drawn last later (an early crowd does not all poll in the same second)."""
    event_id, _ = await new_event(wr)
    start = soon(12)
    await gate(wr, event_id, startsAt=iso(start), maxActive=2, perMinute=60)  # one admission a second
    visitors = [await session(wr) for _ in range(40)]
    for v in visitors:
        assert (await join(wr, event_id, v)).status_code == 201
    ranks = rows(room_db, "SELECT user_id, rank FROM waitroom_visitors WHERE event_id = %s", event_id)
    order = {r["user_id"]: r["rank"] for r in ranks}
    users = [user_of(v) for v in visitors]

    async def polls_by_draw() -> tuple[list[int], float] | None:
        # The queue order an instance counts against may be a second old: ask until it has them all.
        to_start = (start - datetime.now(UTC)).total_seconds()
        answers = [await me(wr, event_id, v) for v in visitors]
        assert {a["position"] for a in answers} == {None}
        by_rank = sorted(zip((order[u] for u in users), (a["pollAfterS"] for a in answers), strict=True))
        polls = [p for _, p in by_rank]
        return (polls, to_start) if min(polls[-5:]) > polls[0] + 10 else None

    polls, to_start = await eventually(polls_by_draw, what="the last drawn told to come back later than the first")
    assert polls[0] <= to_start + 1, polls  # the first drawn: at the start
    assert datetime.now(UTC) < start, "the start passed before the test could look"


async def test_the_first_step_after_the_start_releases_no_burst(wr: httpx.AsyncClient, room_db: str) -> None:
    """The rate accrues from the start of the sale, not from the configuration: ten admissions a
    second means about ten in the first second, not two seconds' worth at once."""
    event_id, _ = await new_event(wr)
    start = soon(3)
    await gate(wr, event_id, startsAt=iso(start), perMinute=600)  # fixed rate: ten a second
    visitors = [await session(wr) for _ in range(60)]
    for v in visitors:
        assert (await join(wr, event_id, v)).status_code == 201
    await until(lambda: _total(room_db, event_id) >= 30, what="three seconds of admissions")
    times = rows(
        room_db,
        "SELECT extract(epoch FROM admitted_at - %s)::float8 AS after FROM waitroom_visitors"
        " WHERE event_id = %s AND admitted_at IS NOT NULL ORDER BY 1",
        start,
        event_id,
    )
    early = [t["after"] for t in times if t["after"] < 0.5]
    assert len(early) <= 7, early  # 10/s x 0.5 s, plus a carried fraction and a tick's jitter
    assert all(t["after"] >= 0 for t in times), "nobody admitted before the start"


async def test_a_position_does_not_count_those_just_admitted(wr: httpx.AsyncClient, room_db: str) -> None:
    """The queue order an instance counts positions against is dropped when someone is admitted:
    right after the one ahead is admitted, the next visitor is first in line, not second."""
    event_id, _ = await new_event(wr)
    await gate(wr, event_id, maxActive=1)
    first, second = await session(wr), await session(wr)
    assert (await join(wr, event_id, first)).status_code == 201
    await me(wr, event_id, first)  # counts the queue: the first is in it

    def admitted() -> bool:
        found = rows(room_db, "SELECT state FROM waitroom_visitors WHERE event_id = %s", event_id)
        return [r["state"] for r in found] == ["ADMITTED"]

    await until(admitted, what="the first admitted")
    joined = await join(wr, event_id, second)
    assert joined.status_code == 201 and joined.json()["position"] == 1, joined.text

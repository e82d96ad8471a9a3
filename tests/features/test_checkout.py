"""Multi-seat bookings, holds and cancellation against a real server, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import pytest
import redis

from tests.features.conftest import CHECKOUT_PREFIX, HOLD_MAX_S, HOLD_TTL_S
from tests.features.helpers import assert_consistent, booked_by, gate_all, rows
from tests.support import REDIS_URL

STRATEGIES = ["ATOMIC", "DB", "REDIS"]


def book(client: httpx.AsyncClient, seat_ids: list[int], user: str, strategy: str) -> partial[object]:
    body = {"seatIds": seat_ids, "userId": user, "strategy": strategy}
    return partial(client.post, "/api/v1/bookings", json=body)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_overlapping_multi_seat_bookings_one_buyer_gets_all(
    co: httpx.AsyncClient, checkout_db: str, strategy: str
) -> None:
    """Two buyers ask for overlapping sets in opposite orders at the same instant, 15 rounds:
    exactly one gets every seat it asked for, the other none, and its 409 names the taken seats."""
    for round_no in range(15):
        base = 1 + round_no * 10
        alice = [base + 3, base + 2, base + 1]  # reversed order: would deadlock without ordered locking
        bob = [base + 1, base + 2, base + 4]
        ra, rb = await gate_all([book(co, alice, "alice", strategy), book(co, bob, "bob", strategy)])  # type: ignore[list-item]
        statuses = sorted([ra.status_code, rb.status_code])
        assert statuses == [201, 409], (ra.text, rb.text)
        winner, loser, win_seats, lose_seats = (
            ("alice", "bob", alice, bob) if ra.status_code == 201 else ("bob", "alice", bob, alice)
        )
        won = ra if winner == "alice" else rb
        lost = rb if winner == "alice" else ra
        assert sorted(won.json()["seatIds"]) == sorted(win_seats)
        assert lost.json()["error"] == "SEATS_TAKEN"
        assert set(lost.json()["seatIds"]) <= set(win_seats) & set(lose_seats)
        owners = booked_by(checkout_db, sorted(set(alice + bob)))
        assert {s: o for s, o in owners.items() if o} == dict.fromkeys(win_seats, winner)
        assert loser not in owners.values()
    assert_consistent(checkout_db)


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_many_buyers_random_overlaps_never_split_a_request(
    co: httpx.AsyncClient, checkout_db: str, strategy: str
) -> None:
    """8 buyers x 3-4 random seats from a pool of 12, 6 rounds: winners are disjoint, the database
    holds exactly the winners' seats, and no loser got any seat (all or nothing)."""
    rng = random.Random(7)
    for round_no in range(6):
        pool = list(range(1 + round_no * 12, 13 + round_no * 12))
        wants = {f"u{i}": rng.sample(pool, rng.choice([3, 4])) for i in range(8)}
        responses = await gate_all([book(co, s, u, strategy) for u, s in wants.items()])  # type: ignore[misc]
        by_user = dict(zip(wants, responses, strict=True))
        assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
        winners = {u for u, r in by_user.items() if r.status_code == 201}
        assert winners
        claimed = [s for u in winners for s in wants[u]]
        assert len(claimed) == len(set(claimed)), "two winners share a seat"
        owners = {s: o for s, o in booked_by(checkout_db, pool).items() if o}
        assert owners == {s: u for u in winners for s in wants[u]}
        if strategy != "REDIS":  # a REDIS loser may have met another loser's lease
            for r in responses:
                if r.status_code == 409:
                    assert all(owners.get(s) for s in r.json()["seatIds"]), r.text
    assert_consistent(checkout_db)


async def test_single_seat_api_unchanged(co: httpx.AsyncClient) -> None:
    r = await co.post("/api/v1/bookings", json={"seatId": 5, "userId": "ann"})
    assert r.status_code == 201
    body = r.json()
    assert body["seatId"] == 5 and body["userId"] == "ann" and body["status"] == "BOOKED"
    assert {"bookingId", "strategy", "sequence", "version", "heldUntil"} <= body.keys()
    again = await co.post("/api/v1/bookings", json={"seatId": 5, "userId": "ben"})
    assert again.status_code == 409 and again.json()["error"] == "SEAT_OCCUPIED"
    missing = await co.post("/api/v1/bookings", json={"seatId": 100_000, "userId": "ben"})
    assert missing.status_code == 404


async def hold(client: httpx.AsyncClient, seat_ids: list[int], user: str, strategy: str = "ATOMIC") -> httpx.Response:
    return await client.post("/api/v1/holds", json={"seatIds": seat_ids, "userId": user, "strategy": strategy})


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_overlapping_holds_one_holder_gets_all(co: httpx.AsyncClient, checkout_db: str, strategy: str) -> None:
    for round_no in range(10):
        base = 1 + round_no * 10
        a, b = [base + 2, base + 1], [base + 1, base + 3]
        ra, rb = await gate_all([partial(hold, co, a, "amy", strategy), partial(hold, co, b, "bo", strategy)])
        assert sorted([ra.status_code, rb.status_code]) == [201, 409], (ra.text, rb.text)
        won = ra if ra.status_code == 201 else rb
        held = rows(checkout_db, "SELECT id, held_by FROM seats WHERE status = 'HELD' AND id BETWEEN %s AND %s",
                    base, base + 9)
        assert sorted(r["id"] for r in held) == sorted(won.json()["seatIds"])
        assert {r["held_by"] for r in held} == {won.json()["userId"]}
    assert_consistent(checkout_db)


async def test_hold_blocks_others_then_confirms(co: httpx.AsyncClient, checkout_db: str) -> None:
    r = await hold(co, [31, 32], "hana")
    assert r.status_code == 201
    token = r.json()["holdToken"]
    assert all(s["status"] == "HELD" and s["heldUntil"] for s in r.json()["seats"])
    seats = {s["seatId"]: s for s in (await co.get("/api/v1/seats")).json()["seats"]}
    assert seats[31]["status"] == "HELD" and seats[31]["held"] is True
    # Nobody else can book or hold a held seat, by any strategy or path.
    for strategy in STRATEGIES:
        other = await co.post("/api/v1/bookings", json={"seatId": 32, "userId": "ivan", "strategy": strategy})
        assert other.status_code == 409 and "held" in other.json()["message"], other.text
    assert (await hold(co, [30, 31], "ivan")).status_code == 409
    # A user who names themselves otherwise cannot confirm, extend or release it, even with the token.
    steal = await co.post("/api/v1/bookings", json={"holdToken": token, "userId": "ivan"})
    assert steal.status_code == 404 and steal.json()["error"] == "HOLD_NOT_FOUND"
    assert (await co.post(f"/api/v1/holds/{token}/release", json={"userId": "ivan"})).status_code == 404
    mismatch = await co.post("/api/v1/bookings", json={"holdToken": token, "userId": "hana", "seatIds": [31]})
    assert mismatch.status_code == 422
    ok = await co.post("/api/v1/bookings", json={"holdToken": token, "userId": "hana", "seatIds": [32, 31]})
    assert ok.status_code == 201, ok.text
    assert ok.json()["userId"] == "hana" and all(b["userId"] == "hana" for b in ok.json()["bookings"])
    again = await co.post("/api/v1/bookings", json={"holdToken": token, "userId": "hana"})
    assert again.status_code == 409 and again.json()["error"] == "HOLD_NOT_ACTIVE"
    assert rows(checkout_db, "SELECT state FROM holds")[0]["state"] == "CONFIRMED"
    assert_consistent(checkout_db)


async def test_extend_and_release(co: httpx.AsyncClient, checkout_db: str) -> None:
    r = await hold(co, [41, 42, 43], "jo", "db")  # strategy names are case-insensitive, as for bookings
    token, first = r.json()["holdToken"], datetime.fromisoformat(r.json()["expiresAt"])
    await asyncio.sleep(0.3)
    ext = await co.post(f"/api/v1/holds/{token}/extend", json={"userId": "jo"})
    assert ext.status_code == 200, ext.text
    assert datetime.fromisoformat(ext.json()["expiresAt"]) > first
    rel = await co.post(f"/api/v1/holds/{token}/release", json={"userId": "jo"})
    assert rel.status_code == 200 and rel.json()["state"] == "RELEASED"
    assert [s["status"] for s in rel.json()["seats"]] == ["AVAILABLE"] * 3
    assert (await co.post(f"/api/v1/holds/{token}/release", json={"userId": "jo"})).status_code == 409
    assert (await co.post("/api/v1/bookings", json={"seatIds": [41, 42, 43], "userId": "kim"})).status_code == 201
    assert (await co.get(f"/api/v1/holds/{token}")).json()["state"] == "RELEASED"
    assert_consistent(checkout_db)


async def test_extension_is_capped_and_lapsed_hold_cannot_extend(co: httpx.AsyncClient, checkout_db: str) -> None:
    """Extensions never push a hold past HOLD_MAX_S after it began; once it lapses it stays lapsed."""
    r = await hold(co, [51], "lee")
    token = r.json()["holdToken"]
    created = rows(checkout_db, "SELECT created_at FROM holds WHERE token = %s", token)[0]["created_at"]
    cap = created + timedelta(seconds=HOLD_MAX_S)
    expiries = []
    deadline = time.monotonic() + HOLD_MAX_S + HOLD_TTL_S + 3
    while time.monotonic() < deadline:
        await asyncio.sleep(0.6)
        ext = await co.post(f"/api/v1/holds/{token}/extend", json={"userId": "lee"})
        if ext.status_code != 200:
            break
        expiries.append(datetime.fromisoformat(ext.json()["expiresAt"]))
    assert ext.status_code == 409 and ext.json()["error"] == "HOLD_EXPIRED", ext.text
    assert expiries and max(expiries) <= cap
    assert cap in expiries, "the last extensions should have been cut to the cap"
    assert (await co.post("/api/v1/bookings", json={"holdToken": token, "userId": "lee"})).status_code == 409


async def test_expired_hold_frees_seats_without_any_sweeper(co: httpx.AsyncClient, checkout_db: str) -> None:
    r = await hold(co, [61, 62], "max")
    token = r.json()["holdToken"]
    await asyncio.sleep(HOLD_TTL_S + 0.2)
    # The sweeper is off: the row still says HELD, yet every claim treats it as free.
    assert {x["status"] for x in rows(checkout_db, "SELECT status FROM seats WHERE id IN (61, 62)")} == {"HELD"}
    seats = {s["seatId"]: s for s in (await co.get("/api/v1/seats")).json()["seats"]}
    assert seats[61]["status"] == "AVAILABLE" and seats[61]["heldUntil"] is None
    assert (await co.get(f"/api/v1/holds/{token}")).json()["state"] == "EXPIRED"
    late = await co.post("/api/v1/bookings", json={"holdToken": token, "userId": "max"})
    assert late.status_code == 409 and late.json()["error"] == "HOLD_EXPIRED"
    assert sorted(late.json()["seatIds"]) == [61, 62]
    other = await co.post("/api/v1/bookings", json={"seatIds": [61, 62], "userId": "ned", "strategy": "DB"})
    assert other.status_code == 201
    assert_consistent(checkout_db)


async def test_hold_expiry_races_with_confirm(co: httpx.AsyncClient, checkout_db: str) -> None:
    """Confirm fired around the expiry instant while a rival hammers the same seats: per round,
    exactly one of them owns both seats, never a mix and never both."""
    outcomes = {"holder": 0, "rival": 0}
    for round_no, offset in enumerate([-0.06, -0.02, 0.0, 0.01, 0.03, 0.08]):
        seats = [71 + 2 * round_no, 72 + 2 * round_no]
        r = await hold(co, seats, "olga")
        token = r.json()["holdToken"]
        # Aim at the database's expiry instant (same host clock), not at when the answer arrived.
        expires = datetime.fromisoformat(r.json()["expiresAt"])
        await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds() + offset))

        async def rival(seats: list[int]) -> list[httpx.Response]:
            seen = []
            for _ in range(40):
                resp = await co.post("/api/v1/bookings", json={"seatIds": seats, "userId": "pete", "strategy": "DB"})
                seen.append(resp)
                if resp.status_code == 201:
                    break
                await asyncio.sleep(0.005)
            return seen

        confirm, rival_seen = await asyncio.gather(
            co.post("/api/v1/bookings", json={"holdToken": token, "userId": "olga"}), rival(seats)
        )
        owners = booked_by(checkout_db, seats)
        rival_won = any(x.status_code == 201 for x in rival_seen)
        if confirm.status_code == 201:
            assert not rival_won and set(owners.values()) == {"olga"}
            outcomes["holder"] += 1
        else:
            assert confirm.json()["error"] == "HOLD_EXPIRED", confirm.text
            assert rival_won and set(owners.values()) == {"pete"}
            outcomes["rival"] += 1
        assert all(x.status_code in (201, 409) for x in rival_seen)
    print(f"expiry race outcomes: {outcomes}")
    assert_consistent(checkout_db)


async def test_cancellation_audit_trail(co: httpx.AsyncClient, checkout_db: str) -> None:
    r = await co.post("/api/v1/bookings", json={"seatIds": [81, 82], "userId": "quinn"})
    (first, first_token), (second, second_token) = ((b["bookingId"], b["manageToken"]) for b in r.json()["bookings"])
    manage = {"Manage-Token": first_token}
    denied = await co.post(f"/api/v1/bookings/{first}/cancel", json={"userId": "rita"}, headers=manage)
    assert denied.status_code == 404
    c = await co.post(
        f"/api/v1/bookings/{first}/cancel", json={"userId": "quinn", "reason": "plans changed"}, headers=manage
    )
    assert c.status_code == 200, c.text
    assert c.json()["seat"]["status"] == "AVAILABLE" and c.json()["status"] == "CANCELLED"
    twice = await co.post(f"/api/v1/bookings/{first}/cancel", json={}, headers=manage)
    assert twice.status_code == 409 and twice.json()["error"] == "BOOKING_NOT_ACTIVE"
    assert (await co.post("/api/v1/bookings/999999/cancel", json={}, headers=manage)).status_code == 404
    rebook = await co.post("/api/v1/bookings", json={"seatId": 81, "userId": "rita"})
    assert rebook.status_code == 201
    trail = rows(checkout_db, "SELECT user_id, status, cancelled_by, cancel_reason FROM bookings WHERE seat_id = 81"
                 " ORDER BY id")
    assert trail == [
        {"user_id": "quinn", "status": "CANCELLED", "cancelled_by": "quinn", "cancel_reason": "plans changed"},
        {"user_id": "rita", "status": "CONFIRMED", "cancelled_by": None, "cancel_reason": None},
    ]
    record = (await co.get(f"/api/v1/bookings/{first}", headers=manage)).json()
    assert record["status"] == "CANCELLED" and record["cancelReason"] == "plans changed"
    second_record = await co.get(f"/api/v1/bookings/{second}", headers={"Manage-Token": second_token})
    assert second_record.json()["status"] == "CONFIRMED"
    assert_consistent(checkout_db)


async def test_cancel_races_with_rebooking(co: httpx.AsyncClient, checkout_db: str) -> None:
    """The owner cancels while 10 others try to grab the seat: at most one of them gets it, and the
    seat row, the bookings and the outbox agree afterwards."""
    booked = (await co.post("/api/v1/bookings", json={"seatId": 91, "userId": "sam"})).json()
    manage = {"Manage-Token": booked["manageToken"]}
    calls = [partial(co.post, f"/api/v1/bookings/{booked['bookingId']}/cancel", json={}, headers=manage)]
    calls += [partial(co.post, "/api/v1/bookings", json={"seatId": 91, "userId": f"g{i}"}) for i in range(10)]
    responses = await gate_all(calls)  # type: ignore[arg-type]
    assert responses[0].status_code == 200
    winners = [r for r in responses[1:] if r.status_code == 201]
    assert len(winners) <= 1 and all(r.status_code in (201, 409) for r in responses[1:])
    owner = booked_by(checkout_db, [91])[91]
    assert owner == (winners[0].json()["userId"] if winners else None)
    assert_consistent(checkout_db)


async def test_rivals_hammering_held_seats_never_fail_a_live_hold(co: httpx.AsyncClient, checkout_db: str) -> None:
    """REDIS strategy: 20 rivals try to book the held seats while the holder confirms, 5 rounds;
    every rival gets 409, every confirm gets 201."""
    for round_no in range(5):
        seats = [121 + 2 * round_no, 122 + 2 * round_no]
        token = (await hold(co, seats, "holder", "REDIS")).json()["holdToken"]
        confirm_body = {"holdToken": token, "userId": "holder", "strategy": "REDIS"}
        calls = [partial(co.post, "/api/v1/bookings", json=confirm_body)]
        calls += [
            partial(co.post, "/api/v1/bookings", json={"seatIds": seats, "userId": f"r{i}", "strategy": "REDIS"})
            for i in range(20)
        ]
        confirm, *rivals = await gate_all(calls)  # type: ignore[arg-type]
        assert confirm.status_code == 201, confirm.text
        assert {r.status_code for r in rivals} == {409}
        assert set(booked_by(checkout_db, seats).values()) == {"holder"}
    assert_consistent(checkout_db)


async def test_a_stuck_rival_lease_cannot_fail_a_live_hold(co: httpx.AsyncClient, checkout_db: str) -> None:
    """A rival's REDIS lease on a held seat (say its holder is paused) blocks rivals, not the holder."""
    seats = [141, 142]
    token = (await hold(co, seats, "holder", "REDIS")).json()["holdToken"]
    leases = redis.Redis.from_url(REDIS_URL)
    key = f"{CHECKOUT_PREFIX}lock:seat:142"
    leases.set(key, "stuck-rival", px=10_000)
    try:
        rival = await co.post("/api/v1/bookings", json={"seatIds": seats, "userId": "riv", "strategy": "REDIS"})
        assert rival.status_code == 409 and "being booked" in rival.json()["message"]
        confirm = await co.post("/api/v1/bookings", json={"holdToken": token, "userId": "holder", "strategy": "REDIS"})
        assert confirm.status_code == 201, confirm.text
    finally:
        leases.delete(key)
    assert set(booked_by(checkout_db, seats).values()) == {"holder"}

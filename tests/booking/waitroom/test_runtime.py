"""The waiting room across processes and failures: two instances on one queue, the queue store
(PostgreSQL) restarted mid-sale, and the abuse limits (per-address joins, proof of work)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from boxoffice.bench.env import PrivatePostgres
from boxoffice.booking.waitroom.challenge import solve
from tests.helpers import assert_consistent, eventually, rows, until
from tests.observability.helpers import parse, value
from tests.shared import client_for
from tests.support import ServerFactory
from tests.waitroom import WAITROOM, admitted, book, gate, join, me, new_event, session, user_of


def _admitted(database_url: str, event_id: int) -> list[datetime]:
    found = rows(
        database_url,
        "SELECT admitted_at FROM waitroom_visitors WHERE event_id = %s AND admitted_at IS NOT NULL ORDER BY 1",
        event_id,
    )
    return [r["admitted_at"] for r in found]


async def test_two_instances_share_one_queue_and_one_decision(server_factory: ServerFactory) -> None:
    db = server_factory.database("bo_wr2")
    a = server_factory(database_url=db, log="a", settings=WAITROOM, seed_rows=1, seed_cols=5)
    b = server_factory(database_url=db, log="b", settings=WAITROOM, seed_rows=1, seed_cols=5)
    async with client_for(a) as ca, client_for(b) as cb:
        event_id, seats = await new_event(ca)
        # At most 10 buyers at once, 120 admissions a minute: two leaders would show as twice that.
        await gate(cb, event_id, maxActive=10, perMinute=120)
        visitors = [await session(ca if i % 2 else cb) for i in range(30)]
        joined = await asyncio.gather(*(join(ca if i % 2 else cb, event_id, v) for i, v in enumerate(visitors)))
        assert [r.status_code for r in joined] == [201] * 30
        # One visitor, tabs on both instances: one place.
        again = await asyncio.gather(*(join(c, event_id, visitors[0]) for c in (ca, cb, ca, cb)))
        assert {r.status_code for r in again} == {200}
        assert rows(db, "SELECT count(*) AS n FROM waitroom_visitors WHERE event_id = %s", event_id)[0]["n"] == 30
        await until(lambda: len(_admitted(db, event_id)) == 10, what="ten admitted")
        # The cap holds whichever instance steps, and the pace is one leader's.
        times = _admitted(db, event_id)
        span = (times[-1] - times[0]).total_seconds()
        assert len(times) <= 2 * (span + 2) + 2, (len(times), span)
        assert rows(db, "SELECT count(*) AS n FROM waitroom_visitors WHERE state = 'ADMITTED'")[0]["n"] == 10
        assert rows(db, "SELECT count(*) AS n FROM waitroom_health")[0]["n"] >= 2
        # A token one instance issued admits on the other; positions agree across instances. Who is
        # admitted comes from the store: a poll answered from memory may be a tick behind an
        # admission (the visitor is told to poll again in a second), so every admitted visitor is
        # polled until it holds its token (an admission nobody fetches goes back in line, and the
        # queue would keep moving under the comparison below).
        state = {r["user_id"]: r["state"] for r in rows(db, "SELECT user_id, state FROM waitroom_visitors")}
        users = [user_of(v) for v in visitors]
        tokens = {
            u: await admitted(ca, event_id, v) for u, v in zip(users, visitors, strict=True) if state[u] == "ADMITTED"
        }
        assert len(tokens) == 10
        lucky = visitors[users.index(next(iter(tokens)))]
        assert (await book(cb, seats[:1], lucky, tokens[next(iter(tokens))])).status_code == 201
        waiting = visitors[[state[u] for u in users].index("WAITING")]

        async def same_position() -> bool:
            pa, pb = (await me(ca, event_id, waiting))["position"], (await me(cb, event_id, waiting))["position"]
            return pa is not None and pa == pb

        await eventually(same_position, what="both instances to agree on a position")
    assert_consistent(db)


async def test_queue_store_restarted_mid_sale_fails_closed_and_keeps_the_queue(server_factory: ServerFactory) -> None:
    pg = PrivatePostgres(options="-c fsync=off")
    try:
        pg.init()
        pg.start()
        server = server_factory(
            database_url=pg.url, settings=WAITROOM, seed_rows=1, seed_cols=5, db_acquire_timeout_s=1
        )
        async with client_for(server) as c:
            event_id, seats = await new_event(c)
            await gate(c, event_id, maxActive=2, perMinute=60_000)
            visitors = [await session(c) for _ in range(6)]
            for v in visitors:
                await join(c, event_id, v)
            await until(lambda: len(_admitted(pg.url, event_id)) == 2, what="two admitted")
            state = {r["user_id"]: r["state"] for r in rows(pg.url, "SELECT user_id, state FROM waitroom_visitors")}
            states = [state[user_of(v)] for v in visitors]
            # Both fetch their admissions (one not fetched would go back in line during the test).
            tokens = [
                await admitted(c, event_id, v) for v, st in zip(visitors, states, strict=True) if st == "ADMITTED"
            ]
            buyer, token = visitors[states.index("ADMITTED")], tokens[0]
            before = rows(pg.url, "SELECT user_id, state, rank FROM waitroom_visitors ORDER BY id")

            waiting = visitors[states.index("WAITING")]
            await asyncio.to_thread(pg.stop)
            # Down: joining and polling answer 503 WAITING_ROOM_UNAVAILABLE; no write of the gated
            # event goes through without an admission (gating stays on), and none at all commits.
            late = await session(c)
            r = await join(c, event_id, late)
            assert r.status_code == 503 and r.json()["error"] == "WAITING_ROOM_UNAVAILABLE", r.text
            assert "retry-after" in r.headers
            seen: set[str] = set()

            async def poll_refused() -> bool:
                # A waiting visitor's poll may be answered from memory (still WAITING, nobody let in)
                # until the instance's next tick finds the store gone; then 503 like everything else.
                polled = await c.get(f"/api/v1/events/{event_id}/waiting-room/me", headers=waiting)
                seen.add(polled.json().get("state") or polled.json()["error"])
                return polled.status_code == 503

            await eventually(poll_refused, what="polls refused while the store is down")
            assert seen <= {"WAITING", "WAITING_ROOM_UNAVAILABLE"}, seen
            gateless = await book(c, seats[:1], late, None)
            assert gateless.status_code == 401 and gateless.json()["error"] == "ADMISSION_REQUIRED"
            with_token = await book(c, seats[:1], buyer, token)
            assert with_token.status_code == 503, with_token.text

            await asyncio.to_thread(pg.start)
            # Back: the queue is as it was (nobody lost a place, nobody was let in), the admission
            # still works, and admissions resume when a place frees up.
            assert rows(pg.url, "SELECT user_id, state, rank FROM waitroom_visitors ORDER BY id") == before

            async def booked() -> bool:
                return (await book(c, seats[:1], buyer, token)).status_code == 201

            await eventually(booked, what="the admitted buyer books after the restart")
            await c.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=buyer)
            await until(lambda: len(_admitted(pg.url, event_id)) == 3, what="a third admitted after the restart")
            assert (await join(c, event_id, late)).status_code == 201
        assert_consistent(pg.url)
    finally:
        pg.destroy()


async def test_per_address_join_limit_and_proof_of_work(server_factory: ServerFactory) -> None:
    server = server_factory(
        settings={**WAITROOM, "waitroom_joins_per_ip": 4, "waitroom_pow_bits": 8}, seed_rows=1, seed_cols=5
    )
    async with client_for(server) as c:
        event_id, _ = await new_event(c)
        await gate(c, event_id)
        v = await session(c)
        refused = await join(c, event_id, v)
        assert refused.status_code == 403 and refused.json()["error"] == "CHALLENGE_FAILED", refused.text
        wrong = await join(c, event_id, v, challenge="nope")
        assert wrong.status_code == 403
        user = (await c.get("/api/v1/me/bookings", headers=v)).json()["userId"]
        answer = solve(event_id, user, 8)
        assert (await join(c, event_id, v, challenge=answer)).status_code == 201
        assert (await join(c, event_id, v, challenge=answer)).status_code == 200
        limited = await join(c, event_id, v, challenge=answer)
        assert limited.status_code == 429 and limited.json()["error"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) >= 1
        bad = await c.post(f"/api/v1/events/{event_id}/waiting-room/join", json={"challenge": "x" * 65}, headers=v)
        assert bad.status_code == 422


async def test_metrics_export_the_room(server_factory: ServerFactory) -> None:
    server = server_factory(settings=WAITROOM, seed_rows=1, seed_cols=5)
    async with client_for(server) as c:
        event_id, seats = await new_event(c)
        await gate(c, event_id)
        v = await session(c)
        await join(c, event_id, v)
        await admitted(c, event_id, v)
        await book(c, seats[:1], v, None)

        async def exported() -> str | None:
            text = (await c.get("/actuator/prometheus")).text
            return text if "waitroom_admitted_total 1.0" in text else None

        text = await eventually(exported, what="admissions in the metrics")
        for name in (
            "waitroom_waiting",
            "waitroom_active",
            "waitroom_admission_rate_per_minute",
            "waitroom_wait_seconds_bucket",
            'waitroom_tokens_rejected_total{reason="missing"} 1.0',
            'waitroom_joins_total{outcome="new"} 1.0',
        ):
            assert name in text, name


async def test_an_unfetched_admission_goes_back_in_line_at_its_rank(server_factory: ServerFactory) -> None:
    db = server_factory.database("bo_wr_pickup")
    server = server_factory(database_url=db, settings={**WAITROOM, "waitroom_pickup_s": 1}, seed_rows=1, seed_cols=5)
    async with client_for(server) as c:
        event_id, _ = await new_event(c)
        await gate(c, event_id, maxActive=1, perMinute=60_000)
        sleeper, other = await session(c), await session(c)
        await join(c, event_id, sleeper)
        await join(c, event_id, other)
        ranks = rows(db, "SELECT user_id, rank FROM waitroom_visitors ORDER BY rank")
        # The sleeper is first in line but never polls: its admission goes back, the slot moves on.
        await until(
            lambda: rows(db, "SELECT missed_at FROM waitroom_visitors ORDER BY rank LIMIT 1")[0]["missed_at"],
            what="the unfetched admission sent back",
        )
        token = await admitted(c, event_id, other)
        assert token
        # Awake again: still first in line (same rank), admitted as soon as the slot frees.
        status = await me(c, event_id, sleeper)
        assert status["state"] == "WAITING" and status["position"] == 1 and status["pollAfterS"] == 1
        await c.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=other)
        assert await admitted(c, event_id, sleeper)
        assert rows(db, "SELECT user_id, rank FROM waitroom_visitors ORDER BY rank") == ranks
        ended = (await c.get("/actuator/prometheus")).text
        assert 'waitroom_ended_total{reason="missed"}' in ended


async def test_polls_answered_from_memory_keep_the_place_and_follow_the_store(server_factory: ServerFactory) -> None:
    """A waiting visitor's polls cost no round trip, yet its presence is written (it is not
    dropped after `holdS`), its admission is seen, and leaving through another instance ends it."""
    db = server_factory.database("bo_wr_memory")
    a = server_factory(database_url=db, log="a", settings=WAITROOM, seed_rows=1, seed_cols=5)
    b = server_factory(database_url=db, log="b", settings=WAITROOM, seed_rows=1, seed_cols=5)
    async with client_for(a) as ca, client_for(b) as cb:
        event_id, _ = await new_event(ca)
        await gate(ca, event_id, maxActive=1, perMinute=60_000, holdS=10)
        first, second, third = [await session(ca) for _ in range(3)]
        for v in (first, second, third):
            assert (await join(ca, event_id, v)).status_code == 201
        await admitted(ca, event_id, first)
        # Longer than holdS: the second and third stay in line only if their presence is written.
        started = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - started < 13:
            for v in (second, third):
                assert (await me(ca, event_id, v))["state"] == "WAITING"
            await asyncio.sleep(0.5)
        samples = parse((await ca.get("/actuator/prometheus")).text)
        assert value(samples, "waitroom_polls_total", answer="memory") > 20, samples
        kept = rows(db, "SELECT state FROM waitroom_visitors WHERE event_id = %s ORDER BY rank", event_id)
        assert [r["state"] for r in kept] == ["ADMITTED", "WAITING", "WAITING"]
        # The first leaves: the second is admitted, and instance a (answering it from memory) sees it.
        await cb.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=first)
        await admitted(ca, event_id, second)
        # The third leaves through b: a stops answering it from memory within a tick.
        await cb.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=third)

        async def left() -> bool:
            return bool((await me(ca, event_id, third))["state"] == "LEFT")

        await eventually(left, what="instance a to see the visitor left through b")
    assert_consistent(db)


async def test_racing_joins_are_written_together_one_place_each(server_factory: ServerFactory) -> None:
    """200 visitors with three tabs each join at once (joins are batched per process): one place per
    visitor, exactly one 201 per visitor and 200 for its other tabs, every tab told the same place."""
    db = server_factory.database("bo_wr_joins")
    server = server_factory(database_url=db, settings=WAITROOM, seed_rows=1, seed_cols=5)
    async with client_for(server) as c:
        event_id, _ = await new_event(c)
        await gate(c, event_id, maxActive=1)
        visitors = [await session(c) for _ in range(200)]
        tabs = [v for v in visitors for _ in range(3)]
        answers = await asyncio.gather(*(join(c, event_id, v) for v in tabs))
        for i in range(0, len(tabs), 3):
            mine = answers[i : i + 3]
            assert sorted(r.status_code for r in mine) == [200, 200, 201], [r.text for r in mine]
            assert len({r.json()["joinedAt"] for r in mine}) == 1, [r.text for r in mine]
        placed = rows(db, "SELECT user_id, rank FROM waitroom_visitors WHERE event_id = %s", event_id)
        assert len(placed) == 200 and len({r["rank"] for r in placed}) == 200
    assert_consistent(db)

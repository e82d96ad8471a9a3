"""Outcomes a buyer can always resolve: a stored answer replays whatever happened since (an admission
that expired or was left), a replay to a bare name carries no secret, and a write sent without a key
gets one from the server, so an answer lost at COMMIT (`503 OUTCOME_UNKNOWN`) can be resolved."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest

from tests.helpers import assert_consistent, eventually, rows
from tests.observability.helpers import TcpProxy
from tests.shared import client_for
from tests.support import LOAD_LIMITS_OFF, ServerFactory, ServerProcess
from tests.waitroom import WAITROOM, admission_key, admitted, gate, join, new_event, session

BOOK = "/api/v1/bookings"
HOLD = "/api/v1/holds"


@pytest.fixture(scope="module")
def replay_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_replay")


@pytest.fixture(scope="module")
def replay_server(module_servers: ServerFactory, replay_db: str) -> Iterator[ServerProcess]:
    yield module_servers(database_url=replay_db, log="replay", settings=WAITROOM)


@pytest.fixture
async def rp(replay_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(replay_server) as c:
        yield c


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- 1. a replay needs no admission ----------------------------------------------------------------


async def test_a_stored_answer_replays_after_the_admission_expired_or_was_left(
    rp: httpx.AsyncClient, replay_db: str
) -> None:
    """Before: the retry of an admitted booking or hold, with its key, got 403 ADMISSION_EXPIRED /
    ADMISSION_REVOKED (or 401 ADMISSION_REQUIRED) instead of its stored answer, for seats it owns."""
    event_id, seats = await new_event(rp)
    await gate(rp, event_id)
    alice = await session(rp)
    await join(rp, event_id, alice)
    token = await admitted(rp, event_id, alice)
    booking_key = {**alice, "Idempotency-Key": "buy-1"}
    hold_key = {**alice, "Idempotency-Key": "hold-1"}
    # The hold first: a purchase ends the admission (BOXOFFICE_WAITROOM_END_ON_PURCHASE).
    held = await rp.post(HOLD, json={"seatIds": seats[1:3]}, headers={**hold_key, "Admission-Token": token})
    booked = await rp.post(BOOK, json={"seatIds": seats[:1]}, headers={**booking_key, "Admission-Token": token})
    assert booked.status_code == 201 and held.status_code == 201, (booked.text, held.text)

    def replays(answer: httpx.Response, first: httpx.Response) -> bool:
        return (
            answer.status_code == first.status_code
            and answer.headers.get("idempotent-replayed") == "true"
            and answer.content == first.content
        )

    # The admission has expired (the same token, its expiry passed): the retries replay.
    claims = jwt.decode(token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 1}, admission_key(replay_db), algorithm="HS256")
    for path, body, headers, first in ((BOOK, seats[:1], booking_key, booked), (HOLD, seats[1:3], hold_key, held)):
        again = await rp.post(path, json={"seatIds": body}, headers={**headers, "Admission-Token": expired})
        assert replays(again, first), (path, again.status_code, again.text)
        # Without any admission token too.
        bare = await rp.post(path, json={"seatIds": body}, headers=headers)
        assert replays(bare, first), (path, bare.status_code, bare.text)

    # Alice leaves the room: a first request is refused (once every worker knows) ...
    left = await rp.post(f"/api/v1/events/{event_id}/waiting-room/leave", headers=alice)
    assert left.status_code == 200, left.text

    async def refused() -> bool:
        r = await rp.post(BOOK, json={"seatIds": seats[5:6]}, headers={**alice, "Admission-Token": token})
        return r.status_code == 403 and r.json()["error"] == "ADMISSION_REVOKED"

    await eventually(refused, what="the left visitor's admission refused")
    # ... a new key is a first request: refused, and nothing is kept under it ...
    fresh = await rp.post(
        BOOK, json={"seatIds": seats[6:7]}, headers={**alice, "Admission-Token": token, "Idempotency-Key": "buy-2"}
    )
    assert fresh.status_code == 403 and fresh.json()["error"] == "ADMISSION_REVOKED", fresh.text
    assert rows(replay_db, "SELECT key FROM idempotency_keys WHERE key = 'buy-2'") == []
    # ... while the retries of what was done replay it.
    for path, body, headers, first in ((BOOK, seats[:1], booking_key, booked), (HOLD, seats[1:3], hold_key, held)):
        again = await rp.post(path, json={"seatIds": body}, headers={**headers, "Admission-Token": token})
        assert replays(again, first), (path, again.status_code, again.text)
    # A retry of another request under a used key is still a client bug, admitted or not.
    other = await rp.post(BOOK, json={"seatIds": seats[7:8]}, headers=booking_key)
    assert other.status_code == 422 and other.json()["error"] == "IDEMPOTENCY_KEY_REUSED", other.text
    assert_consistent(replay_db)


# --- 2. no secret in a replay to a caller that proves nothing ---------------------------------------


async def test_a_replay_to_a_bare_name_carries_no_secret(rp: httpx.AsyncClient, replay_db: str) -> None:
    """Before: anyone naming the user and the key got the stored answer with its manage tokens (and a
    hold's token), and could then cancel the booking or release the hold."""
    dora = name("dora")
    key = {"Idempotency-Key": "order-7781"}
    body = {"seatIds": [1, 2], "userId": dora}
    first = await rp.post(BOOK, json=body, headers=key)
    assert first.status_code == 201, first.text
    tokens = [b["manageToken"] for b in first.json()["bookings"]]
    assert all(tokens)

    # A stranger who names dora and guesses the key: the same answer, without the manage tokens.
    stranger = await rp.post(BOOK, json=body, headers=key)
    assert stranger.status_code == 201 and stranger.headers["idempotent-replayed"] == "true", stranger.text
    replayed = stranger.json()
    assert [b["bookingId"] for b in replayed["bookings"]] == [b["bookingId"] for b in first.json()["bookings"]]
    assert [b["manageToken"] for b in replayed["bookings"]] == [None, None]
    assert {k: v for k, v in replayed.items() if k != "bookings"} == {
        k: v for k, v in first.json().items() if k != "bookings"
    }
    booking_id = replayed["bookings"][0]["bookingId"]
    cancel = await rp.post(f"{BOOK}/{booking_id}/cancel", json={"userId": dora})
    assert cancel.status_code == 404, cancel.text

    # A hold by name: the replay leaves the hold token out.
    hal = name("hal")
    hold_key = {"Idempotency-Key": "hold-7781"}
    hold = await rp.post(HOLD, json={"seatIds": [3, 4], "userId": hal}, headers=hold_key)
    assert hold.status_code == 201 and hold.json()["holdToken"], hold.text
    again = await rp.post(HOLD, json={"seatIds": [3, 4], "userId": hal}, headers=hold_key)
    assert again.status_code == 201 and again.json()["holdToken"] is None, again.text
    assert {**again.json(), "holdToken": hold.json()["holdToken"]} == hold.json()

    # A request that proves who it is gets the whole answer again: by its hold token (confirming) ...
    confirm_key = {"Idempotency-Key": "confirm-7781"}
    confirm = {"holdToken": hold.json()["holdToken"]}
    confirmed = await rp.post(BOOK, json=confirm, headers=confirm_key)
    assert confirmed.status_code == 201 and all(b["manageToken"] for b in confirmed.json()["bookings"])
    reconfirmed = await rp.post(BOOK, json=confirm, headers=confirm_key)
    assert reconfirmed.headers["idempotent-replayed"] == "true" and reconfirmed.content == confirmed.content
    # ... by a session ...
    auth = await session(rp)
    mine = await rp.post(BOOK, json={"seatIds": [5]}, headers={**auth, **key})
    assert mine.status_code == 201, mine.text
    mine_again = await rp.post(BOOK, json={"seatIds": [5]}, headers={**auth, **key})
    assert mine_again.headers["idempotent-replayed"] == "true" and mine_again.content == mine.content
    # ... or by the key the server issued for a request sent without one (nobody can guess it).
    ivy = {"seatIds": [6, 9], "userId": name("ivy")}  # a basket of one gets no key (group commit)
    issued = await rp.post(BOOK, json=ivy)
    assert issued.status_code == 201, issued.text
    server_key = issued.headers["idempotency-key"]
    assert server_key.startswith("bo1.") and issued.json()["bookings"][0]["manageToken"]
    by_key = await rp.post(BOOK, json=ivy, headers={"Idempotency-Key": server_key})
    assert by_key.headers["idempotent-replayed"] == "true" and by_key.content == issued.content
    # A key shaped like an issued one but not issued proves nothing.
    forged = server_key[:-4] + ("AAAA" if not server_key.endswith("AAAA") else "BBBB")
    first_forged = await rp.post(BOOK, json={"seatIds": [7], "userId": dora}, headers={"Idempotency-Key": forged})
    assert first_forged.status_code == 201 and first_forged.json()["bookings"][0]["manageToken"]
    replay_forged = await rp.post(BOOK, json={"seatIds": [7], "userId": dora}, headers={"Idempotency-Key": forged})
    assert replay_forged.json()["bookings"][0]["manageToken"] is None, replay_forged.text
    assert_consistent(replay_db)


# --- 3. an unknown outcome without a key ------------------------------------------------------------


class CommitSwallower(TcpProxy):
    """A proxy to PostgreSQL that, on the connection that carried `marker`, lets its next COMMIT through
    and swallows every answer from then on: the database commits, the server never hears it."""

    def __init__(self, marker: bytes) -> None:
        super().__init__(5432)
        self.marker = marker
        self.swallowed = threading.Event()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._upstream(writer)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        marked = mute = False

        async def requests() -> None:
            nonlocal marked, mute
            while data := await reader.read(65536):
                marked = marked or self.marker in data
                if marked and b"COMMIT" in data and not self.swallowed.is_set():
                    mute = True
                    self.swallowed.set()
                up_writer.write(data)
                await up_writer.drain()
            with contextlib.suppress(OSError):
                up_writer.write_eof()

        async def answers() -> None:
            while data := await up_reader.read(65536):
                if not mute:
                    writer.write(data)
                    await writer.drain()
            with contextlib.suppress(OSError):
                writer.write_eof()

        await asyncio.gather(requests(), answers(), return_exceptions=True)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()


async def test_an_answer_lost_at_commit_is_resolved_by_the_key_the_server_issued(server_factory: ServerFactory) -> None:
    """Before: a booking without session or key whose COMMIT answer was lost got `503 OUTCOME_UNKNOWN`
    and nothing to resolve it with: a resend got 409 SEATS_TAKEN for the buyer's own seats, and the
    manage tokens were only in the lost answer."""
    buyer = name("lost-answer")
    database = server_factory.database("bo_replay_lost")
    proxy = CommitSwallower(buyer.encode())
    with proxy:
        proxy.open()
        server = server_factory(
            database_url=database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"),
            log="lost-answer",
            settings=LOAD_LIMITS_OFF,
            hold_sweep_interval_s=0,
            db_statement_timeout_ms=1000,  # the client-side wait for an answer: 2 s
        )
        async with client_for(server) as client:
            body = {"seatIds": [11, 12], "userId": buyer}
            lost = await client.post(BOOK, json=body)
            assert proxy.swallowed.is_set()
            assert lost.status_code == 503 and lost.json()["error"] == "OUTCOME_UNKNOWN", lost.text
            # The key the outcome was stored under, in the header and in the body.
            key = lost.headers.get("idempotency-key")
            assert key and lost.json().get("idempotencyKey") == key, (lost.headers, lost.text)
            # It did commit: a resend without the key is refused for the buyer's own seats ...
            resend = await client.post(BOOK, json=body)
            assert resend.status_code == 409 and resend.json()["error"] == "SEATS_TAKEN", resend.text
            # ... while the retry with the issued key replays the first answer, manage tokens included.
            resolved = await client.post(BOOK, json=body, headers={"Idempotency-Key": key})
            assert resolved.status_code == 201 and resolved.headers["idempotent-replayed"] == "true", resolved.text
            bookings = resolved.json()["bookings"]
            assert [b["seatId"] for b in bookings] == [11, 12] and all(b["userId"] == buyer for b in bookings)
            for b in bookings:
                record = await client.get(f"{BOOK}/{b['bookingId']}", headers={"Manage-Token": b["manageToken"]})
                assert record.status_code == 200 and record.json()["status"] == "CONFIRMED", record.text
        booked = rows(database, "SELECT seat_id, user_id FROM bookings ORDER BY seat_id")
        assert booked == [{"seat_id": 11, "user_id": buyer}, {"seat_id": 12, "user_id": buyer}]
        assert_consistent(database)

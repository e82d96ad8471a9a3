"""Typed dependencies: what the routers use, built once by the composition root (`boxoffice.server`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from boxoffice.api.auth import Authenticator
from boxoffice.api.errors import VALIDATION_FAILED, ApiError
from boxoffice.api.ratelimit import RateLimiter
from boxoffice.booking.events import EventService
from boxoffice.booking.holds import HoldService
from boxoffice.booking.idempotency import IdempotencyService
from boxoffice.booking.service import BookingService
from boxoffice.booking.snapshots import SnapshotCache
from boxoffice.booking.waitroom.runtime import WaitingRoom
from boxoffice.domain import Caller, Unavailable
from boxoffice.health import HealthChecker
from boxoffice.observability import metrics
from boxoffice.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Api:
    settings: Settings
    bookings: BookingService
    holds: HoldService
    events: EventService
    idempotency: IdempotencyService
    auth: Authenticator
    limiter: RateLimiter
    health: HealthChecker
    sample_metrics: Callable[[], None]
    """Refresh gauges that are read rather than counted (pool usage) before a scrape."""
    snapshots: SnapshotCache
    waitroom: WaitingRoom
    join_limiter: RateLimiter
    """Waiting-room joins per address (`BOXOFFICE_WAITROOM_JOINS_PER_IP` a minute)."""

    async def admit(
        self, request: Request, caller: Caller, seat_ids: Sequence[int], event_id: int | None = None
    ) -> None:
        """Seats of a gated event, or a best-available/GA request for one, need the caller's
        `Admission-Token` (docs/waiting-room.md). While no on-sale is gated: nothing to check."""
        if self.waitroom.gates_nothing:
            return
        await self.waitroom.check(caller, seat_ids, request.headers.get("admission-token"), event_id)

    def purchased(self, answer: Response) -> Response:
        """After a booking's answer is final (committed): a 201 for seats of a gated event ends the
        buyer's admission, so its slot goes to the next in line (`BOXOFFICE_WAITROOM_END_ON_PURCHASE`,
        docs/waiting-room.md). The end is written in the background: `answer` is returned unchanged,
        whatever happens to it. A replayed answer ended its admission the first time."""
        if (
            answer.status_code != 201
            or self.waitroom.gates_nothing
            or not self.settings.waitroom_end_on_purchase
            or "idempotent-replayed" in answer.headers
        ):
            return answer
        try:
            self.waitroom.bought(_buyers(orjson.loads(answer.body)))
        except Exception:  # the purchase stands whatever happens here
            log.exception("waitroom_purchase_end_failed")
            metrics.WAITROOM_PURCHASE_END_FAILURES.inc()
        return answer

    def measured(self) -> AbstractContextManager[None]:
        """Time a hold or booking for the waiting room's adaptive rate (its latency and 503s); while
        no on-sale is gated there is nothing to pace, and nothing is timed."""
        return _UNMEASURED if self.waitroom.gates_nothing else _Measured(self.waitroom)

    async def identify(
        self, authorization: str | None, client: str | None, claimed: str | None, *, anonymous_ok: bool = False
    ) -> Caller:
        """The one place that decides who the user is, for every write (HTTP routers and raw ASGI alike).

        `authorization` is the `Authorization` header's value, `client` the peer address, `claimed`
        the body's `userId`. Checks the address's rate limit, then who it is (the auth mode decides),
        then the user's rate limit. `anonymous_ok`: a caller with neither a token nor a `userId` may
        go on (acting by a secret such as a hold token); otherwise that is 422.
        """
        await self.limiter.check_ip(client)
        caller = await self.auth.caller(authorization, claimed)
        if caller.user_id is None:
            if not anonymous_ok:
                raise ApiError(VALIDATION_FAILED, "userId: Field required (or send a session: POST /api/v1/sessions)")
            return caller
        await self.limiter.check_user(caller.user_id)
        return caller

    async def identify_request(self, request: Request, claimed: str | None, *, anonymous_ok: bool = False) -> Caller:
        host = request.client.host if request.client else None
        return await self.identify(request.headers.get("authorization"), host, claimed, anonymous_ok=anonymous_ok)

    async def reader(self, request: Request) -> Caller:
        """Who reads (no rate limit on reads): a verified token, or nobody in particular."""
        return await self.auth.caller(request.headers.get("authorization"), None)


_UNMEASURED: AbstractContextManager[None] = nullcontext()


def _buyers(body: Any) -> set[tuple[int, str]]:
    """(event, owner) of each booking in a booking answer (`BookingOut` or `BookingsOut`)."""
    rows = body.get("bookings", [body]) if isinstance(body, dict) else []
    return {
        (row["eventId"], row["userId"])
        for row in rows
        if isinstance(row, dict) and isinstance(row.get("eventId"), int) and isinstance(row.get("userId"), str)
    }


class _Measured:
    __slots__ = ("_room", "_start")

    def __init__(self, room: WaitingRoom) -> None:
        self._room = room
        self._start = time.perf_counter()

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._room.observe(time.perf_counter() - self._start, kind is not None and issubclass(kind, Unavailable))


def get_api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


def _bookings(request: Request) -> BookingService:
    return get_api(request).bookings


def _holds(request: Request) -> HoldService:
    return get_api(request).holds


def _events(request: Request) -> EventService:
    return get_api(request).events


def _snapshots(request: Request) -> SnapshotCache:
    return get_api(request).snapshots


def _health(request: Request) -> HealthChecker:
    return get_api(request).health


ApiDep = Annotated[Api, Depends(get_api)]
Bookings = Annotated[BookingService, Depends(_bookings)]
Holds = Annotated[HoldService, Depends(_holds)]
Events = Annotated[EventService, Depends(_events)]
Health = Annotated[HealthChecker, Depends(_health)]
Snapshots = Annotated[SnapshotCache, Depends(_snapshots)]

"""CPU cost per booking request of the HTTP path: the bounded protocol's own booking path against the ASGI
way (uvicorn's cycle, the observability, body-limit and lean-route layers), on the real app.

`python -m tests.httpserver.lean_cost`: a fake transport and a booking service that answers at once (409,
counted by `record_booking` as the real one is), so only the request path is measured: parsing,
validation, identification, the answer, the request id and the metrics. Process CPU time, rounds
interleaved. `--profile` prints a CPU-time profile of the lean path instead.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, nullcontext
from typing import Any, ClassVar

import uvloop
from fastapi import FastAPI

from boxoffice.api.app import BoxOffice, build_app
from boxoffice.domain import Caller, SeatOccupied, Strategy
from boxoffice.httpserver.protocol import BoundedHttpProtocol
from boxoffice.observability.metrics import record_booking
from boxoffice.settings import Settings
from tests.httpserver import protocol_cost

BODY = b'{"seatId": 7, "userId": "user-123"}'
REQUEST = (
    b"POST /api/v1/bookings HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: python-httpx/0.28\r\n"
    b"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
)
REQUESTS = 10_000
ROUNDS = 7


class _Bookings:
    async def book_seat(self, seat_id: int, caller: Caller, strategy: Strategy | None, access: Any) -> Any:
        with record_booking(strategy or Strategy.ATOMIC):
            raise SeatOccupied(seat_id)


class _Api:
    """What `bookings.book` uses of `Api`, answering at once."""

    bookings = _Bookings()

    async def identify_request(self, request: Any, claimed: str | None, *, anonymous_ok: bool = False) -> Caller:
        return Caller(claimed, False)

    async def admit(self, *args: Any) -> None:
        return None

    def measured(self) -> Any:
        return nullcontext()


@asynccontextmanager
async def _no_services(app: FastAPI) -> AsyncIterator[None]:
    yield


class _Canned:
    """A lean route answering a fixed 409 at once: what is left is the protocol's own cost."""

    path = b"/api/v1/bookings"
    max_body_bytes = 4096
    management_port = None
    _headers: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"content-length", b"2"),
        (b"content-type", b"application/json"),
        (b"x-request-id", b"r"),
    ]

    def ready(self) -> bool:
        return True

    async def answer(self, scope: Any, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return 409, self._headers, b"{}"

    def record(self, status: int, elapsed: float, scope: Any) -> None:
        pass


def canned() -> BoxOffice:
    built = app(lean=True)
    built.lean_booking = _Canned()  # type: ignore[assignment]
    return built


def app(lean: bool) -> BoxOffice:
    built = build_app(Settings(database_url="postgresql://unused"), lifespan=_no_services, ready=lambda: True)
    assert isinstance(built, BoxOffice)
    built.state.api = _Api()
    if not lean:
        built.lean_booking = None
    return built


async def per_request_us(target: BoxOffice, requests: int = REQUESTS) -> float:
    return await protocol_cost.per_request_us(BoundedHttpProtocol, target, REQUEST, requests)


async def main(argv: Sequence[str]) -> None:
    if "--profile" in argv:
        target = app(lean=True)
        await per_request_us(target, 1000)
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        await per_request_us(target)
        profile.disable()
        pstats.Stats(profile).sort_stats(argv[-1] if argv[-1] != "--profile" else "tottime").print_stats(45)
        return
    targets = {"asgi": app(lean=False), "lean": app(lean=True), "protocol only (canned answer)": canned()}
    results: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(ROUNDS):
        for name, target in targets.items():
            results[name].append(await per_request_us(target))
    for name, values in results.items():
        print(
            f"{name:30s} median {statistics.median(values):6.1f} us/request (runs: {sorted(round(v) for v in values)})"
        )


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1:]))

"""`Idempotency-Key`: a retry gets the first answer (same status, same body), not a new outcome."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from boxoffice.api.errors import ApiError, describe, error_body
from boxoffice.api.ratelimit import RATE_LIMITED
from boxoffice.booking.service import BookingService
from boxoffice.domain import Booking, BookingError, SeatLimitExceeded
from boxoffice.storage import idempotency as store
from boxoffice.storage.db import connection

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")


@dataclass
class Outcome:
    status: int
    payload: Any
    bookings: list[Booking] = field(default_factory=list)
    """Committed bookings to hand to `BookingService` listeners once the transaction is over."""
    changed: bool = False
    """Seats changed without a booking (hold, release, cancel): ring the change listeners after commit."""


Work = Callable[[asyncpg.Connection | None], Awaitable[Outcome]]


def _json(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def _counted(work: Work, conn: asyncpg.Connection | None) -> Outcome:
    try:
        return await work(conn)
    except SeatLimitExceeded:
        RATE_LIMITED.labels("seats").inc()
        raise


async def respond(request: Request, scope: str, user: str, payload: BaseModel | None, work: Work) -> Response:
    """Run `work` once per key: on a connection whose transaction also stores the answer.

    The request's fingerprint (path, user, validated body) is only computed when a key is given;
    the same key with a different fingerprint is a client bug (422), never a silent replay.
    """
    service: BookingService = request.app.state.booking
    key = request.headers.get("idempotency-key")
    if key is None:
        outcome = await _counted(work, None)
        return _json(orjson.dumps(outcome.payload), outcome.status)
    if not KEY_PATTERN.match(key):
        raise ApiError(422, "VALIDATION_FAILED", "Idempotency-Key: must be 1-128 visible ASCII characters")
    fingerprint: dict[str, object] = {"path": request.url.path, "user": user}
    if payload is not None:
        fingerprint["body"] = payload.model_dump(mode="json")
    digest = hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).digest()
    settings = request.app.state.settings
    committed: list[Booking] = []
    changed = False
    async with connection(request.app.state.pool, settings.db_acquire_timeout_s) as conn, conn.transaction():
        if not await store.claim(conn, scope, key, digest, settings.idempotency_ttl_s):
            prior = await store.stored(conn, scope, key)
            if prior.fingerprint != digest:
                raise ApiError(
                    422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key was already used with a different request"
                )
            return _json(prior.body, prior.status_code, {"Idempotent-Replayed": "true"})
        try:
            outcome = await _counted(work, conn)
            status, body = outcome.status, orjson.dumps(outcome.payload)
            committed, changed = outcome.bookings, outcome.changed
        except BookingError as exc:
            described = describe(exc)
            if described is None:
                raise  # retryable (503): roll back the key too, so the retry runs afresh
            status, code, extra = described
            body = error_body(request, status, code, str(exc), extra)
        await store.answer(conn, scope, key, status, body)
    service.notify(committed)
    if changed:
        service.changed()
    return _json(body, status)

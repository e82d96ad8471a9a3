"""Checkout endpoints: multi-seat bookings, holds, cancellation (HTTP only; logic in booking/)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
import orjson
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from starlette.responses import Response

from boxoffice.api.auth import Authenticator
from boxoffice.api.errors import ApiError
from boxoffice.api.idempotency import Outcome, respond
from boxoffice.api.ratelimit import RateLimiter
from boxoffice.api.schemas import (
    BookingRequest,
    SeatIds,
    StrategyName,
    UserId,
    booking_json,
    distinct_seat_ids,
    seat_json,
)
from boxoffice.booking.checkout import CheckoutService
from boxoffice.booking.service import BookingService
from boxoffice.domain import Booking, BookingNotFound, Cancellation, Hold
from boxoffice.storage import checkout as checkout_store
from boxoffice.storage.db import connection

router = APIRouter(prefix="/api/v1")

BookingIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    seatIds: SeatIds
    userId: UserId | None = None
    strategy: StrategyName = None

    @model_validator(mode="after")
    def _distinct(self) -> HoldRequest:
        distinct_seat_ids(self.seatIds)
        return self


class OwnerRequest(BaseModel):
    """Body of extend/release: who asks (open mode); may be empty in jwt mode."""

    model_config = ConfigDict(extra="forbid", strict=True)

    userId: UserId | None = None


class CancelRequest(OwnerRequest):
    reason: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = None


def request_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """OpenAPI `requestBody` for a model read by hand, with `$defs` inlined so every ref resolves."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {"requestBody": {"required": required, "content": {"application/json": {"schema": inline(schema)}}}}


async def read_body(request: Request, *, required: bool = True) -> bytes:
    """The JSON body, refused early when it is not JSON or missing (400/415, never 500)."""
    body = await request.body()
    if not body and not required:
        return b"{}"
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    if not body:
        raise ApiError(400, "MALFORMED_JSON", "Request body is required")
    return body


async def identify(request: Request, claimed: str | None) -> str:
    """The acting user (auth mode decides) after the IP and user rate limits let the request in."""
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check_ip(request)
    auth: Authenticator = request.app.state.auth
    user = auth.user(request, claimed)
    await limiter.check_user(user)
    return user


def _checkout(request: Request) -> CheckoutService:
    service: CheckoutService = request.app.state.checkout
    return service


def bookings_json(bookings: list[Booking], user_id: str, hold_token: UUID | None) -> dict[str, Any]:
    return {
        "userId": user_id,
        "holdToken": str(hold_token) if hold_token else None,
        "seatIds": [b.seat.id for b in bookings],
        "bookings": [booking_json(b) for b in bookings],
        "sequence": max(b.sequence for b in bookings),
    }


def hold_json(hold: Hold) -> dict[str, Any]:
    return {
        "holdToken": str(hold.token),
        "userId": hold.user_id,
        "state": hold.state.value,
        "expiresAt": hold.expires_at,
        "seatIds": [s.id for s in hold.seats],
        "seats": [seat_json(s) for s in hold.seats],
        "sequence": hold.sequence,
    }


def cancellation_json(c: Cancellation) -> dict[str, Any]:
    return {
        "bookingId": c.booking_id,
        "status": "CANCELLED",
        "cancelledBy": c.user_id,
        "cancelledAt": c.cancelled_at,
        "reason": c.reason,
        "seat": seat_json(c.seat),
        "sequence": c.sequence,
    }


async def create_booking(request: Request) -> Response:
    """POST /api/v1/bookings: single seat (original shape), several seats, or a hold's seats."""
    payload = BookingRequest.model_validate_json(await read_body(request))
    user = await identify(request, payload.userId)
    booking: BookingService = request.app.state.booking
    checkout = _checkout(request)

    async def work(conn: asyncpg.Connection | None) -> Outcome:
        if payload.holdToken is not None:
            done = await checkout.confirm(payload.holdToken, user, payload.seatIds, payload.strategy, conn=conn)
            return Outcome(201, bookings_json(done, user, payload.holdToken), done)
        if payload.seatIds is not None:
            done = await checkout.book(payload.seatIds, user, payload.strategy, conn=conn)
            return Outcome(201, bookings_json(done, user, None), done)
        assert payload.seatId is not None
        if conn is None and not checkout.policy.seats_per_user:
            # The original one-statement fast path.
            return Outcome(201, booking_json(await booking.book(payload.seatId, user, payload.strategy)))
        done = await checkout.book([payload.seatId], user, payload.strategy, conn=conn)
        return Outcome(201, booking_json(done[0]), done)

    return await respond(request, "POST /api/v1/bookings", user, payload, work)


@router.post("/holds", status_code=201, openapi_extra=request_body(HoldRequest))
async def create_hold(request: Request) -> Response:
    """Hold seats for a checkout: all or none; the token confirms, extends or releases them."""
    payload = HoldRequest.model_validate_json(await read_body(request))
    user = await identify(request, payload.userId)
    checkout = _checkout(request)

    async def work(conn: asyncpg.Connection | None) -> Outcome:
        hold = await checkout.hold(payload.seatIds, user, payload.strategy, conn=conn)
        return Outcome(201, hold_json(hold), changed=True)

    return await respond(request, "POST /api/v1/holds", user, payload, work)


@router.get("/holds/{token}")
async def get_hold(token: UUID, request: Request) -> Response:
    hold = await _checkout(request).get_hold(token)
    return Response(orjson.dumps(hold_json(hold)), media_type="application/json")


async def _change_hold(request: Request, token: UUID, action: str) -> Response:
    """Extend or release: the owner acts on its hold, idempotently when a key is given."""
    payload = OwnerRequest.model_validate_json(await read_body(request, required=False))
    user = await identify(request, payload.userId)
    checkout = _checkout(request)
    change = checkout.extend if action == "extend" else checkout.release

    async def work(conn: asyncpg.Connection | None) -> Outcome:
        return Outcome(200, hold_json(await change(token, user, conn=conn)), changed=True)

    return await respond(request, f"POST /api/v1/holds/{action}", user, None, work)


@router.post("/holds/{token}/extend", openapi_extra=request_body(OwnerRequest, required=False))
async def extend_hold(token: UUID, request: Request) -> Response:
    return await _change_hold(request, token, "extend")


@router.post("/holds/{token}/release", openapi_extra=request_body(OwnerRequest, required=False))
async def release_hold(token: UUID, request: Request) -> Response:
    return await _change_hold(request, token, "release")


@router.post("/bookings/{booking_id}/cancel", openapi_extra=request_body(CancelRequest, required=False))
async def cancel_booking(booking_id: BookingIdPath, request: Request) -> Response:
    """The owner cancels: the booking row turns CANCELLED (kept as the audit trail), the seat is free."""
    payload = CancelRequest.model_validate_json(await read_body(request, required=False))
    user = await identify(request, payload.userId)
    checkout = _checkout(request)

    async def work(conn: asyncpg.Connection | None) -> Outcome:
        cancellation = await checkout.cancel(booking_id, user, payload.reason, conn=conn)
        return Outcome(200, cancellation_json(cancellation), changed=True)

    return await respond(request, "POST /api/v1/bookings/cancel", user, payload, work)


@router.get("/bookings/{booking_id}")
async def get_booking(booking_id: BookingIdPath, request: Request) -> Response:
    """A booking's record, cancelled or not (the audit trail)."""
    settings = request.app.state.settings
    async with connection(request.app.state.pool, settings.db_acquire_timeout_s) as conn:
        record = await checkout_store.booking_record(conn, booking_id)
    if record is None:
        raise BookingNotFound(booking_id)
    body = {
        "bookingId": record["id"],
        "seatId": record["seat_id"],
        "userId": record["user_id"],
        "strategy": record["strategy"],
        "status": record["status"],
        "createdAt": record["created_at"],
        "holdToken": str(record["hold_token"]) if record["hold_token"] else None,
        "cancelledAt": record["cancelled_at"],
        "cancelledBy": record["cancelled_by"],
        "cancelReason": record["cancel_reason"],
    }
    return Response(orjson.dumps(body), media_type="application/json")


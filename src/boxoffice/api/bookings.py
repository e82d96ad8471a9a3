"""`/api/v1/bookings`: book one seat, several seats or a hold's seats; read and cancel a booking.

`POST /api/v1/bookings` is answered by the lean routes (api/lean.py) with `book` below; its declaration
here is on `schema_only`, a router the app documents in OpenAPI but never routes to (api/app.py).
"""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Header, Path, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.deps import Api, ApiDep
from boxoffice.api.http import SCHEMA_ONLY, access_of, best_of, json_response, read_body, request_body
from boxoffice.api.idempotency import respond, stored_answer
from boxoffice.api.schemas import BookingRequest, CancelRequest
from boxoffice.domain import BookingError

router = APIRouter(prefix="/api/v1", tags=["bookings"])
schema_only = APIRouter(prefix="/api/v1", tags=["bookings"])
"""Declarations for the OpenAPI document only: their requests are answered by api/lean.py."""

BOOK_SCOPE = "POST /api/v1/bookings"
BookingIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
ManageToken = Annotated[
    str | None,
    Header(
        alias="Manage-Token",
        max_length=256,
        description="The `manageToken` of a booking made without a session or token.",
    ),
]


@schema_only.post(
    "/bookings",
    status_code=201,
    response_model=wire.BookingOut | wire.BookingsOut,
    responses=errors.responses(
        *errors.WRITE_ERRORS,
        errors.SEAT_NOT_FOUND,
        errors.SEATS_NOT_FOUND,
        errors.HOLD_NOT_FOUND,
        errors.SEAT_OCCUPIED,
        errors.SEATS_TAKEN,
        errors.HOLD_EXPIRED,
        errors.HOLD_NOT_ACTIVE,
        errors.SEAT_LIMIT_EXCEEDED,
        *errors.INVENTORY_ERRORS,
        *errors.ADMISSION_ERRORS,
    ),
    openapi_extra=request_body(BookingRequest),
)
def create_booking() -> NoReturn:
    """Book one seat (`seatId`, the original call), several (`seatIds`, all or nothing), a hold's
    seats (`holdToken`), or the best block the server picks (`eventId` with `bestAvailable`; GA
    tickets by quantity); exactly one of many concurrent requests for a seat gets 201.
    `X-Channel-Key` unlocks a sales channel's seats."""
    raise RuntimeError(SCHEMA_ONLY)


async def book(api: Api, request: Request, payload: BookingRequest) -> Response:
    """`POST /api/v1/bookings` once the body is validated: what the lean route (api/lean.py) answers."""
    hold_token = payload.holdToken
    caller = await api.identify_request(request, payload.userId, anonymous_ok=hold_token is not None)
    bookings = api.bookings
    access = access_of(request, caller.admin, payload.accessible)
    best = best_of(payload.eventId, payload.bestAvailable)
    secret = str(hold_token) if hold_token else None
    if hold_token is None:
        # A gated event's seats need an admission; confirming a hold does not (the hold was placed under one).
        try:
            await api.admit(request, caller, payload.seatIds or [payload.seatId or 0], best.event_id if best else None)
        except BookingError:
            # Not admitted now: a retry whose first request has an answer still gets it (a replay needs no admission).
            stored = await stored_answer(api, request, BOOK_SCOPE, caller, secret, payload)
            if stored is None:
                raise
            return stored

    async def work() -> tuple[int, Any]:
        if best is not None:
            return 201, wire.bookings_json(await bookings.book_best(best, caller, payload.strategy, access), None)
        if hold_token is not None:
            done = await bookings.confirm(hold_token, caller, payload.seatIds, payload.strategy)
            return 201, wire.bookings_json(done, hold_token)
        if payload.seatIds is not None:
            done = await bookings.book_seats(payload.seatIds, caller, payload.strategy, access)
            return 201, wire.bookings_json(done, None)
        assert payload.seatId is not None
        return 201, wire.booking_json(await bookings.book_seat(payload.seatId, caller, payload.strategy, access))

    # A one-seat booking without a key (`seatId`, or a basket of one as the seat map sends it) keeps
    # its one-statement claim and group commit: no key is issued for it.
    one_seat = hold_token is None and best is None and len(payload.seatIds or [payload.seatId]) == 1
    with api.measured():
        answer = await respond(api, request, BOOK_SCOPE, caller, secret, payload, work, issue=not one_seat)
    return api.purchased(answer)


@router.get(
    "/bookings/{booking_id}",
    response_model=wire.BookingRecordOut,
    responses=errors.responses(errors.UNAUTHENTICATED, errors.BOOKING_NOT_FOUND),
)
async def get_booking(booking_id: BookingIdPath, request: Request, api: ApiDep, manage: ManageToken = None) -> Response:
    """A booking's record, cancelled or not (the audit trail), to its owner: the session or token that
    made it, or the `Manage-Token` of one made without. Anyone else gets 404."""
    record = await api.bookings.get(booking_id, await api.reader(request), manage)
    return json_response(wire.booking_record_json(record))


@router.post(
    "/bookings/{booking_id}/cancel",
    response_model=wire.CancellationOut,
    responses=errors.responses(*errors.WRITE_ERRORS, errors.BOOKING_NOT_FOUND, errors.BOOKING_NOT_ACTIVE),
    openapi_extra=request_body(CancelRequest, required=False),
)
async def cancel_booking(
    booking_id: BookingIdPath, request: Request, api: ApiDep, manage: ManageToken = None
) -> Response:
    """The owner cancels: the booking row turns CANCELLED (kept as the audit trail), the seat is free.
    Anyone else, whatever `userId` they name, gets 404 and changes nothing."""
    payload = CancelRequest.model_validate_json(await read_body(request, required=False))
    caller = await api.identify_request(request, payload.userId, anonymous_ok=True)

    async def work() -> tuple[int, Any]:
        return 200, wire.cancellation_json(await api.bookings.cancel(booking_id, caller, manage, payload.reason))

    return await respond(api, request, "POST /api/v1/bookings/cancel", caller, manage, payload, work)

"""Every JSON shape has one model and one renderer (`wire.RENDERERS`); this proves each pair agrees.

Each renderer is called on real domain objects (free, booked, held, blocked, GA, with and without the
optional parts), its answer encoded as the API encodes it, then validated against its model in strict
mode (value types) with the exact key set at every level (an extra or a missing key fails). A model
without a renderer, a renderer without cases here, or a route answering with a model that has no
renderer fails too, so a new shape cannot skip the check.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Union, get_args, get_origin
from uuid import UUID

import orjson
import pytest
from pydantic import BaseModel

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.http import json_response
from boxoffice.domain import (
    Area,
    Booking,
    BookingRecord,
    Cancellation,
    Event,
    EventCancellation,
    EventStatus,
    Hold,
    HoldState,
    Inventory,
    Seat,
    SeatStatus,
    SectionLayout,
    Strategy,
    VisitorState,
    VisitorStatus,
    WaitingRoomConfig,
    WaitingRoomStats,
)
from boxoffice.realtime.relay import event_from_change
from boxoffice.server import create_app
from boxoffice.storage.outbox import SeatChange

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
LATER = datetime.now(UTC) + timedelta(hours=1)  # a hold that has not lapsed yet
TOKEN = UUID("6f1c1d7e-2b1a-4c55-9a51-0c1f5a7d9e01")

FREE = Seat(1, "A1", "Stalls", "A", 0, 0, SeatStatus.AVAILABLE, None, None, 0)
BOOKED = Seat(
    2,
    "A2",
    "Stalls",
    "A",
    0,
    1,
    SeatStatus.BOOKED,
    "ann",
    NOW,
    3,
    event_id=7,
    category="Premium",
    price_cents=9500,
    accessibility="WHEELCHAIR",
    channel="partner",
)
HELD = Seat(3, "A3", "Stalls", "A", 0, 2, SeatStatus.HELD, None, None, 1, held_until=LATER)
LAPSED = Seat(4, "A4", "Stalls", "A", 0, 3, SeatStatus.HELD, None, None, 1, held_until=NOW)
BLOCKED = Seat(5, "A5", "Stalls", "A", 0, 4, SeatStatus.AVAILABLE, None, None, 2, blocked="SPONSOR")
GA = Seat(6, "Floor-1", "Floor", "", 0, 0, SeatStatus.AVAILABLE, None, None, 0, kind="GA", category="Standing")
SEATS = [FREE, BOOKED, HELD, LAPSED, BLOCKED, GA]

SECTIONS = [SectionLayout("Stalls", ["A", "B"], 5), SectionLayout("Floor", [], 0, kind="GA", capacity=500)]
AREA = Area("Floor", "Standing", 4500, 500, 498)
AREA_BARE = Area("Balcony", None, None, 10, 0)
INVENTORY = Inventory(SEATS, SECTIONS, 42, [AREA, AREA_BARE])
EMPTY = Inventory([], [], 0)
EVENT = Event(7, "gala", "Gala", "Hall", NOW, NOW, 6, no_orphans=True, channels=("partner",))
EVENT_BARE = Event(8, "tba", "TBA", "Hall", None, NOW, 0)
EVENT_CANCELLED = Event(
    9,
    "off",
    "Off",
    "Hall",
    LATER,
    NOW,
    4,
    status=EventStatus.CANCELLED,
    sales_start=NOW,
    sales_end=LATER,
    cancelled_at=NOW,
    cancel_reason="Artist ill",
)

BOOKING = Booking(11, BOOKED, Strategy.DB, 43)
ANONYMOUS = Booking(12, BOOKED, Strategy.ATOMIC, 44, manage_token="m-token")
HOLD = Hold(TOKEN, "ann", [HELD, GA], HoldState.ACTIVE, LATER, 45)
RECORD = BookingRecord(11, 2, "ann", "DB", "ACTIVE", NOW, None, None, None, None)
CANCELLED = BookingRecord(12, 2, "ann", "REDIS", "CANCELLED", NOW, TOKEN, NOW, "admin", "refund")

CONFIG = WaitingRoomConfig(7, True, NOW, 100, 60, 10, True, 300, 600)
STATS = WaitingRoomStats(CONFIG, 12, 3, 40, 37.25, NOW)
STATS_OFF = WaitingRoomStats(WaitingRoomConfig(7, False, NOW, 100, 60, 10, False, 300, 600), 0, 0, 0, 0.0, None)

CASES: dict[type[BaseModel], list[tuple[Any, ...]]] = {
    wire.SeatOut: [(s,) for s in SEATS],
    wire.AdminSeatOut: [(s,) for s in SEATS],
    wire.AreaOut: [(AREA,), (AREA_BARE,)],
    wire.SeatChangeOut: [(BOOKED, 9, 4), (GA, 10, 9, 499), (FREE, 1, 0, None)],
    wire.BookingOut: [(BOOKING,), (ANONYMOUS,)],
    wire.BookingsOut: [([BOOKING, ANONYMOUS], None), ([BOOKING], TOKEN)],
    wire.HoldOut: [(HOLD,)],
    wire.CancellationOut: [(Cancellation(11, FREE, "ann", NOW, None, 46),), (Cancellation(12, GA, "x", NOW, "r", 47),)],
    wire.BookingRecordOut: [(RECORD,), (CANCELLED,)],
    wire.SectionOut: [(s,) for s in SECTIONS],
    wire.LayoutOut: [(SECTIONS, 6), ([], 0)],
    wire.InventoryOut: [(INVENTORY,), (EMPTY,)],
    wire.EventOut: [(EVENT,), (EVENT_BARE,), (EVENT_CANCELLED,)],
    wire.EventCancellationOut: [
        (EventCancellation(EVENT_CANCELLED, 3, 1, 5, 48),),
        (EventCancellation(EVENT_CANCELLED, 0, 0, 0, 0),),
    ],
    wire.EventListOut: [([EVENT, EVENT_BARE],), ([],)],
    wire.EventInventoryOut: [(INVENTORY, EVENT), (EMPTY, EVENT_BARE)],
    wire.AdminInventoryOut: [(EVENT, SEATS, [AREA, AREA_BARE]), (EVENT_BARE, [], [])],
    wire.AllocationOut: [(7, [1, 5]), (7, [])],
    wire.SeedSeatOut: [(s,) for s in SEATS],
    wire.SessionOut: [("t0k3n", "ann", LATER)],
    wire.MyBookingsOut: [("ann", [RECORD, CANCELLED], 2), ("ann", [RECORD], 50), ("ann", [], 50)],
    wire.MyHoldsOut: [("ann", [HOLD]), ("ann", [])],
    wire.VisitorOut: [
        (VisitorStatus(7, VisitorState.WAITING, 3, 2, 40, NOW, NOW, poll_after_s=5),),
        (VisitorStatus(7, VisitorState.ADMITTED, admission_token="adm", admitted_until=LATER),),
    ],
    wire.WaitingRoomOut: [(7, STATS, NOW), (7, STATS_OFF, NOW), (7, None, NOW)],
    wire.WaitingRoomAdminOut: [(7, STATS, NOW), (7, STATS_OFF, NOW)],
    wire.RevokedOut: [(7, 3)],
}


def error_json(path: str, code: errors.Code, message: str) -> Any:
    return orjson.loads(errors.error_body(path, code, message))


ERRORS: dict[type[BaseModel], tuple[Callable[..., Any], list[tuple[Any, ...]]]] = {
    errors.ErrorOut: (error_json, [("/api/v1/bookings", errors.SEATS_TAKEN, "taken")]),
}
"""Error answers are rendered in `api/errors.py`, not in `wire`; their one pair is checked here too."""


def key_mismatches(model: type[BaseModel], value: Any, where: str) -> Iterator[str]:
    """Keys the JSON has that its model lacks, or lacks that its model has, at every nesting level."""
    if not isinstance(value, dict):
        return
    fields = model.model_fields
    for key in sorted(value.keys() - fields.keys()):
        yield f"{where}.{key}: not in {model.__name__}"
    for key in sorted(fields.keys() - value.keys()):
        yield f"{where}.{key}: missing"
    for key, field in fields.items():
        if key in value:
            yield from _nested(field.annotation, value[key], f"{where}.{key}")


def _nested(annotation: Any, value: Any, where: str) -> Iterator[str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from key_mismatches(annotation, value, where)
    elif get_origin(annotation) is list and isinstance(value, list):
        (item,) = get_args(annotation)
        for i, v in enumerate(value):
            yield from _nested(item, v, f"{where}[{i}]")
    elif get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _nested(arg, value, where)


def rendered(model: type[BaseModel], args: tuple[Any, ...]) -> bytes:
    """The bytes a client receives: the API's JSON encoding, or the relay's for a STOMP message."""
    if model is wire.SeatChangeOut:
        seat, seq, prev, *area = args
        frame = event_from_change(SeatChange(seq, seat, *area), prev).tail
        return frame.split("\n\n", 1)[1].removesuffix("\x00").encode()
    return bytes(json_response(wire.RENDERERS[model](*args)).body)


def check(model: type[BaseModel], body: bytes) -> None:
    found = list(key_mismatches(model, orjson.loads(body), model.__name__))
    assert not found, f"{model.__name__} and its renderer disagree:\n  " + "\n  ".join(found)
    model.model_validate_json(body, strict=True)


def _name(model: type[BaseModel]) -> str:
    return model.__name__


MODELS = sorted(wire.RENDERERS, key=_name)


@pytest.mark.parametrize("model", MODELS, ids=_name)
def test_renderer_matches_its_model(model: type[BaseModel]) -> None:
    assert CASES.get(model), f"add domain objects for {model.__name__} to CASES in {__name__}"
    for args in CASES[model]:
        check(model, rendered(model, args))


def test_error_body_matches_its_model() -> None:
    for model, (render, cases) in ERRORS.items():
        for args in cases:
            check(model, orjson.dumps(render(*args)))


def test_every_model_in_wire_has_a_renderer() -> None:
    models = {
        v
        for v in vars(wire).values()
        if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == wire.__name__
    }
    assert {m.__name__ for m in models - wire.RENDERERS.keys()} == set()
    assert CASES.keys() == wire.RENDERERS.keys()


FASTAPI_OWN = {"HTTPValidationError", "ValidationError"}
"""FastAPI documents these for every route with parameters; `api/errors.py` answers with ErrorOut instead."""


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref.removeprefix("#/components/schemas/")
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_answer_in_the_openapi_document_has_a_renderer() -> None:
    """Walks the document the UI's types are generated from: every answer a route declares."""
    paths = create_app().openapi()["paths"]
    answered = {
        name: f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        for name in _refs(operation.get("responses", {}))
    }
    assert "BookingsOut" in answered, "the walk over the document's answers is broken"
    rendered = {m.__name__ for m in [*wire.RENDERERS, *ERRORS]}
    unrendered = {name: where for name, where in answered.items() if name not in rendered | FASTAPI_OWN}
    assert not unrendered, f"answered with a model no renderer is registered for: {unrendered}"


def test_stomp_messages_are_in_the_openapi_components() -> None:
    """The UI's STOMP types are generated from these, like its REST types."""
    schemas = create_app().openapi()["components"]["schemas"]
    for model in wire.MESSAGES:
        assert model in wire.RENDERERS
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)
        assert set(schemas[model.__name__]["required"]) == set(model.model_fields)


def test_a_model_has_one_renderer() -> None:
    with pytest.raises(ValueError, match="SeatOut already rendered by seat_json"):
        wire.renders(wire.SeatOut)(wire.admin_seat_json)
    assert wire.RENDERERS[wire.SeatOut] is wire.seat_json


def test_a_drifted_renderer_fails_the_check() -> None:
    """The check itself: an extra key, a missing key and a wrong value type are each caught."""
    good = wire.seat_json(FREE)
    with pytest.raises(AssertionError, match=r"SeatOut\.extra: not in SeatOut"):
        check(wire.SeatOut, orjson.dumps({**good, "extra": 1}))
    hold = wire.hold_json(HOLD)
    del hold["seats"][1]["kind"]
    with pytest.raises(AssertionError, match=r"HoldOut\.seats\[1\]\.kind: missing"):
        check(wire.HoldOut, orjson.dumps(hold))
    with pytest.raises(ValueError, match="seatId"):
        check(wire.SeatOut, orjson.dumps({**good, "seatId": "1"}))


def test_the_seed_shape_numbers_seats_the_seed_way_and_names_nobody() -> None:
    grid = Seat(12, "B2", "Main", "B", 2, 2, SeatStatus.BOOKED, "ann", NOW, 1)
    assert wire.seed_seat_json(grid) == {"seatId": 12, "seatNumber": "B-2", "booked": True, "bookedAt": NOW}
    assert wire.seed_seat_json(GA)["seatNumber"] == "Floor-1"  # not a grid seat: unchanged
    assert [s["seatId"] for s in wire.seed_seats_json(INVENTORY)] == [s.id for s in SEATS]

"""The vocabulary of seat changes: the availability predicate's variants on real rows, and that the
statements of storage/ take it, and the outbox insert, from `storage.seatsql` alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import boxoffice.storage
from boxoffice.domain import SeatStatus
from boxoffice.storage import checkout, inventory, seats, seatsql
from boxoffice.storage.migrate import upgrade
from boxoffice.storage.seatsql import AVAILABLE, AVAILABLE_NOW, ON_SALE, Take, available, claim_cte, lapsed, on_sale
from tests.support import fresh_database

# Seat id -> how the test leaves it.
STATES = {
    1: "UPDATE seats SET status = 'AVAILABLE' WHERE id = 1",
    2: "UPDATE seats SET status = 'HELD', held_by = 'u', hold_token = gen_random_uuid(),"
    " held_until = clock_timestamp() + interval '1 hour' WHERE id = 2",
    3: "UPDATE seats SET status = 'HELD', held_by = 'u', hold_token = gen_random_uuid(),"
    " held_until = clock_timestamp() - interval '1 second' WHERE id = 3",
    4: "UPDATE seats SET status = 'BOOKED', booked_by = 'u', booked_at = clock_timestamp() WHERE id = 4",
    5: "UPDATE seats SET blocked = 'PRESS', plain = FALSE WHERE id = 5",
}


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_database("bo_seatsql") as u:
        upgrade(u)
        with psycopg.connect(u) as conn:
            conn.execute(
                "INSERT INTO seats (id, seat_number, section, row_label, row_idx, col_idx)"
                " SELECT i, 'A' || i, 'Main', 'A', 1, i FROM generate_series(1, 5) AS i"
            )
            for statement in STATES.values():
                conn.execute(statement)
        yield u


def test_each_variant_of_the_predicate_on_each_seat_state(url: str) -> None:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT id, {AVAILABLE}, {AVAILABLE_NOW}, {available(unblocked=False)}, {lapsed()} FROM seats ORDER BY id"
        ).fetchall()
    # (free to claim, AVAILABLE_NOW, free in any pool, a lapsed hold)
    assert {r[0]: r[1:] for r in rows} == {
        1: (True, True, True, False),  # free
        2: (False, False, False, False),  # held, live
        3: (True, False, True, True),  # held, lapsed: free, though only the full predicate and lapsed() say so
        4: (False, False, False, False),  # booked
        5: (False, False, True, False),  # free but blocked: only allocation may take it
    }


def test_storage_writes_the_predicate_and_the_outbox_insert_only_in_seatsql() -> None:
    storage = Path(boxoffice.storage.__file__).parent
    modules = [p for p in storage.glob("*.py") if p.name != Path(seatsql.__file__).name]
    assert modules
    for path in modules:
        text = path.read_text()
        assert "INSERT INTO seat_events" not in text, f"{path.name}: use seatsql.outbox"
        assert "'AVAILABLE'" not in text, f"{path.name}: use seatsql.available or RELEASE"
        assert "held_until <" not in text, f"{path.name}: use seatsql.lapsed"
        assert "< s.sellable_until" not in text and "< sellable_until" not in text, f"{path.name}: use seatsql.on_sale"


def test_the_sales_window_on_real_rows(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE seats SET sellable_from = clock_timestamp() + interval '1 hour' WHERE id = 1")
        conn.execute("UPDATE seats SET sellable_until = clock_timestamp() - interval '1 second' WHERE id = 2")
        conn.execute("UPDATE seats SET sellable_until = '-infinity' WHERE id = 3")  # a cancelled event's seat
        found = conn.execute(f"SELECT id, {ON_SALE} FROM seats ORDER BY id").fetchall()
    assert dict(found) == {1: False, 2: False, 3: False, 4: True, 5: True}


def test_every_claim_checks_the_sales_window() -> None:
    """The window is part of the one claim (`claim_cte`), so no statement built from it can sell outside it."""
    claims = [seats._CLAIM, seats._CLAIM_BATCH, seats._CLAIM_BATCH_CAPPED]
    claims += [checkout._CLAIM_MANY, checkout._HOLD, inventory._BOOK_GA, inventory._HOLD_GA]
    for statement in claims:
        assert on_sale("s") in statement
    assert (
        claim_cte(Take(SeatStatus.BOOKED, user="$1", strategy="$2"), where="TRUE", free="TRUE").count(on_sale("s")) == 1
    )

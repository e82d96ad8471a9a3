"""Settings of the servers that several suites share, and the constants their tests assert against."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support import LOAD_LIMITS_OFF, ServerProcess, Setting, reset_inventory

HOLD_TTL_S = 3.0
HOLD_MAX_S = 4.0
IDEMPOTENCY_TTL_S = 3
JWT_SECRET = "test-secret-" + "x" * 40
ADMIN_TOKEN = "admin-token-" + "z" * 20
CHECKOUT_PREFIX = f"bo-co-{uuid.uuid4().hex[:8]}:"

CHECKOUT_SEATS: dict[str, Setting] = {"seed_rows": 10, "seed_cols": 20, "db_pool_max": 8, **LOAD_LIMITS_OFF}
"""The checkout suites' seat map (200 seats) and pool; no load limits (tests of the limits set their own)."""

CHECKOUT: dict[str, Setting] = {
    **CHECKOUT_SEATS,
    "redis_key_prefix": CHECKOUT_PREFIX,
    "hold_ttl_s": HOLD_TTL_S,
    "hold_max_s": HOLD_MAX_S,
    "hold_sweep_interval_s": 0,
    "idempotency_ttl_s": IDEMPOTENCY_TTL_S,
    "redis_lock_wait_ms": 200,
    "admin_token": ADMIN_TOKEN,
    # Correctness tests, not load shedding: a busy machine must not turn a slow claim into a 503.
    "db_acquire_timeout_s": 10,
}
"""The shared checkout server: short holds and idempotency keys, and no sweeper."""


def reset_checkout(database_url: str) -> None:
    """Every seat AVAILABLE at version 0, no bookings, holds, keys or events: each test starts equal."""
    reset_inventory(database_url, from_scratch=True)


def client_for(server: ServerProcess) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    return httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30)


def layout(**overrides: Any) -> dict[str, Any]:
    """An event spec for `POST /api/v1/admin/events` (22 seats in two sections), with a unique slug."""
    spec: dict[str, Any] = {
        "slug": f"jazz-{uuid.uuid4().hex[:8]}",
        "name": "Jazz Night",
        "venue": "Blue Hall",
        "startsAt": "2036-12-24T20:00:00Z",
        "categories": {"VIP": {"priceCents": 9000}, "STD": {"priceCents": 4500}},
        "sections": [
            {"name": "Stalls", "rows": 3, "columns": 4, "category": "STD", "rowCategories": {"A": "VIP"}},
            {"name": "Balcony", "rows": 2, "columns": 5, "category": "STD"},
        ],
    }
    spec.update(overrides)
    return spec


def without_secrets(answer: dict[str, Any]) -> dict[str, Any]:
    """A booking or hold answer as it is replayed to a caller known only by name: every `manageToken`
    and `holdToken` null (docs/checkout.md, "What a replay gives a caller known only by name")."""
    out = {k: None if k in ("manageToken", "holdToken") else v for k, v in answer.items()}
    bookings = out.get("bookings")
    if isinstance(bookings, list):
        out["bookings"] = [without_secrets(b) for b in bookings]
    return out

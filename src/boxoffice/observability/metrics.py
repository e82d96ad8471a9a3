"""Prometheus metrics shared by every layer.

Label values are bounded enums (strategy, outcome, route template), never user or seat ids.
Gauges use `livesum` so several worker processes aggregate under prometheus-client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR).
"""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager
from functools import cache
from types import TracebackType

from prometheus_client import Counter, Gauge, Histogram, values

from boxoffice.domain import (
    HoldExpired,
    NeedsCheckout,
    NoBlockAvailable,
    NotOnSale,
    OutcomeUnknown,
    SeatLimitExceeded,
    SeatNotFound,
    SeatOccupied,
    SeatsTaken,
    Strategy,
    Unavailable,
)

_pid = os.getpid()


def _process_id() -> int:
    """This process's id, read once and again after a fork: multiprocess mode asks on every
    increment (whether the process forked), and `os.getpid()` is a system call each time."""
    return _pid


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)
if getattr(values.ValueClass, "_multiprocess", False):
    # Before any metric exists (this module defines them all): every value writes through this class.
    values.ValueClass = values.MultiProcessValue(_process_id)  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

BOOKING_CONFLICTS = Counter(
    "booking_conflict",
    "Lost races: requests refused because others took the seats first (409 SEAT_OCCUPIED, SEATS_TAKEN,"
    " HOLD_EXPIRED, NO_BLOCK_AVAILABLE), by path: seat, seats, hold, confirm, best, ga.",
    ["path"],
)
BOOKING_ATTEMPTS = Counter("booking_attempts", "Booking attempts by strategy and outcome.", ["strategy", "outcome"])
BOOKING_LATENCY = Histogram(
    "booking_duration_seconds", "Time to decide a booking, by strategy.", ["strategy"], buckets=LATENCY_BUCKETS
)
LOCK_ACQUIRE = Histogram("lock_acquire_seconds", "Time to acquire a Redis seat lease.", buckets=LATENCY_BUCKETS)
LOCK_FAILURES = Counter(
    "lock_failures", "Redis lease failures: contended, lost (expired under its holder), error.", ["reason"]
)
WS_SESSIONS = Gauge("websocket_sessions", "Open STOMP WebSocket sessions.", multiprocess_mode="livesum")
WS_MESSAGES_SENT = Counter("websocket_messages_sent", "STOMP MESSAGE frames sent to subscribers.")
WS_MESSAGES_DROPPED = Counter(
    "websocket_messages_dropped", "Messages dropped for slow consumers (they must resync).", ["reason"]
)
WS_REFUSED = Counter(
    "websocket_refused",
    "WebSocket connections refused or closed by a limit: address_cap, frame_rate, duplicate_subscription,"
    " idle, unauthenticated.",
    ["reason"],
)

RATE_LIMITED_TOTAL = Counter(
    "rate_limited",
    "Requests refused by a limit, by kind: ip, user (429), seats (per-user seat cap, 409) or admin_auth"
    " (too many wrong admin tokens from an address, 429).",
    ["kind"],
)
RATE_LIMIT_FALLBACK = Counter("rate_limit_fallback", "Rate-limit checks answered in-process because Redis failed.")

HTTP_REQUESTS = Counter(
    "http_requests", "HTTP requests by method, route template and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by method, route template and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use", "Database connections lent out by the pools.", multiprocess_mode="livesum"
)
DB_POOL_SIZE = Gauge("db_pool_connections_open", "Database connections open in the pools.", multiprocess_mode="livesum")
DB_POOL_MAX = Gauge(
    "db_pool_connections_max", "Configured pool capacity (summed over workers).", multiprocess_mode="livesum"
)
BATCH_SIZE = Histogram(
    "booking_batch_size",
    "Single-seat claims sent together in one statement (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
BATCH_RETRIES = Counter(
    "booking_batch_retries",
    "Claims of a batch retried alone: refused (the statement failed, nothing committed) or locked (seat busy).",
    ["reason"],
)

BACKGROUND_TASKS = ("bootstrap", "relay", "doorbell", "sweeper", "pool_sampler", "waitroom")
BACKGROUND_TASK_ERRORS = Counter(
    "background_task_errors", "Failures of a background task (each is retried after a backoff).", ["task"]
)
HTTP_CONNECTIONS_SHED = Counter(
    "http_connections_shed",
    "HTTP connections the HTTP server refused or closed (header too large, timeouts, connection caps, shutdown).",
    ["reason"],
)
RELAY_HOLE_WAIT = Gauge(
    "relay_hole_wait_seconds",
    "How long the outbox relay has waited on a missing sequence value that an open transaction may still"
    " commit (0 when none; at most the relay's hole wait bound); every subscriber's delivery waits with it.",
    multiprocess_mode="livemax",
)
RELAY_OPEN_HOLES = Gauge(
    "relay_open_holes",
    "Sequence values the outbox relay delivered past while a transaction that may still commit them is open.",
    multiprocess_mode="livemax",
)
RELAY_HOLE_AGE = Gauge(
    "relay_hole_age_seconds",
    "Age of the oldest sequence value the outbox relay delivered past that may still commit (0 when none).",
    multiprocess_mode="livemax",
)
RELAY_REPUBLISHED = Counter(
    "relay_republished",
    "Changes committed after the relay had delivered past their sequence value, appended to the outbox again.",
)
SNAPSHOT_CACHE = Counter(
    "snapshot_cache",
    "Seat snapshot requests: hit (a cached body, checked unchanged), miss (started a database read),"
    " joined (shared a read another request started), off (cache disabled).",
    ["result"],
)

WAITROOM_WAITING = Gauge(
    "waitroom_waiting", "Visitors waiting in gated events' queues (all gated events).", multiprocess_mode="livemax"
)
WAITROOM_ACTIVE = Gauge(
    "waitroom_active", "Admitted buyers whose admission is live (all gated events).", multiprocess_mode="livemax"
)
WAITROOM_RATE = Gauge(
    "waitroom_admission_rate_per_minute",
    "The adaptive admission rate now in force (sum over gated events).",
    multiprocess_mode="livemax",
)
WAITROOM_ADMITTED = Counter("waitroom_admitted", "Visitors admitted from a waiting room.")
WAITROOM_WAIT = Histogram(
    "waitroom_wait_seconds",
    "Time from joining (or the on-sale start, for earlier arrivals) to admission.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)
WAITROOM_JOINS = Counter(
    "waitroom_joins", "Joins of a waiting room: new, again (same place), challenge_failed, unavailable.", ["outcome"]
)
WAITROOM_ENDED = Counter(
    "waitroom_ended",
    "Places and admissions ended: dropped (away), expired, missed (not fetched in time: back in line),"
    " purchased (the buyer booked: the slot goes to the next in line).",
    ["reason"],
)
WAITROOM_PURCHASE_END_FAILURES = Counter(
    "waitroom_purchase_end_failures",
    "Admissions a purchase should have ended that could not be written (retried at the next tick, given up"
    " after a few attempts: the slot then frees when the admission expires). The purchases themselves stand.",
)
WAITROOM_TOKENS_REJECTED = Counter(
    "waitroom_tokens_rejected",
    "Holds and bookings of gated events refused: missing, invalid, expired, wrong_event, revoked.",
    ["reason"],
)
WAITROOM_BACKOFFS = Counter(
    "waitroom_backoffs", "Admission steps that lowered the rate, by the degraded signal.", ["signal"]
)
WAITROOM_POLLS = Counter(
    "waitroom_polls",
    "Waiting-room polls: answered from this process's memory (a visitor known to be waiting) or from the store.",
    ["answer"],
)
WAITROOM_POLLS_MEMORY = WAITROOM_POLLS.labels("memory")
WAITROOM_POLLS_STORE = WAITROOM_POLLS.labels("store")

CONFLICT_PATHS = ("seat", "seats", "hold", "confirm", "best", "ga")
"""What lost: a single seat, several hand-picked seats, a hold (any kind), a hold's confirmation,
best available among seats, GA tickets by quantity."""
OUTCOMES = ("win", "conflict", "not_found", "limited", "not_on_sale", "unavailable", "unknown", "error")
LOCK_FAILURE_REASONS = ("contended", "lost", "error")
DROP_REASONS = ("slow_consumer", "send_timeout")
WS_REFUSAL_REASONS = ("address_cap", "frame_rate", "duplicate_subscription", "idle", "unauthenticated")
RATE_LIMIT_KINDS = ("ip", "user", "seats", "admin_auth")
BATCH_RETRY_REASONS = ("refused", "locked")
SNAPSHOT_RESULTS = ("hit", "miss", "joined", "off")
SHED_REASONS = (
    "header_too_large",
    "too_many_headers",
    "header_timeout",
    "body_timeout",
    "connections",
    "address_cap",
    "bad_request",
    "closing",
)
WAITROOM_JOIN_OUTCOMES = ("new", "again", "challenge_failed", "unavailable")
WAITROOM_END_REASONS = ("dropped", "expired", "missed", "purchased")
WAITROOM_REJECT_REASONS = ("missing", "invalid", "expired", "wrong_event", "revoked")
WAITROOM_SIGNALS = ("latency", "saturation", "unavailable")


@cache
def _attempts(strategy: Strategy, outcome: str) -> Counter:
    """Label children looked up once: `labels()` costs about as much as the increment itself."""
    return BOOKING_ATTEMPTS.labels(strategy.value, outcome)


@cache
def _latency(strategy: Strategy) -> Histogram:
    return BOOKING_LATENCY.labels(strategy.value)


@cache
def _conflicts(path: str) -> Counter:
    return BOOKING_CONFLICTS.labels(path)


def lost_race(kind: type[BaseException]) -> bool:
    """A refusal because others took the seats first; not a rule's refusal (orphan, blocked, channel,
    accessible seats are SeatsTaken subclasses too, but no race decided them)."""
    return kind in (SeatOccupied, SeatsTaken, HoldExpired) or issubclass(kind, NoBlockAvailable)


class _ConflictCount:
    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None and lost_race(kind):
            _conflicts(self._path).inc()


def count_conflicts(path: str) -> AbstractContextManager[None]:
    """Count a lost race of `path` (one of CONFLICT_PATHS) when the block ends in one."""
    return _ConflictCount(path)


@cache
def http_children(method: str, route: str, status: str) -> tuple[Counter, Histogram]:
    """Bounded: callers pass label values from fixed sets (methods, route templates, status codes)."""
    return HTTP_REQUESTS.labels(method, route, status), HTTP_LATENCY.labels(method, route, status)


class _BookingRecord:
    """A class rather than @contextmanager: this runs on every booking request, at a third of the cost."""

    __slots__ = ("_path", "_start", "_strategy")

    def __init__(self, strategy: Strategy, path: str) -> None:
        self._strategy = strategy
        self._path = path
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            outcome = "win"
        elif kind is NeedsCheckout:
            return  # no decision yet: the checked path decides, and counts it
        elif issubclass(kind, SeatOccupied | NoBlockAvailable):
            outcome = "conflict"
            if lost_race(kind):
                _conflicts(self._path).inc()
        elif issubclass(kind, SeatNotFound):
            outcome = "not_found"
        elif issubclass(kind, SeatLimitExceeded):
            outcome = "limited"
        elif issubclass(kind, NotOnSale):
            outcome = "not_on_sale"
        elif issubclass(kind, OutcomeUnknown):
            outcome = "unknown"
        elif issubclass(kind, Unavailable):
            outcome = "unavailable"
        else:
            outcome = "error"
        _attempts(self._strategy, outcome).inc()
        _latency(self._strategy).observe(time.perf_counter() - self._start)


def record_booking(strategy: Strategy, path: str = "seat") -> AbstractContextManager[None]:
    """Count one booking decision and its latency; the outcome is read from how the block ends, a
    lost race also in `booking_conflict_total{path}`."""
    return _BookingRecord(strategy, path)


def init_series() -> None:
    """Create every bounded label combination at 0, so dashboards and `rate()` see series from the start."""
    for strategy in Strategy:
        BOOKING_LATENCY.labels(strategy.value)
        for outcome in OUTCOMES:
            BOOKING_ATTEMPTS.labels(strategy.value, outcome)
    for path in CONFLICT_PATHS:
        BOOKING_CONFLICTS.labels(path)
    for reason in LOCK_FAILURE_REASONS:
        LOCK_FAILURES.labels(reason)
    for reason in DROP_REASONS:
        WS_MESSAGES_DROPPED.labels(reason)
    for reason in WS_REFUSAL_REASONS:
        WS_REFUSED.labels(reason)
    for kind in RATE_LIMIT_KINDS:
        RATE_LIMITED_TOTAL.labels(kind)
    for task in BACKGROUND_TASKS:
        BACKGROUND_TASK_ERRORS.labels(task)
    for reason in BATCH_RETRY_REASONS:
        BATCH_RETRIES.labels(reason)
    for result in SNAPSHOT_RESULTS:
        SNAPSHOT_CACHE.labels(result)
    for reason in SHED_REASONS:
        HTTP_CONNECTIONS_SHED.labels(reason)
    for outcome in WAITROOM_JOIN_OUTCOMES:
        WAITROOM_JOINS.labels(outcome)
    for reason in WAITROOM_END_REASONS:
        WAITROOM_ENDED.labels(reason)
    for reason in WAITROOM_REJECT_REASONS:
        WAITROOM_TOKENS_REJECTED.labels(reason)
    for signal in WAITROOM_SIGNALS:
        WAITROOM_BACKOFFS.labels(signal)

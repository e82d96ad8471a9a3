"""Prometheus metrics shared by every layer.

Label values are bounded enums (strategy, outcome, route template), never user or seat ids.
Gauges use `livesum` so several worker processes aggregate under prometheus-client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

BOOKING_CONFLICTS = Counter("booking_conflict", "Booking attempts refused because the seat was taken.")
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

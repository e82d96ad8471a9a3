"""Deployment settings, read once from the environment (and `.env`).

Every knob a client or operator can turn is bounded here so that a typo fails at
start-up with a clear message instead of misbehaving under load.

The settings are grouped by concern: one class per group (`DatabaseSettings`, `RedisSettings`, ...),
and `Settings` inherits them all, so `settings.db_pool_max` reads as before while a layer below the
composition root asks only for the group it uses (`create_pool(settings: DatabaseSettings, ...)`).
Each field's `description` is its operator documentation: `docs/settings.md` is generated from
these classes (`scripts/settings-doc`, or `python -m boxoffice.settings_doc`).
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from boxoffice.domain import Strategy

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

ENV_PREFIX = "BOXOFFICE_"


class SettingsGroup(BaseSettings):
    """What every group shares: where values come from and that they never change after start-up."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True)


class HttpSettings(SettingsGroup):
    """HTTP server

    The listener, its workers and the bounds the server enforces before the app runs
    (see [operations.md](operations.md#http-server)).
    """

    host: str = Field(default="127.0.0.1", description="Address of the HTTP listener.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port of the HTTP listener.")
    # One asyncio worker per core: on 2 vCPUs, 2 workers sold 1.5x the bookings of one and halved
    # hot-seat p99 (README, Benchmark).
    workers: int = Field(
        default_factory=lambda: min(os.cpu_count() or 1, 8),
        ge=1,
        le=64,
        description="Worker processes, one asyncio worker per core "
        "(see [benchmarks.md](benchmarks.md#worker-processes)).",
        json_schema_extra={"doc_default": "CPU count, at most 8"},
    )
    # Longer than typical load-balancer idle timeouts (60 s), so the proxy closes idle
    # connections first and never reuses one the server is closing.
    keep_alive_s: int = Field(
        default=75,
        ge=1,
        le=3600,
        description="Idle HTTP keep-alive; keep it above your load balancer's idle timeout.",
    )
    worker_healthcheck_s: int = Field(
        default=30,
        ge=1,
        le=600,
        description="A worker that answers no supervisor ping for this long is killed and replaced "
        "(uvicorn's default of 5 s killed busy workers on a saturated machine, dropping their requests).",
    )
    http_max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        le=1_048_576,
        description="Request line plus headers; more is `431` and close.",
    )
    http_max_headers: int = Field(
        default=100, ge=8, le=10_000, description="Header fields per request; more is `431` and close."
    )
    http_header_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="A new connection's (or the next keep-alive request's) head must arrive within this; "
        "else close, or `408` if part of it was sent.",
    )
    http_body_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="A request body must arrive within this of its head; else `408`."
    )
    http_max_connections: int = Field(
        default=20_000,
        ge=1,
        le=1_000_000,
        description="Connections per worker, HTTP and WebSocket, lowered to fit the descriptor limit; "
        "more is `503` and close.",
    )
    # Above any one client's honest need (the benchmarks open up to 2,000 connections from 127.0.0.1
    # over the workers, a venue's NAT a few per browser) and below the whole worker.
    http_max_connections_per_address: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="HTTP connections per peer address and worker, lowered to half the connection cap so that "
        "one address never holds the whole worker; more is `503` and close; `0` = no cap. Behind a proxy every "
        "connection comes from the proxy's address (see [operations.md](operations.md#per-address-cap)).",
    )
    trusted_proxies: str = Field(
        default="",
        max_length=4000,
        description="Comma-separated addresses/CIDRs whose `X-Forwarded-For`/`-Proto` are believed; empty: none "
        "(see [operations.md](operations.md#trusted-proxies)).",
    )
    drain_s: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="On `SIGTERM`: readiness `503` while requests are still served this long, then shut down; "
        "`0` = no drain.",
    )
    management_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve `/actuator/prometheus`, `/docs`, `/redoc` and `/openapi.json` on this second port "
        "only; unset: on the public port, for direct loopback clients only unless "
        "`BOXOFFICE_PUBLIC_METRICS`/`BOXOFFICE_PUBLIC_DOCS` (see [operations.md](operations.md#management-surface)).",
    )
    management_host: str = Field(default="127.0.0.1", description="Bind address of the management port.")
    public_docs: bool = Field(
        default=False,
        description="Without a management port: `/docs`, `/redoc` and `/openapi.json` on the public port for "
        "every client; false: for direct connections from this machine only.",
    )
    public_metrics: bool = Field(
        default=False,
        description="Without a management port: `/actuator/prometheus` on the public port for every client; "
        "false: for direct connections from this machine only.",
    )
    cors_origins: str = Field(
        default="",
        max_length=4000,
        description="Comma-separated browser origins (`https://app.example`) whose pages may call the API "
        "(CORS: preflights answered, headers added); `*` allows any; empty: no CORS. WebSockets have their own "
        "`BOXOFFICE_WS_ALLOWED_ORIGINS` (see [api.md](api.md#seed-compatible-clients)).",
    )
    seed_compat: bool = Field(
        default=False,
        description="`GET /api/v1/seats` without `shape` answers the seed system's bare array, for its unmodified "
        "clients (see [api.md](api.md#seed-compatible-clients)).",
    )
    compress_min_bytes: int = Field(
        default=1400,
        ge=0,
        le=1_048_576,
        description="API answers from this size go out br/gzip by `Accept-Encoding` "
        "(never the lean booking route); `0` = off.",
    )

    @property
    def cors_origin_set(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @property
    def trusted_proxy_list(self) -> list[str]:
        """Normalised for uvicorn: a network written with host bits (10.0.0.1/8) becomes 10.0.0.0/8."""
        items = (p.strip() for p in self.trusted_proxies.split(",") if p.strip())
        return [str(ipaddress.ip_network(p, strict=False)) if "/" in p else p for p in items]

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_valid(cls, value: str) -> str:
        for item in (p.strip() for p in value.split(",") if p.strip()):
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value


class LimitSettings(SettingsGroup):
    """Limits

    What one client may send: request bodies and write rates. Rate limits count per fixed window in
    Redis (per process if Redis fails); `0` disables one.
    """

    max_body_bytes: int = Field(
        default=4096,
        ge=256,
        le=1_048_576,
        description="Request body limit (checked in the app) of every route but the admin API's; more is `413`.",
    )
    admin_max_body_bytes: int = Field(
        default=1_048_576,
        ge=4096,
        le=16_777_216,
        description="Request body limit of the admin API (`/api/v1/admin/...`: event layouts); more is `413`.",
    )
    # On by default: a buyer needs a handful of writes a minute (hold, extend, confirm, retries);
    # an address may front a household or an office NAT.
    rate_limit_window_s: int = Field(default=60, ge=1, le=3600, description="Fixed rate-limit window.")
    rate_limit_per_ip: int = Field(
        default=600,
        ge=0,
        le=10_000_000,
        description="Writes per client address and window; `0` = no limit. Behind a proxy not listed in "
        "`BOXOFFICE_TRUSTED_PROXIES`, every request counts against the proxy's address.",
    )
    rate_limit_per_user: int = Field(
        default=60, ge=0, le=10_000_000, description="Writes per user and window; `0` = no limit."
    )


class DatabaseSettings(SettingsGroup):
    """Database

    PostgreSQL: where it is, the pool per worker and the session timeouts that keep a stuck
    transaction from holding locks.
    """

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "BOXOFFICE_DATABASE_URL"),
        description="PostgreSQL URL; unset starts an embedded PostgreSQL in `BOXOFFICE_DATA_DIR`.",
    )
    data_dir: Path = Field(default=Path(".boxoffice"), description="Embedded PostgreSQL's data (`pgdata/` inside).")
    db_pool_min: int = Field(default=2, ge=1, le=200, description="Connections the pool keeps open per worker.")
    db_pool_max: int = Field(default=20, ge=1, le=200, description="Most connections in the pool per worker.")
    db_acquire_timeout_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Wait this long for a pooled connection (and for a Redis connection), then `503`.",
    )
    db_lock_timeout_ms: int = Field(default=2000, ge=1, le=60_000, description="PostgreSQL `lock_timeout`.")
    db_statement_timeout_ms: int = Field(default=5000, ge=1, le=300_000, description="PostgreSQL `statement_timeout`.")
    db_idle_in_tx_timeout_ms: int = Field(
        default=10_000, ge=1, le=600_000, description="PostgreSQL `idle_in_transaction_session_timeout`."
    )
    seed_rows: int = Field(
        default=10, ge=1, le=200, description="Rows of the default map `serve` seeds into an empty database."
    )
    seed_cols: int = Field(
        default=10, ge=1, le=200, description="Seats per row of the default map `serve` seeds into an empty database."
    )


class RedisSettings(SettingsGroup):
    """Redis

    Leases of the REDIS strategy, rate-limit counters and the real-time doorbell. Redis only speeds
    things up: PostgreSQL decides, so timeouts are short and nothing is retried.
    """

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "BOXOFFICE_REDIS_URL"),
        description="Redis for leases, rate limits and the doorbell (unused while `BOXOFFICE_REDIS_SENTINELS` is set).",
    )
    redis_sentinels: str = Field(
        default="",
        max_length=1000,
        pattern=r"^$|^[A-Za-z0-9.\-]*:\d{1,5}(,[A-Za-z0-9.\-]*:\d{1,5})*$",
        description="Comma-separated Sentinel `host:port` list; when set, Redis is the master the Sentinels "
        "name, followed through a failover without a restart (see [ha.md](ha.md)).",
    )
    redis_sentinel_master: str = Field(
        default="boxoffice",
        min_length=1,
        max_length=64,
        description="Name of the master the Sentinels watch (with `BOXOFFICE_REDIS_SENTINELS`).",
    )
    redis_key_prefix: str = Field(
        default="boxoffice:",
        min_length=1,
        max_length=64,
        description="Namespace for leases, rate-limit counters and the doorbell channel.",
    )
    redis_lock_lease_ms: int = Field(default=5000, ge=10, le=120_000, description="REDIS strategy: lease lifetime.")
    redis_lock_wait_ms: int = Field(
        default=50,
        ge=0,
        le=10_000,
        description="REDIS strategy: how long a request waits for a held lease before `409`.",
    )
    redis_timeout_s: float = Field(default=0.5, gt=0, le=30, description="Redis socket timeout.")
    redis_pool_max: int = Field(default=100, ge=1, le=10_000, description="Redis connections per worker.")


class BookingSettings(SettingsGroup):
    """Booking

    The booking hot path and seat reads (see [performance.md](performance.md)).
    """

    default_strategy: Strategy = Field(
        default=Strategy.ATOMIC, description="Strategy of a booking request that names none."
    )
    claim_batch_max: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="Single-seat claims per group-commit statement; `1` sends each claim alone "
        "(see [performance.md](performance.md#group-commit)).",
    )
    claim_batch_in_flight: int = Field(
        default=1, ge=1, le=64, description="Group-commit statements in flight per worker (per batcher)."
    )
    single_flight: bool = Field(
        default=True,
        description="Concurrent ATOMIC or DB requests for one seat in a worker share one claim "
        "(see [performance.md](performance.md#single-flight)).",
    )
    snapshot_cache_ms: int = Field(
        default=200,
        ge=0,
        le=60_000,
        description="Seat snapshots (`GET /api/v1/seats`, `/api/v1/events/{id}/seats`) are shared per event and "
        "worker this long, checked unchanged before each use; `0` = off "
        "(see [performance.md](performance.md#seat-snapshots-read-scaling)).",
    )


class CheckoutSettings(SettingsGroup):
    """Holds and caps

    Holds, seat caps and idempotency keys (see [checkout.md](checkout.md)).
    """

    hold_ttl_s: float = Field(default=300, ge=0.1, le=3600, description="How long a hold lasts.")
    hold_max_s: float = Field(default=1800, ge=0.1, le=86_400, description="Cap on a hold's life with extensions.")
    hold_sweep_interval_s: float = Field(
        default=2.0, ge=0, le=3600, description="Period of the sweeper that releases expired holds; `0` = off."
    )
    # On by default: a real on-sale caps tickets per buyer (commonly 4-10); MAX_SEATS_PER_REQUEST is 10.
    seats_per_user: int = Field(
        default=10,
        ge=0,
        le=10_000,
        description="Booked plus held seats per user and event; `0` = no cap "
        "(see [checkout.md](checkout.md#rate-limits-and-seat-caps)).",
    )
    idempotency_ttl_s: int = Field(
        default=86_400, ge=1, le=30 * 86_400, description="Lifetime of an `Idempotency-Key`."
    )
    idempotency_keys_per_user: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Live `Idempotency-Key`s one user may hold; more is `429 IDEMPOTENCY_KEY_LIMIT`.",
    )


class WaitingRoomSettings(SettingsGroup):
    """Waiting room

    The process-wide knobs of the waiting room; gating itself is turned on per event
    (see [waiting-room.md](waiting-room.md)).
    """

    waitroom_tick_s: float = Field(
        default=1.0, ge=0.05, le=60, description="Period of the admission step and of the cache refresh."
    )
    waitroom_joins_per_ip: int = Field(
        default=30, ge=0, le=10_000_000, description="Waiting-room joins per address per minute; `0` = no limit."
    )
    waitroom_target_p99_ms: float = Field(
        default=100,
        gt=0,
        le=60_000,
        description="The adaptive admission rate backs off above this hold/booking p99 (measured inside the "
        "server: what buyers see adds the wait before a request is read, so leave room below the latency "
        "you promise).",
    )
    waitroom_pickup_s: float = Field(
        default=30, ge=1, le=600, description="An admission not fetched this long goes back in line at its rank."
    )
    waitroom_end_on_purchase: bool = Field(
        default=True,
        description="A booking of a gated event's seats (a hold confirmed, seats booked) ends its buyer's "
        "admission, so the slot goes to the next in line at the next step; `false`: an admission lasts "
        "until it expires or the visitor leaves (see [waiting-room.md](waiting-room.md#a-purchase-ends-the-turn)).",
    )
    waitroom_pow_bits: int = Field(
        default=0,
        ge=0,
        le=32,
        description="Proof of work to join (leading zero bits of SHA-256); `0` = off.",
    )
    waitroom_pool_max: int = Field(
        default=4,
        ge=1,
        le=200,
        description="PostgreSQL connections per worker for waiting-room joins and polls, apart from the "
        "bookings' pool (opened on first use).",
    )


class RealtimeSettings(SettingsGroup):
    """Real-time (STOMP)

    STOMP over WebSocket at `/ws`, fed by the outbox relay. Every size and count a client controls is
    bounded (see [realtime.md](realtime.md#bounds-and-slow-consumers)).
    """

    ws_max_frame_bytes: int = Field(default=16_384, ge=1024, le=1_048_576, description="Largest STOMP frame.")
    ws_max_subscriptions: int = Field(default=8, ge=1, le=1000, description="Subscriptions per connection.")
    ws_max_connections: int = Field(
        default=10_000, ge=1, le=1_000_000, description="WebSocket connections per worker process."
    )
    # A browser tab needs one connection; a venue's NAT may put a few hundred tabs behind one address.
    ws_max_connections_per_address: int = Field(
        default=200,
        ge=0,
        le=1_000_000,
        description="WebSocket connections per client address and worker process; `0` = no cap.",
    )
    # A subscriber sends CONNECT, a SUBSCRIBE or two and a heart-beat every few seconds; ACKs of
    # delivered messages are not counted against this.
    ws_max_frames_per_s: int = Field(
        default=50, ge=1, le=100_000, description="Inbound frames per connection and second (bursts: twice this)."
    )
    ws_idle_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Close a connection with no subscription that sent nothing this long (also with heart-beats off).",
    )
    ws_allowed_origins: str = Field(
        default="",
        description="Comma-separated browser origins allowed besides same-origin; `*` allows any.",
    )
    ws_queue_size: int = Field(
        default=512, ge=4, le=100_000, description="Frames queued per client before it is dropped."
    )
    ws_heartbeat_ms: int = Field(default=10_000, ge=0, le=600_000, description="STOMP heart-beat; `0` = off.")
    ws_send_timeout_s: float = Field(
        default=5.0, gt=0, le=120, description="A write blocked this long drops the client."
    )
    ws_compression: bool = Field(default=False, description="permessage-deflate (costs memory per connection).")
    relay_poll_ms: int = Field(default=100, ge=5, le=60_000, description="Outbox poll when no doorbell rings.")
    relay_batch: int = Field(default=1000, ge=1, le=100_000, description="Outbox rows per read.")
    relay_hole_grace_ms: int = Field(
        default=20, ge=0, le=10_000, description="Wait before checking who could fill a sequence hole."
    )
    # An open transaction that drew a sequence value would otherwise hold back every subscriber for
    # as long as it stays open (docs/realtime.md, "Sequence holes").
    relay_hole_max_wait_ms: int = Field(
        default=1000,
        ge=50,
        le=600_000,
        description="Longest a relay holds later changes back for a sequence value that an open transaction "
        "may still commit; then it delivers past it, and publishes the change again if it commits later.",
    )
    relay_coalesce_ms: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="Least time between two outbox reads of a relay and between two doorbell publishes; "
        "a lone change is read and rung at once.",
    )

    @property
    def ws_origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.ws_allowed_origins.split(",") if o.strip())


class ObservabilitySettings(SettingsGroup):
    """Observability

    Logs, event-loop stalls and health probes (see [operations.md](operations.md#health)).
    """

    log_level: LogLevel = Field(default="INFO", description="Least level logged.")
    log_format: Literal["logfmt", "json"] = Field(default="logfmt", description="Log line format.")
    access_log: bool = Field(default=False, description="One INFO line per HTTP request (off under load).")
    loop_stall_ms: float = Field(
        default=150,
        ge=0,
        le=60_000,
        description="A worker's event loop held this long logs `event_loop_stall` with the stack it was stuck "
        "in; `0` = off (the `event_loop_lag_seconds` histogram stays).",
    )
    health_timeout_s: float = Field(default=1.0, gt=0, le=30, description="Budget of each health probe.")
    health_details: bool = Field(
        default=False,
        description="`/actuator/health` shows error texts and host names (else only the errors' classes).",
    )
    readiness_min_workers: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Readiness stays UP while this many workers are ready (at most the worker count), e.g. while "
        "the supervisor replaces a crashed one; `0` = every worker (see [operations.md](operations.md#health)).",
    )


class AuthSettings(SettingsGroup):
    """Authentication and tokens

    `open` issues anonymous sessions (and still books for a body `userId`); `jwt` takes the user from a
    bearer token of your identity provider (see [checkout.md](checkout.md#sessions-and-tokens)).
    """

    auth_mode: Literal["open", "jwt"] = Field(
        default="open", description="Anonymous sessions, or your identity provider's tokens."
    )
    jwt_secret: str | None = Field(
        default=None, min_length=32, description="HS256 shared secret (jwt mode: this or the public key)."
    )
    jwt_public_key: str | None = Field(default=None, description="PEM public key (RS256/ES256/EdDSA).")
    jwt_audience: str | None = Field(default=None, description="Audience a token must name; checked when set.")
    jwt_issuer: str | None = Field(default=None, description="Issuer a token must name; checked when set.")
    jwt_leeway_s: int = Field(default=30, ge=0, le=600, description="Clock leeway for `exp` (sessions too).")
    jwt_max_lifetime_s: int = Field(
        default=86_400,
        ge=60,
        le=366 * 86_400,
        description="jwt mode: the longest validity accepted in a token (`exp - iat`, or `exp` - now without "
        "`iat`); a longer-lived token is refused with 401.",
    )
    jwt_admin_claim: str = Field(
        default="roles",
        min_length=1,
        max_length=200,
        description="jwt mode: the claim naming the user's roles.",
    )
    jwt_admin_role: str = Field(
        default="admin",
        min_length=1,
        max_length=200,
        description="jwt mode: the role that opens the admin API.",
    )
    session_secret: str | None = Field(
        default=None,
        min_length=32,
        description="Signs anonymous sessions and manage tokens; unset: the secret generated in the database "
        "(shared by every worker and instance). Changing it ends every session.",
    )
    session_ttl_s: int = Field(
        default=7 * 86_400,
        ge=60,
        le=90 * 86_400,
        description="Anonymous session lifetime (renewed by `POST /api/v1/sessions` with the session).",
    )
    session_max_age_s: int = Field(
        default=30 * 86_400,
        ge=60,
        le=366 * 86_400,
        description="Longest life of an anonymous session from its start, renewals included; then the "
        "buyer starts a new one.",
    )
    admin_failures_per_ip: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Wrong admin tokens per client address and minute; beyond it the admin API answers "
        "429 with Retry-After to that address until the minute ends.",
    )
    admin_token: str | None = Field(
        default=None,
        min_length=16,
        description="Bearer token for `/api/v1/admin`; unset in open mode: the admin API is off.",
    )

    @model_validator(mode="after")
    def _auth_complete(self) -> Self:
        if self.auth_mode == "jwt" and not (self.jwt_secret or self.jwt_public_key):
            raise ValueError("BOXOFFICE_AUTH_MODE=jwt needs BOXOFFICE_JWT_SECRET or BOXOFFICE_JWT_PUBLIC_KEY")
        return self


GROUPS: tuple[type[SettingsGroup], ...] = (
    HttpSettings,
    LimitSettings,
    DatabaseSettings,
    RedisSettings,
    BookingSettings,
    CheckoutSettings,
    WaitingRoomSettings,
    RealtimeSettings,
    ObservabilitySettings,
    AuthSettings,
)
"""In the order of the settings reference."""


class Settings(
    HttpSettings,
    LimitSettings,
    DatabaseSettings,
    RedisSettings,
    BookingSettings,
    CheckoutSettings,
    WaitingRoomSettings,
    RealtimeSettings,
    ObservabilitySettings,
    AuthSettings,
):
    """Every group: what the composition root reads and hands down, a group to each layer."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


# Where a field is read from (the settings reference, boxoffice.settings_doc, names these).


def env_names(name: str, field: FieldInfo) -> list[str]:
    """The environment variables a field is read from, in order of precedence."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [ENV_PREFIX + name.upper()]

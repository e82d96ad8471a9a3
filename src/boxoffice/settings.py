"""Deployment settings, read once from the environment (and `.env`).

Every knob a client or operator can turn is bounded here so that a typo fails at
start-up with a clear message instead of misbehaving under load.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from boxoffice.domain import Strategy

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_", env_file=".env", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "BOXOFFICE_DATABASE_URL"),
        description="PostgreSQL URL; unset means an embedded PostgreSQL in data_dir.",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "BOXOFFICE_REDIS_URL"),
    )
    data_dir: Path = Field(default=Path(".boxoffice"), description="Embedded PostgreSQL data.")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # One asyncio worker per core: on 2 vCPUs, 2 workers sold 1.5x the bookings of one and halved
    # hot-seat p99 (README, Benchmark).
    workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 8), ge=1, le=64)
    log_level: LogLevel = "INFO"
    # Longer than typical load-balancer idle timeouts (60 s), so the proxy closes idle
    # connections first and never reuses one the server is closing.
    keep_alive_s: int = Field(default=75, ge=1, le=3600)
    worker_healthcheck_s: int = Field(
        default=30, ge=1, le=600, description="A worker that answers no supervisor ping for this long is replaced."
    )
    # The HTTP edge (docs/operations.md, "HTTP edge"): bounds the server enforces before the app runs.
    http_max_header_bytes: int = Field(
        default=16_384, ge=1024, le=1_048_576, description="Request line and headers; more is 431 and close."
    )
    http_max_headers: int = Field(default=100, ge=8, le=10_000, description="Header fields; more is 431 and close.")
    http_header_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="A new connection's (or next request's) head must arrive within this."
    )
    http_body_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="A request body must arrive within this of its head (else 408)."
    )
    http_max_connections: int = Field(
        default=20_000,
        ge=1,
        le=1_000_000,
        description="Per worker (HTTP and WebSocket); lowered to fit the descriptor limit; more is 503 and close.",
    )
    trusted_proxies: str = Field(
        default="",
        max_length=4000,
        description="Comma-separated addresses/CIDRs whose X-Forwarded-For/-Proto are believed; empty = none.",
    )
    drain_s: float = Field(
        default=5.0, ge=0, le=600, description="On SIGTERM: readiness 503 and keep serving this long; 0 = no drain."
    )
    loop_stall_ms: float = Field(
        default=150,
        ge=0,
        le=60_000,
        description="Log the event loop's stack when it has not run for this long (event_loop_stall); 0 = off.",
    )
    management_port: int | None = Field(
        default=None, ge=1, le=65535, description="Serve /actuator/prometheus, /docs, /openapi.json here only."
    )
    management_host: str = Field(default="127.0.0.1", description="Bind address of the management port.")
    public_docs: bool = Field(default=True, description="/docs and /openapi.json on the public port.")
    public_metrics: bool = Field(default=True, description="/actuator/prometheus on the public port.")
    health_details: bool = Field(
        default=False, description="/actuator/health shows error text and host names (else only error classes)."
    )

    log_format: Literal["logfmt", "json"] = "logfmt"
    access_log: bool = Field(default=False, description="One INFO line per HTTP request (off under load).")
    health_timeout_s: float = Field(default=1.0, gt=0, le=30, description="Budget of each health probe.")

    default_strategy: Strategy = Strategy.ATOMIC

    db_pool_min: int = Field(default=2, ge=1, le=200)
    db_pool_max: int = Field(default=20, ge=1, le=200)
    db_acquire_timeout_s: float = Field(default=2.0, gt=0, le=60)
    db_lock_timeout_ms: int = Field(default=2000, ge=1, le=60_000)
    db_statement_timeout_ms: int = Field(default=5000, ge=1, le=300_000)
    db_idle_in_tx_timeout_ms: int = Field(default=10_000, ge=1, le=600_000)

    # The booking hot path (docs/performance.md): group commit and single-flight of single-seat claims.
    claim_batch_max: int = Field(
        default=256, ge=1, le=10_000, description="Claims per group-commit statement; 1 sends each alone."
    )
    claim_batch_in_flight: int = Field(default=1, ge=1, le=64, description="Batch statements in flight per worker.")
    single_flight: bool = Field(default=True, description="Concurrent ATOMIC claims of one seat share one claim.")

    redis_sentinels: str = Field(
        default="",
        max_length=1000,
        pattern=r"^$|^[A-Za-z0-9.\-]*:\d{1,5}(,[A-Za-z0-9.\-]*:\d{1,5})*$",
        description="Comma-separated Sentinel host:port list; when set, Redis is the master they name.",
    )
    redis_sentinel_master: str = Field(default="boxoffice", min_length=1, max_length=64)
    redis_key_prefix: str = Field(default="boxoffice:", min_length=1, max_length=64)
    redis_lock_lease_ms: int = Field(default=5000, ge=10, le=120_000)
    redis_lock_wait_ms: int = Field(default=50, ge=0, le=10_000)
    redis_timeout_s: float = Field(default=0.5, gt=0, le=30)
    redis_pool_max: int = Field(default=100, ge=1, le=10_000)

    max_body_bytes: int = Field(default=4096, ge=256, le=1_048_576)

    # Read scaling (docs/performance.md#seat-snapshots): a short-lived per-event snapshot cache and compression.
    snapshot_cache_ms: int = Field(
        default=200, ge=0, le=60_000, description="Seat snapshots are shared this long per worker; 0 = off."
    )
    compress_min_bytes: int = Field(
        default=1400, ge=0, le=1_048_576, description="API answers from this size are gzip/br compressed; 0 = off."
    )

    # Real-time STOMP over WebSocket (/ws). Every size and count a client controls is bounded.
    ws_max_frame_bytes: int = Field(default=16_384, ge=1024, le=1_048_576, description="Largest STOMP frame.")
    ws_max_subscriptions: int = Field(default=8, ge=1, le=1000, description="Per connection.")
    ws_max_connections: int = Field(default=10_000, ge=1, le=1_000_000, description="Per worker process.")
    # A browser tab needs one connection; a venue's NAT may put a few hundred tabs behind one address.
    ws_max_connections_per_address: int = Field(
        default=200, ge=0, le=1_000_000, description="Per client address and worker process; 0 = no cap."
    )
    # A subscriber sends CONNECT, a SUBSCRIBE or two and a heart-beat every few seconds; ACKs of
    # delivered messages are not counted against this.
    ws_max_frames_per_s: int = Field(
        default=50, ge=1, le=100_000, description="Inbound frames per connection and second (burst: twice this)."
    )
    ws_idle_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="Close a connection with no subscription that sent nothing this long."
    )
    ws_allowed_origins: str = Field(
        default="",
        description="Comma-separated browser origins allowed besides same-origin; '*' allows any.",
    )
    ws_queue_size: int = Field(default=512, ge=4, le=100_000, description="Frames queued per client.")
    ws_heartbeat_ms: int = Field(default=10_000, ge=0, le=600_000, description="STOMP heart-beat; 0 = off.")
    ws_send_timeout_s: float = Field(default=5.0, gt=0, le=120)
    ws_compression: bool = Field(default=False, description="permessage-deflate (costs memory per connection).")
    relay_poll_ms: int = Field(default=100, ge=5, le=60_000, description="Outbox poll when no doorbell rings.")
    relay_batch: int = Field(default=1000, ge=1, le=100_000)
    relay_hole_grace_ms: int = Field(default=20, ge=0, le=10_000)
    relay_coalesce_ms: int = Field(
        default=10, ge=0, le=1000, description="Least time between outbox reads and between doorbell rings."
    )

    @property
    def ws_origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.ws_allowed_origins.split(",") if o.strip())

    # Checkout (holds, multi-seat, idempotency): see README "Checkout, holds and more".
    hold_ttl_s: float = Field(default=300, ge=0.1, le=3600, description="How long a hold lasts.")
    hold_max_s: float = Field(default=1800, ge=0.1, le=86_400, description="Cap on a hold's life with extensions.")
    hold_sweep_interval_s: float = Field(default=2.0, ge=0, le=3600, description="0 disables the sweeper.")
    # On by default: a real on-sale caps tickets per buyer (commonly 4-10); MAX_SEATS_PER_REQUEST is 10.
    seats_per_user: int = Field(
        default=10, ge=0, le=10_000, description="Held+booked seats per user and event; 0 = no cap."
    )
    idempotency_ttl_s: int = Field(default=86_400, ge=1, le=30 * 86_400)
    idempotency_keys_per_user: int = Field(
        default=1000, ge=1, le=1_000_000, description="Live Idempotency-Keys one user may hold."
    )

    # Rate limits per window (0 disables one); Redis-backed, per-process fallback if Redis fails.
    # On by default: a buyer needs a handful of writes a minute (hold, extend, confirm, retries);
    # an address may front a household or an office NAT.
    rate_limit_window_s: int = Field(default=60, ge=1, le=3600)
    rate_limit_per_ip: int = Field(default=600, ge=0, le=10_000_000)
    rate_limit_per_user: int = Field(default=60, ge=0, le=10_000_000)

    # Authentication: "open" issues anonymous sessions (and still books for a body userId);
    # "jwt" takes the user from a bearer token of your identity provider.
    auth_mode: Literal["open", "jwt"] = "open"
    jwt_secret: str | None = Field(default=None, min_length=32, description="HS256 shared secret.")
    jwt_public_key: str | None = Field(default=None, description="PEM public key (RS256/ES256).")
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_leeway_s: int = Field(default=30, ge=0, le=600)
    jwt_admin_claim: str = Field(default="roles", min_length=1, max_length=200, description="Claim naming roles.")
    jwt_admin_role: str = Field(default="admin", min_length=1, max_length=200, description="The admin role.")
    session_secret: str | None = Field(
        default=None,
        min_length=32,
        description="Signs anonymous sessions and manage tokens; unset: one generated in the database.",
    )
    session_ttl_s: int = Field(default=7 * 86_400, ge=60, le=90 * 86_400, description="Anonymous session lifetime.")

    admin_token: str | None = Field(
        default=None, min_length=16, description="Bearer token for /api/v1/admin; unset disables the admin API."
    )

    # The waiting room (docs/waiting-room.md); gating itself is per event, off by default.
    waitroom_tick_s: float = Field(default=1.0, ge=0.05, le=60, description="Admission step and cache refresh.")
    waitroom_joins_per_ip: int = Field(
        default=30, ge=0, le=10_000_000, description="Waiting-room joins per address per minute; 0 = no limit."
    )
    waitroom_target_p99_ms: float = Field(
        default=100, gt=0, le=60_000, description="The adaptive rate backs off above this hold/booking p99."
    )
    waitroom_pickup_s: float = Field(
        default=30, ge=1, le=600, description="An admission not fetched this long goes back in line (kept rank)."
    )
    waitroom_pow_bits: int = Field(default=0, ge=0, le=32, description="Proof of work to join (bits); 0 = off.")
    waitroom_pool_max: int = Field(
        default=4,
        ge=1,
        le=200,
        description="Connections per worker for waiting-room joins and polls, apart from the bookings' pool.",
    )

    seed_rows: int = Field(default=10, ge=1, le=200)
    seed_cols: int = Field(default=10, ge=1, le=200)

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

    @model_validator(mode="after")
    def _auth_complete(self) -> Settings:
        if self.auth_mode == "jwt" and not (self.jwt_secret or self.jwt_public_key):
            raise ValueError("BOXOFFICE_AUTH_MODE=jwt needs BOXOFFICE_JWT_SECRET or BOXOFFICE_JWT_PUBLIC_KEY")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

"""The waiting room: per-event gating, the queue of visitors, and each instance's measured health.

- `waitroom_events`: one row per gated event (off unless `enabled`); the leader's state lives here
  too (`rate_per_minute`, `carry`, `ticked_at`): whoever locks the row (`FOR UPDATE SKIP LOCKED`)
  and finds it due runs the admission step, so one instance at a time decides.
- `waitroom_visitors`: one row per (event, user): a second tab or a re-join finds the same row and
  keeps its place. `rank` orders the queue: arrivals before the start draw a random rank below
  2^40 (their order is a lottery), later arrivals get 2^40 + an arrival sequence (first come, first
  served). `revision` numbers revocations so every instance can follow them incrementally.
  An admission counts once the visitor has fetched it (`claimed_at`); one not fetched within the
  pickup time goes back to the queue at its rank (`missed_at`) and is skipped until it polls again.
- `waitroom_health`: each instance's latest health sample (booking p99, pool saturation, 503s),
  which the leader aggregates for the adaptive admission rate.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE waitroom_events (
            event_id         integer     PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
            enabled          boolean     NOT NULL DEFAULT false,
            starts_at        timestamptz NOT NULL,
            max_active       integer     NOT NULL CHECK (max_active BETWEEN 1 AND 1000000),
            per_minute       integer     NOT NULL CHECK (per_minute BETWEEN 1 AND 1000000),
            min_per_minute   integer     NOT NULL CHECK (min_per_minute BETWEEN 1 AND 1000000),
            adaptive         boolean     NOT NULL DEFAULT true,
            hold_s           integer     NOT NULL CHECK (hold_s BETWEEN 10 AND 86400),
            admission_ttl_s  integer     NOT NULL CHECK (admission_ttl_s BETWEEN 10 AND 86400),
            rate_per_minute  double precision NOT NULL,
            carry            double precision NOT NULL DEFAULT 0,
            ticked_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
            admitted_total   bigint      NOT NULL DEFAULT 0,
            waiting          integer     NOT NULL DEFAULT 0,
            active           integer     NOT NULL DEFAULT 0,
            revoked_before   timestamptz,
            updated_at       timestamptz NOT NULL DEFAULT clock_timestamp()
        );

        CREATE SEQUENCE waitroom_arrival_seq;
        CREATE SEQUENCE waitroom_revision_seq;

        CREATE TABLE waitroom_visitors (
            id           bigserial   PRIMARY KEY,
            event_id     integer     NOT NULL REFERENCES waitroom_events (event_id) ON DELETE CASCADE,
            user_id      text        NOT NULL CHECK (length(user_id) <= 256),
            state        text        NOT NULL DEFAULT 'WAITING'
                CHECK (state IN ('WAITING', 'ADMITTED', 'EXPIRED', 'LEFT', 'DROPPED', 'REVOKED')),
            rank         bigint      NOT NULL,
            joined_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
            last_seen    timestamptz NOT NULL DEFAULT clock_timestamp(),
            admitted_at  timestamptz,
            expires_at   timestamptz,
            claimed_at   timestamptz,
            missed_at    timestamptz,
            revision     bigint,
            UNIQUE (event_id, user_id)
        );
        CREATE INDEX waitroom_visitors_queue ON waitroom_visitors (event_id, rank) WHERE state = 'WAITING';
        CREATE INDEX waitroom_visitors_active ON waitroom_visitors (event_id, expires_at) WHERE state = 'ADMITTED';
        CREATE INDEX waitroom_visitors_revision ON waitroom_visitors (revision) WHERE revision IS NOT NULL;

        CREATE TABLE waitroom_health (
            instance     text        PRIMARY KEY CHECK (length(instance) <= 128),
            sampled_at   timestamptz NOT NULL,
            requests     integer     NOT NULL,
            unavailable  integer     NOT NULL,
            p99_ms       double precision,
            saturation   double precision NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE waitroom_health;
        DROP TABLE waitroom_visitors;
        DROP SEQUENCE waitroom_revision_seq;
        DROP SEQUENCE waitroom_arrival_seq;
        DROP TABLE waitroom_events;
        """
    )

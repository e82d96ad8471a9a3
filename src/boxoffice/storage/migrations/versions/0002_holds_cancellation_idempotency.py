"""Holds with expiry, cancellation audit columns, idempotency keys.

A HELD seat whose `held_until` has passed counts as available in every claim statement,
so no background job is needed for correctness.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE seats DROP CONSTRAINT seats_status_check;
        ALTER TABLE seats ADD CONSTRAINT seats_status_check CHECK (status IN ('AVAILABLE', 'HELD', 'BOOKED'));
        ALTER TABLE seats
            ADD COLUMN held_by    text,
            ADD COLUMN hold_token uuid,
            ADD COLUMN held_until timestamptz;
        -- The 0001 rule required an owner for every non-AVAILABLE seat; HELD seats have a holder instead.
        ALTER TABLE seats DROP CONSTRAINT booked_has_owner;
        ALTER TABLE seats ADD CONSTRAINT seat_state_consistent CHECK (
            (status = 'AVAILABLE' AND booked_by IS NULL AND booked_at IS NULL)
            OR (status = 'HELD' AND booked_by IS NULL AND booked_at IS NULL
                AND held_by IS NOT NULL AND hold_token IS NOT NULL AND held_until IS NOT NULL)
            OR (status = 'BOOKED' AND booked_by IS NOT NULL AND booked_at IS NOT NULL AND hold_token IS NULL)
        );
        CREATE INDEX seats_booked_by ON seats (booked_by) WHERE booked_by IS NOT NULL;
        CREATE INDEX seats_held_by ON seats (held_by) WHERE status = 'HELD';
        CREATE INDEX seats_hold_token ON seats (hold_token) WHERE hold_token IS NOT NULL;
        CREATE INDEX seats_held_until ON seats (held_until) WHERE status = 'HELD';

        -- One row per hold: who, which seats, and how it ended (never deleted).
        CREATE TABLE holds (
            token       uuid        PRIMARY KEY,
            user_id     text        NOT NULL CHECK (length(user_id) BETWEEN 1 AND 256),
            seat_ids    integer[]   NOT NULL CHECK (cardinality(seat_ids) >= 1),
            state       text        NOT NULL DEFAULT 'ACTIVE'
                                    CHECK (state IN ('ACTIVE', 'CONFIRMED', 'RELEASED')),
            created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
            expires_at  timestamptz NOT NULL,
            ended_at    timestamptz
        );

        -- Audit trail of a booking: bookings are never deleted, only CONFIRMED -> CANCELLED.
        ALTER TABLE bookings
            ADD COLUMN hold_token    uuid,
            ADD COLUMN cancelled_at  timestamptz,
            ADD COLUMN cancelled_by  text,
            ADD COLUMN cancel_reason text CHECK (length(cancel_reason) <= 200),
            ADD CONSTRAINT cancelled_has_trail CHECK (
                (status = 'CONFIRMED' AND cancelled_at IS NULL AND cancelled_by IS NULL)
                OR (status = 'CANCELLED' AND cancelled_at IS NOT NULL AND cancelled_by IS NOT NULL)
            );
        CREATE INDEX bookings_seat_id ON bookings (seat_id);

        -- Written in the same transaction as the booking or hold it answers for.
        CREATE TABLE idempotency_keys (
            scope        text        NOT NULL,
            key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
            fingerprint  bytea       NOT NULL,
            status_code  integer     NOT NULL,
            response     bytea       NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
            expires_at   timestamptz NOT NULL,
            PRIMARY KEY (scope, key)
        );
        CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE idempotency_keys;
        DROP INDEX bookings_seat_id;
        ALTER TABLE bookings DROP CONSTRAINT cancelled_has_trail,
            DROP COLUMN cancel_reason, DROP COLUMN cancelled_by, DROP COLUMN cancelled_at, DROP COLUMN hold_token;
        DROP TABLE holds;
        UPDATE seats SET status = 'AVAILABLE', held_by = NULL, hold_token = NULL, held_until = NULL,
                         version = version + 1
         WHERE status = 'HELD';
        ALTER TABLE seats DROP CONSTRAINT seat_state_consistent;
        DROP INDEX seats_booked_by; DROP INDEX seats_held_by; DROP INDEX seats_hold_token; DROP INDEX seats_held_until;
        ALTER TABLE seats DROP COLUMN held_until, DROP COLUMN hold_token, DROP COLUMN held_by;
        ALTER TABLE seats DROP CONSTRAINT seats_status_check;
        ALTER TABLE seats ADD CONSTRAINT seats_status_check CHECK (status IN ('AVAILABLE', 'BOOKED'));
        ALTER TABLE seats ADD CONSTRAINT booked_has_owner CHECK (
            (status = 'AVAILABLE' AND booked_by IS NULL AND booked_at IS NULL)
            OR (status <> 'AVAILABLE' AND booked_by IS NOT NULL AND booked_at IS NOT NULL)
        );
        """
    )

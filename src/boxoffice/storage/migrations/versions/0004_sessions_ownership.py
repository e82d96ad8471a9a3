"""Anonymous sessions and ownership: a shared signing secret, per-user idempotency keys, "my" lookups.

- `server_secrets` holds the master secret that signs anonymous sessions and manage tokens when
  `BOXOFFICE_SESSION_SECRET` is not configured. It is generated here, once, from PostgreSQL's
  strong random source (`gen_random_uuid()`; two of them give 244 random bits), so every worker
  and instance on this database signs and verifies with the same key.
- Idempotency keys are scoped per user (`owner`), so another user cannot squat a key, and can
  be counted per user (the per-user cap).
- `bookings (user_id, id)` and `holds (user_id)` serve `/api/v1/me/*`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE server_secrets (
            name        text        PRIMARY KEY,
            value       bytea       NOT NULL CHECK (length(value) >= 32),
            created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        INSERT INTO server_secrets (name, value)
        VALUES ('session', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

        ALTER TABLE idempotency_keys ADD COLUMN owner text NOT NULL DEFAULT '' CHECK (length(owner) <= 256);
        ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
        ALTER TABLE idempotency_keys ADD PRIMARY KEY (owner, scope, key);
        CREATE INDEX idempotency_keys_owner ON idempotency_keys (owner, expires_at);

        CREATE INDEX bookings_user_id ON bookings (user_id, id);
        CREATE INDEX holds_user_id ON holds (user_id) WHERE state = 'ACTIVE';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX holds_user_id;
        DROP INDEX bookings_user_id;
        DROP INDEX idempotency_keys_owner;
        -- Keys of different users may share (scope, key) now: they cannot all survive the old key.
        DELETE FROM idempotency_keys;
        ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
        ALTER TABLE idempotency_keys ADD PRIMARY KEY (scope, key);
        ALTER TABLE idempotency_keys DROP COLUMN owner;
        DROP TABLE server_secrets;
        """
    )

"""Inventory: best available, no orphan seats, general admission, channels, blocked and accessible seats.

- `seats.kind`: `SEAT`, or `GA` for one pre-created general-admission ticket of an area (`section`
  is the area). Tickets are claimed by quantity with `FOR UPDATE SKIP LOCKED`, so concurrent
  buyers take different rows and no counter row serialises the event; holds, bookings, cancel,
  caps, idempotency and the outbox work on them unchanged.
- `accessibility` (`WHEELCHAIR`, `COMPANION`), `channel` (bookable only with that channel's key),
  `blocked` (the reason; never published), `rank` (best available: distance to the section's
  focal point), `plain` (the single-seat fast path may claim it: an ordinary seat of an event
  without the orphan rule; every other seat goes through the checked transaction).
- `events.no_orphans`, `events.orphan_row_ends`; `event_channels` (key hashes); `event_sections`
  (the layout's sections, GA capacities).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE events
            ADD COLUMN no_orphans      boolean NOT NULL DEFAULT false,
            ADD COLUMN orphan_row_ends boolean NOT NULL DEFAULT false;

        CREATE TABLE event_channels (
            event_id  integer NOT NULL REFERENCES events (id),
            name      text    NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
            key_hash  bytea   NOT NULL CHECK (length(key_hash) = 32),
            PRIMARY KEY (event_id, name),
            UNIQUE (event_id, key_hash)
        );

        CREATE TABLE event_sections (
            event_id      integer NOT NULL REFERENCES events (id),
            name          text    NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
            section_order integer NOT NULL,
            kind          text    NOT NULL CHECK (kind IN ('SEATED', 'GA')),
            capacity      integer CHECK (capacity >= 1),
            category      text,
            price_cents   integer,
            PRIMARY KEY (event_id, name),
            CHECK ((kind = 'GA') = (capacity IS NOT NULL))
        );

        ALTER TABLE seats
            ADD COLUMN kind          text    NOT NULL DEFAULT 'SEAT' CHECK (kind IN ('SEAT', 'GA')),
            ADD COLUMN accessibility text    CHECK (accessibility IN ('WHEELCHAIR', 'COMPANION')),
            ADD COLUMN channel       text    CHECK (length(channel) BETWEEN 1 AND 40),
            ADD COLUMN blocked       text    CHECK (blocked IN ('SPONSOR', 'PRODUCTION', 'PRESS', 'HOUSE')),
            ADD COLUMN rank          real    NOT NULL DEFAULT 0,
            ADD COLUMN plain         boolean NOT NULL DEFAULT true,
            ADD CONSTRAINT seat_blocked_or_channel CHECK (blocked IS NULL OR channel IS NULL),
            ADD CONSTRAINT seat_blocked_is_free CHECK (blocked IS NULL OR status = 'AVAILABLE'),
            ADD CONSTRAINT seat_special_not_plain CHECK (
                NOT plain OR (kind = 'SEAT' AND accessibility IS NULL AND channel IS NULL AND blocked IS NULL)
            );

        -- GA: free tickets of an area, claimed by quantity with SKIP LOCKED.
        CREATE INDEX seats_ga_free ON seats (event_id, section, id) WHERE kind = 'GA' AND status = 'AVAILABLE';
        -- Best available: the free seats of an event nearest their section's focal point.
        CREATE INDEX seats_best ON seats (event_id, rank) WHERE kind = 'SEAT' AND status = 'AVAILABLE';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        -- GA tickets are not seats without their kind: they go, with their bookings and events.
        DELETE FROM seat_events WHERE seat_id IN (SELECT id FROM seats WHERE kind = 'GA');
        DELETE FROM bookings WHERE seat_id IN (SELECT id FROM seats WHERE kind = 'GA');
        DELETE FROM seats WHERE kind = 'GA';
        DROP INDEX seats_best;
        DROP INDEX seats_ga_free;
        ALTER TABLE seats
            DROP CONSTRAINT seat_special_not_plain,
            DROP CONSTRAINT seat_blocked_is_free,
            DROP CONSTRAINT seat_blocked_or_channel,
            DROP COLUMN plain, DROP COLUMN rank, DROP COLUMN blocked, DROP COLUMN channel,
            DROP COLUMN accessibility, DROP COLUMN kind;
        DROP TABLE event_sections;
        DROP TABLE event_channels;
        ALTER TABLE events DROP COLUMN orphan_row_ends, DROP COLUMN no_orphans;
        """
    )

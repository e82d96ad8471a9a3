"""Event lifecycle: editing, cancelling, and a sales window enforced inside every claim.

- `events.status` (`SCHEDULED`, `CANCELLED`), `cancelled_at`, `cancel_reason`: a cancelled event
  sells nothing more; its bookings are voided and its holds released in the cancelling transaction.
- `events.sales_start`, `events.sales_end`: the sales window. NULL start: open from creation; NULL
  end: until the event's date (`starts_at`), or without end when it has none.
- `seats.sellable_from`, `seats.sellable_until`: the event's effective window copied onto each of
  its seats (`-infinity`/`infinity` when open-ended; `sellable_until = -infinity` once cancelled), so
  the claim checks it on the row it locks, with no join and no lock on the event row; an edit of
  the window or a cancel rewrites them (rare) and so serialises with every claim in flight.

Existing events get the default window: an event dated in the past stops selling.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE events
            ADD COLUMN status        text NOT NULL DEFAULT 'SCHEDULED' CHECK (status IN ('SCHEDULED', 'CANCELLED')),
            ADD COLUMN sales_start   timestamptz,
            ADD COLUMN sales_end     timestamptz,
            ADD COLUMN cancelled_at  timestamptz,
            ADD COLUMN cancel_reason text CHECK (length(cancel_reason) BETWEEN 1 AND 200),
            ADD CONSTRAINT events_cancelled_at CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL)),
            ADD CONSTRAINT events_sales_window
                CHECK (sales_start IS NULL OR sales_end IS NULL OR sales_start < sales_end);

        ALTER TABLE seats
            ADD COLUMN sellable_from  timestamptz NOT NULL DEFAULT '-infinity',
            ADD COLUMN sellable_until timestamptz NOT NULL DEFAULT 'infinity';
        UPDATE seats AS s SET sellable_until = e.starts_at
          FROM events AS e WHERE e.id = s.event_id AND e.starts_at IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE seats DROP COLUMN sellable_until, DROP COLUMN sellable_from;
        ALTER TABLE events
            DROP CONSTRAINT events_sales_window, DROP CONSTRAINT events_cancelled_at,
            DROP COLUMN cancel_reason, DROP COLUMN cancelled_at, DROP COLUMN sales_end, DROP COLUMN sales_start,
            DROP COLUMN status;
        """
    )

"""The waiting room's admission frontier: the highest rank ever admitted in a room.

Admission goes in rank order and later arrivals rank higher, so a visitor whose rank is above the
frontier is still waiting. Each instance reads the frontier with the room every tick and answers
such a visitor's poll from memory, without a round trip (booking/waitroom/queue.py, `Queue.status`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE waitroom_events ADD COLUMN frontier bigint NOT NULL DEFAULT -1")


def downgrade() -> None:
    op.execute("ALTER TABLE waitroom_events DROP COLUMN frontier")

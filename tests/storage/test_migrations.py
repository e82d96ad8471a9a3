"""New migrations apply on top of 0001 and roll back cleanly (0001 itself is never edited)."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from boxoffice.storage.migrate import alembic_config, upgrade
from tests.helpers import rows
from tests.support import fresh_database


def test_upgrade_downgrade_upgrade() -> None:
    with fresh_database("bo_migr") as url:
        config = alembic_config(url)
        command.upgrade(config, "0001")
        with_data = "INSERT INTO seats (seat_number, section, row_label, row_idx, col_idx) VALUES ('A1','Main','A',1,1)"
        rows_before = rows(url, with_data + " RETURNING id")
        upgrade(url)
        assert rows(url, "SELECT event_id, status FROM seats") == [{"event_id": 1, "status": "AVAILABLE"}]
        assert rows(url, "SELECT slug FROM events") == [{"slug": "default"}]
        command.downgrade(config, "0001")
        assert rows(url, "SELECT id FROM seats") == rows_before
        upgrade(url)
        head = ScriptDirectory.from_config(config).get_current_head()
        assert head is not None and head >= "0006"  # one chain: every migration is on the way to the head
        assert rows(url, "SELECT version_num FROM alembic_version") == [{"version_num": head}]

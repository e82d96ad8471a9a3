"""`boxoffice event create --layout FILE`: an event with its own seat map from a layout file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from boxoffice.storage.migrate import upgrade
from tests.helpers import rows
from tests.shared import layout
from tests.support import ServerFactory


def test_cli_creates_event_from_layout_file(server_factory: ServerFactory, tmp_path: Path) -> None:
    url = server_factory.database("bo_cli_events")
    upgrade(url)
    spec = layout(sections=[{"name": "Main", "rows": 2, "columns": 3, "category": "VIP"}])
    path = tmp_path / "event.json"
    path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["DATABASE_URL"] = url
    done = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "event", "create", "--layout", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "with 6 seats" in done.stdout
    created = rows(
        url,
        "SELECT e.id, count(s.id) AS n, min(s.price_cents) AS p FROM events e"
        " JOIN seats s ON s.event_id = e.id WHERE e.slug = %s GROUP BY e.id",
        spec["slug"],
    )
    assert created[0]["n"] == 6 and created[0]["p"] == 9000
    path.write_text(json.dumps({**spec, "slug": "x y"}))
    bad = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "event", "create", "--layout", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "invalid layout" in bad.stderr

"""`boxoffice event create --layout FILE`: an event with its own seat map from a layout file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

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


def test_cli_allocates_and_sets_the_orphan_rule(server_factory: ServerFactory, tmp_path: Path) -> None:
    url = server_factory.database("bo_cli_alloc")
    upgrade(url)
    spec = layout(
        sections=[
            {"name": "Main", "rows": 1, "columns": 4, "category": "VIP", "accessible": ["A1"]},
            {"name": "Lawn", "capacity": 10, "category": "STD", "blocked": {"PRESS": 2}},
        ]
    )
    path = tmp_path / "event.json"
    path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["DATABASE_URL"] = url

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "boxoffice.cli", "event", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert cli("create", "--layout", str(path)).returncode == 0
    event = rows(url, "SELECT id FROM events WHERE slug = %s", spec["slug"])[0]["id"]
    seat = rows(url, "SELECT id FROM seats WHERE event_id = %s AND seat_number = 'Main-A2'", event)[0]["id"]
    done = cli("allocate", "--event", str(event), "--seats", str(seat), "--blocked", "SPONSOR")
    assert done.returncode == 0 and "changed 1" in done.stdout, done.stderr
    assert rows(url, "SELECT blocked, plain FROM seats WHERE id = %s", seat) == [{"blocked": "SPONSOR", "plain": False}]
    done = cli("allocate", "--event", str(event), "--section", "Lawn", "--count", "2", "--from-blocked", "PRESS")
    assert done.returncode == 0, done.stderr
    assert rows(url, "SELECT count(*) AS n FROM seats WHERE event_id = %s AND blocked = 'PRESS'", event)[0]["n"] == 0
    bad = cli("allocate", "--event", str(event), "--seats", str(seat), "--blocked", "FRIENDS")
    assert bad.returncode == 2 and "unknown block reason" in bad.stderr
    missing = cli("allocate", "--event", str(event), "--section", "Nope", "--count", "1")
    assert missing.returncode == 1 and "no GA area named 'Nope'" in missing.stderr
    done = cli("options", "--event", str(event), "--no-orphans")
    assert done.returncode == 0 and "noOrphans=True" in done.stdout
    assert rows(url, "SELECT count(*) AS n FROM seats WHERE event_id = %s AND plain", event)[0]["n"] == 0
    listed = cli("list")
    assert "no-orphans" in listed.stdout


def test_cli_cancels_an_event(server_factory: ServerFactory, tmp_path: Path) -> None:
    url = server_factory.database("bo_cli_cancel")
    upgrade(url)
    spec = layout(sections=[{"name": "Main", "rows": 1, "columns": 3}], categories={})
    path = tmp_path / "event.json"
    path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["DATABASE_URL"] = url

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "boxoffice.cli", "event", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert cli("create", "--layout", str(path)).returncode == 0
    event_id = rows(url, "SELECT id FROM events WHERE slug = %s", spec["slug"])[0]["id"]
    seat = rows(url, "SELECT min(id) AS id FROM seats WHERE event_id = %s", event_id)[0]["id"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE seats SET status = 'BOOKED', booked_by = 'ann', booked_at = now() WHERE id = %s", (seat,))
        conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (%s, 'ann', 'ATOMIC')", (seat,))
    done = cli("cancel", "--event", str(event_id), "--reason", "Storm")
    assert done.returncode == 0, done.stderr
    assert "1 bookings voided, 0 holds released, 1 seats freed" in done.stdout
    assert rows(url, "SELECT status, cancel_reason FROM bookings") == [
        {"status": "CANCELLED", "cancel_reason": "EVENT_CANCELLED"}
    ]
    assert rows(url, "SELECT status, cancel_reason FROM events WHERE id = %s", event_id) == [
        {"status": "CANCELLED", "cancel_reason": "Storm"}
    ]
    again = cli("cancel", "--event", str(event_id), "--reason", "Storm")
    assert again.returncode == 1 and "was cancelled" in again.stderr
    assert cli("cancel", "--event", str(event_id), "--reason", "").returncode == 2

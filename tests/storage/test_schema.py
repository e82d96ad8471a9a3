"""Migrations, seeding and the database-level guarantees."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from boxoffice.layouts import row_label
from boxoffice.storage.migrate import upgrade
from tests.support import fresh_database


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_database() as u:
        yield u


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # `boxoffice seed` processes
def test_seed_command_is_idempotent_and_reads_layouts(url: str, tmp_path: Path) -> None:
    first = cli(url, "seed", "--rows", "3", "--cols", "4")
    assert first.returncode == 0, first.stderr
    assert "seeded 12 seats" in first.stdout
    again = cli(url, "seed", "--rows", "5", "--cols", "5")
    assert again.returncode == 0 and "nothing seeded" in again.stdout
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM seats").fetchone() == (12,)
        assert conn.execute("SELECT seat_number FROM seats WHERE row_idx = 3 AND col_idx = 4").fetchone() == ("C4",)

    layout = tmp_path / "venue.json"
    sections = [{"name": "Stalls", "rows": 2, "columns": 3}, {"name": "Balcony", "rows": 1, "columns": 2}]
    layout.write_text(json.dumps({"sections": sections}))
    reset = cli(url, "seed", "--layout", str(layout), "--reset")
    assert reset.returncode == 0, reset.stderr
    with psycopg.connect(url) as conn:
        order = "ORDER BY section_order, row_idx, col_idx"
        numbers = [r[0] for r in conn.execute(f"SELECT seat_number FROM seats {order}")]
    stalls = ["Stalls-A1", "Stalls-A2", "Stalls-A3", "Stalls-B1", "Stalls-B2", "Stalls-B3"]
    assert numbers == [*stalls, "Balcony-A1", "Balcony-A2"]


@pytest.mark.slow  # `boxoffice seed` processes
def test_seed_rejects_bad_layouts(url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sections": [{"name": "X", "rows": 0, "columns": 3}]}))
    result = cli(url, "seed", "--layout", str(bad))
    assert result.returncode != 0
    assert "rows" in result.stderr
    assert cli(url, "seed", "--rows", "0").returncode == 2


def test_database_refuses_a_second_active_booking(url: str) -> None:
    upgrade(url)
    upgrade(url)  # idempotent
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO seats (seat_number, section, row_label, row_idx, col_idx) VALUES ('A1','M','A',1,1)")
        conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (1, 'a', 'DB')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (1, 'b', 'DB')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE bookings SET status = 'CANCELLED'")  # a cancellation needs its audit trail
        conn.execute("UPDATE bookings SET status = 'CANCELLED', cancelled_at = now(), cancelled_by = 'a'")
        conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (1, 'b', 'DB')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE seats SET status = 'BOOKED' WHERE id = 1")  # booked without an owner


def test_row_labels() -> None:
    assert [row_label(i) for i in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]

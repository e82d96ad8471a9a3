"""With no DATABASE_URL, `serve` runs on an embedded PostgreSQL whose data survives restarts."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.support import ServerProcess


def test_embedded_database_survives_restart(tmp_path: Path, artifacts: Path) -> None:
    env = {"BOXOFFICE_DATA_DIR": str(tmp_path / "data")}
    log = artifacts / "embedded.log"
    with ServerProcess(env=env, log_path=log) as first:
        resp = httpx.post(f"{first.base_url}/api/v1/bookings", json={"seatId": 42, "userId": "persist"}, timeout=10)
        assert resp.status_code == 201, resp.text
        seats = httpx.get(f"{first.base_url}/api/v1/seats", timeout=10).json()
        assert seats["layout"]["seatCount"] == 100, "default 10x10 map seeded"
        # SIGTERM to the server process only (as systemd or an orchestrator would send it).
        assert first.proc is not None
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(30) == 0
    pgdata = tmp_path / "data" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists(), "the embedded PostgreSQL was stopped cleanly"

    with ServerProcess(env=env, log_path=log) as second:
        seats = httpx.get(f"{second.base_url}/api/v1/seats", timeout=10).json()
        by_id = {s["seatId"]: s for s in seats["seats"]}
        assert by_id[42]["booked"] is True and by_id[42]["status"] == "BOOKED"
        assert seats["layout"]["seatCount"] == 100, "restart does not seed twice"
        again = httpx.post(f"{second.base_url}/api/v1/bookings", json={"seatId": 42, "userId": "x"}, timeout=10)
        assert again.status_code == 409

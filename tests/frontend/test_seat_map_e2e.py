"""The buyer's seat map in headless Chromium against a real server, then checked against the database.

The browser part is `frontend/e2e/run.mjs` (npm playwright-core driving Debian's /usr/bin/chromium); it runs
once per module and reports JSON, and each test below asserts on one scenario plus the database state.
Screenshots of every scenario land in `test-artifacts/frontend/`; the performance figures are printed
(`pytest -s`) and asserted with generous limits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support import ServerFactory, ServerProcess
from tests.waitroom import WAITROOM, iso, soon

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = Path("/usr/bin/chromium")
ROWS, COLS = 40, 50  # the default event: 2,000 seats
CHAOS_REQUESTS = 50
ADMIN_TOKEN = "e2e-admin-token-" + "q" * 20

JAZZ: dict[str, Any] = {
    "slug": "jazz-night",
    "name": "Jazz Night",
    "venue": "Blue Hall",
    "startsAt": "2036-12-24T20:00:00Z",
    "categories": {"VIP": {"priceCents": 9000}, "STD": {"priceCents": 4500}, "BAL": {"priceCents": 2500}},
    "sections": [
        {"name": "Stalls", "rows": 10, "columns": 20, "category": "STD", "rowCategories": {"A": "VIP", "B": "VIP"}},
        {"name": "Balcony", "rows": 4, "columns": 16, "category": "BAL"},
    ],
}
ARENA: dict[str, Any] = {
    "slug": "arena",
    "name": "Arena Tour",
    "venue": "Big Arena",
    "startsAt": "2037-01-15T19:30:00Z",
    "categories": {"FLOOR": {"priceCents": 12000}, "LOWER": {"priceCents": 8000}, "UPPER": {"priceCents": 4000}},
    "sections": [
        {"name": "Floor", "rows": 50, "columns": 100, "category": "FLOOR"},
        {"name": "North", "rows": 50, "columns": 100, "category": "LOWER"},
        {"name": "South", "rows": 50, "columns": 100, "category": "LOWER"},
        {"name": "Upper", "rows": 50, "columns": 100, "category": "UPPER"},
    ],
}
ARENA_SEATS = 20_000
OPEN_AIR: dict[str, Any] = {
    "slug": "open-air",
    "name": "Open Air",
    "venue": "Park",
    "categories": {"VIP": {"priceCents": 9000}, "STD": {"priceCents": 4500}, "GA": {"priceCents": 2500}},
    "sections": [
        {
            "name": "Stalls",
            "rows": 8,
            "columns": 16,
            "category": "STD",
            "rowCategories": {"A": "VIP"},
            "accessible": ["H1", "H2"],
            "companion": ["H3"],
            "blocked": {"PRESS": ["A7", "A8", "A9", "A10"]},
        },
        {"name": "Lawn", "capacity": 500, "category": "GA"},
    ],
}

# Generous limits for a shared 2-core machine; the measured figures are printed.
FIRST_RENDER_CPU_LIMIT_MS = 1500  # target 500
LONG_TASK_LIMIT_MS = 400  # target 100
SECOND_TAB_LIMIT_MS = 2000  # target 1000
BACK_TO_LIVE_LIMIT_MS = 4000  # target 2000

pytestmark = pytest.mark.timeout(540)


@dataclass
class E2E:
    scenarios: dict[str, dict[str, Any]]
    console: list[str]
    seats: dict[tuple[int, str], tuple[str, str | None]]  # (event id, seat number) -> (status, booked_by)
    bookings: list[tuple[int, str, str, str]]  # (event id, seat number, user id, status)
    users: dict[str, str]  # page name (alice, bob, ...) -> the anonymous session's user id
    jazz: int
    arena: int
    open_air: int

    def scenario(self, name: str) -> dict[str, Any]:
        s = self.scenarios.get(name)
        assert s is not None, f"scenario {name} did not run"
        assert s["ok"], f"scenario {name} failed in the browser:\n{s.get('error')}"
        return s

    def confirmed(self, event: int, seat: str) -> list[str]:
        return [u for e, n, u, st in self.bookings if e == event and n == seat and st == "CONFIRMED"]


def prerequisites() -> None:
    problems = []
    if not shutil.which("node"):
        problems.append("node is not on PATH")
    if not CHROMIUM.exists():
        problems.append("Debian chromium is missing: apt-get install -y chromium")
    if not (FRONTEND / "dist" / "index.html").exists():
        problems.append("frontend is not built: run scripts/bootstrap (npm ci && npm run build in frontend/)")
    for package in ("playwright-core", "axe-core"):
        if not (FRONTEND / "node_modules" / package).exists():
            problems.append(f"frontend/node_modules/{package} is missing: run scripts/bootstrap")
    if problems:
        pytest.fail("; ".join(problems))


def database_state(url: str) -> tuple[dict[tuple[int, str], tuple[str, str | None]], list[tuple[int, str, str, str]]]:
    with psycopg.connect(url) as conn:
        seats = {
            (e, n): (s, b) for e, n, s, b in conn.execute("SELECT event_id, seat_number, status, booked_by FROM seats")
        }
        bookings = conn.execute(
            "SELECT s.event_id, s.seat_number, b.user_id, b.status FROM bookings b JOIN seats s ON s.id = b.seat_id"
        ).fetchall()
    return seats, [(e, n, u, st) for e, n, u, st in bookings]


OUTAGE_SEAT = "Stalls-J20"


def create_event(server: ServerProcess, spec: dict[str, Any]) -> int:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = httpx.post(f"{server.base_url}/api/v1/admin/events", json=spec, headers=headers, timeout=60)
    assert response.status_code == 201, response.text
    return int(response.json()["eventId"])


def seat_id_of(server: ServerProcess, event: int, number: str) -> int:
    seats = httpx.get(f"{server.base_url}/api/v1/events/{event}/seats", timeout=30).json()["seats"]
    return next(int(s["seatId"]) for s in seats if s["seatNumber"] == number)


def drive(cmd: list[str], server: ServerProcess, jazz: int, log_path: Path) -> dict[str, Any]:
    """Run the browser script, serving its `PAUSE stop|start` requests, and return its JSON report."""
    outage_seat_id = seat_id_of(server, jazz, OUTAGE_SEAT)
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=FRONTEND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        timer = threading.Timer(480, proc.kill)  # the script has its own watchdog; this is the backstop
        timer.start()
        last = ""
        try:
            for line in proc.stdout:
                if line.startswith("PAUSE stop"):
                    server.stop()
                    answer = "stopped"
                elif line.startswith("PAUSE start"):
                    server.start()
                    # Booked while no page is connected: only a resync after reconnecting can show it.
                    body = {"seatId": outage_seat_id, "userId": "walk-in"}
                    response = httpx.post(f"{server.base_url}/api/v1/bookings", json=body, timeout=30)
                    assert response.status_code == 201, response.text
                    answer = OUTAGE_SEAT
                else:
                    last = line
                    continue
                proc.stdin.write(answer + "\n")
                proc.stdin.flush()
            code = proc.wait(timeout=30)
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
    assert code == 0, f"e2e/run.mjs exited {code}:\n{log_path.read_text()[-4000:]}"
    report: dict[str, Any] = json.loads(last)
    return report


@pytest.fixture(scope="module")
def e2e(artifacts: Path, module_servers: ServerFactory) -> E2E:
    prerequisites()
    out = artifacts / "frontend"
    out.mkdir(exist_ok=True)
    url = module_servers.database("bo_fe")
    # The burst and chaos mode send hundreds of bookings from this one address; every other default limit
    # (per user, seats per user, WebSocket) stays on, as a real deployment has it.
    server = module_servers(
        database_url=url,
        seed_rows=ROWS,
        seed_cols=COLS,
        db_pool_max=20,
        rate_limit_per_ip=0,
        admin_token=ADMIN_TOKEN,
    )
    jazz = create_event(server, JAZZ)
    arena = create_event(server, ARENA)
    open_air = create_event(server, OPEN_AIR)
    cmd = [
        "node",
        "e2e/run.mjs",
        "--base",
        server.base_url,
        "--out",
        str(out),
        "--jazz",
        str(jazz),
        "--arena",
        str(arena),
        "--open-air",
        str(open_air),
    ]
    cmd += ["--chaos-count", str(CHAOS_REQUESTS)]
    report = drive(cmd, server, jazz, out / "e2e.log")
    (out / "e2e-result.json").write_text(json.dumps(report, indent=2))
    seats, bookings = database_state(url)
    return E2E(report["scenarios"], report["console"], seats, bookings, report["users"], jazz, arena, open_air)


def no_serious_axe(result: dict[str, Any]) -> None:
    assert result["serious"] == [], f"axe-core ({result['page']}): {result['serious']}"


def test_page_loads_the_linked_event_with_prices_and_passes_axe(e2e: E2E) -> None:
    load = e2e.scenario("load")
    assert "Jazz Night" in load["title"] and "Blue Hall" in load["title"] and "2036" in load["title"]
    for price in ("€90.00", "€45.00", "€25.00"):
        assert price in load["legend"]
    assert load["total"] == "264"
    no_serious_axe(load["axe"])
    expected = ["status of 409 (Conflict)", "status of 503", "/ws"]  # Chromium logs these; the UI explains them
    unexpected = [m for m in e2e.console if not any(e in m for e in expected)]
    assert unexpected == [], f"browser console errors: {unexpected}"


def test_select_hold_countdown_extend_and_confirm_once_despite_a_double_click(e2e: E2E) -> None:
    buyer = e2e.scenario("buyer")
    alice = e2e.users["alice"]
    assert len(buyer["lines"]) == 3
    assert any("Stalls · Row A · Seat 5" in line and "VIP" in line and "€90.00" in line for line in buyer["lines"])
    assert buyer["total"] == "€225.00"  # 90 + 90 + 45
    assert "€90.00" in buyer["hover"] and "row B, seat 7" in buyer["hover"]
    assert 200 < buyer["countdownStart"] <= 300
    assert buyer["afterExtend"] > buyer["beforeExtend"]
    # One booking per seat, one success message, one toast: the double click did nothing twice.
    for seat in ("Stalls-A5", "Stalls-A6"):
        assert e2e.confirmed(e2e.jazz, seat) == [alice]
    assert len(buyer["messages"]) == 1 and "Booked" in buyer["messages"][0]
    assert buyer["bookedToasts"] == 1
    assert buyer["tickets"] == 3
    assert not buyer["bobSeesAlice"]


def test_cancel_from_my_tickets(e2e: E2E) -> None:
    cancel = e2e.scenario("cancel")
    assert cancel["tickets"] == 2
    assert e2e.confirmed(e2e.jazz, "Stalls-C3") == []
    cancelled = [u for e, n, u, st in e2e.bookings if e == e2e.jazz and n == "Stalls-C3" and st == "CANCELLED"]
    assert cancelled == [e2e.users["alice"]]


def test_a_basket_seat_taken_by_another_page_leaves_the_basket_with_a_message(e2e: E2E) -> None:
    taken = e2e.scenario("taken")
    assert "Stalls D2" in taken["message"] and "taken" in taken["message"]
    assert taken["role"] == "alert"
    assert len(taken["lines"]) == 1 and "Row D · Seat 1" in taken["lines"][0]
    assert taken["d2Kind"] == "held"


def test_a_409_names_the_taken_seat_and_keeps_the_rest(e2e: E2E) -> None:
    conflict = e2e.scenario("conflict409")
    assert conflict["walkIn"] == 201 and conflict["stillFreeOnCarolsMap"] == "AVAILABLE"
    assert "Stalls E2" in conflict["message"] and "Stalls E1" not in conflict["message"]
    assert len(conflict["lines"]) == 1 and "Row E · Seat 1" in conflict["lines"][0]
    assert [u for e, n, u, st in e2e.bookings if e == e2e.jazz and n == "Stalls-E1"] == []


def test_switching_events_by_link_and_picker(e2e: E2E) -> None:
    events = e2e.scenario("events")
    assert events["onDefault"] == 1 and events["bookedStatus"] == 201
    assert "Jazz Night" in events["second"] and f"event={e2e.jazz}" in events["url"]
    assert events["afterBack"] == events["first"]


def test_a_20000_seat_event_meets_the_performance_targets(e2e: E2E) -> None:
    big = e2e.scenario("big")
    burst = big["burst"]
    print(
        f"\narena (20,000 seats): first render {big['firstRenderCpuMs']} ms main-thread CPU "
        f"(script {big['firstRenderScriptMs']} ms, wall {big['firstRenderWallMs']} ms); "
        f"burst of {burst['seatsBooked']} changes converged in {burst['convergedMs']} ms, "
        f"{burst['longTasks']} long tasks, longest {burst['longestTaskMs']} ms, resyncs {burst['resyncs']}; "
        f"second tab saw a hold after {big['secondTab']['ms']} ms"
    )
    assert big["firstRenderCpuMs"] < FIRST_RENDER_CPU_LIMIT_MS
    assert burst["seatsBooked"] >= 500, burst
    assert set(burst["otherAnswers"]) <= {"503"}, burst
    assert burst["longestTaskMs"] < LONG_TASK_LIMIT_MS
    assert big["secondTab"]["status"] == 201 and big["secondTab"]["ms"] < SECOND_TAB_LIMIT_MS
    no_serious_axe(big["axe"])
    booked = sum(1 for (e, _), (s, _) in e2e.seats.items() if e == e2e.arena and s == "BOOKED")
    assert booked == burst["seatsBooked"]


def test_keyboard_alone_books_a_seat_in_the_last_section(e2e: E2E) -> None:
    keyboard = e2e.scenario("keyboard")
    assert keyboard["focusVisible"]
    assert keyboard["seat"] == "Balcony-D3"  # Page Down (Balcony A1), down x3, right x2
    assert "Balcony, row D, seat 3" in keyboard["announced"]
    assert e2e.confirmed(e2e.jazz, "Balcony-D3") == [e2e.users["kim"]]
    assert keyboard["found"] == "Stalls-C12"


def test_phone_map_first_basket_in_a_sticky_footer_24px_targets(e2e: E2E) -> None:
    phone = e2e.scenario("phone")
    assert phone["pageOverflowPx"] <= 0
    assert phone["footerPosition"] == "fixed" and phone["footerBottom"] <= 844 + 1
    assert phone["mapTop"] < phone["footerTop"]
    assert phone["firstTapSeatPx"] < 24 <= phone["seatPx"]
    assert e2e.confirmed(e2e.jazz, "Balcony-B8") == [e2e.users["phoebe"]]
    no_serious_axe(phone["axe"])


def test_engine_demo_chaos_mode_still_has_one_winner(e2e: E2E) -> None:
    chaos = e2e.scenario("chaos")
    run = chaos["run"]
    assert run["winners"] == 1 and run["conflicts"] == CHAOS_REQUESTS - 1 and run["errors"] == 0, run
    assert e2e.confirmed(1, run["seat"]) == [run["winner"]]


def test_inventory_blocked_accessible_ga_and_best_available(e2e: E2E) -> None:
    inv = e2e.scenario("inventory")
    assert inv["blocked"] == "blocked" and inv["wheelchair"] == "available"
    for entry in ("Not for sale", "Wheelchair space", "Companion seat"):
        assert entry in inv["legend"]
    assert len(inv["bestLines"]) == 3
    assert len(inv["gaLines"]) == 2 and all("Lawn · General admission" in line for line in inv["gaLines"])
    ines = e2e.users["ines"]
    mine = [(n, st) for e, n, u, st in e2e.bookings if e == e2e.open_air and u == ines]
    assert len(mine) == 5 and all(st == "CONFIRMED" for _, st in mine)
    # Best available never picked a blocked or accessible seat.
    assert not {n for n, _ in mine} & {f"Stalls-{s}" for s in ("A7", "A8", "A9", "A10", "H1", "H2", "H3")}
    no_serious_axe(inv["axe"])


def test_a_first_load_during_a_503_shows_a_page_and_recovers(e2e: E2E) -> None:
    first = e2e.scenario("first-load-503")
    assert "busy or starting" in first["shown"] and "Retry-After: 1 s" in first["shown"]


def test_server_stopped_and_restarted(e2e: E2E) -> None:
    outage = e2e.scenario("outage")
    assert "Booking is paused" in outage["banner"] and outage["holdDisabled"]
    assert outage["statusDuringOutage"] == "reconnecting"
    assert outage["seat"] == OUTAGE_SEAT and outage["holdEnabled"]
    print(f"\noutage: live again {outage['liveMs']} ms after the server was ready")
    assert outage["liveMs"] < BACK_TO_LIVE_LIMIT_MS
    assert e2e.confirmed(e2e.jazz, OUTAGE_SEAT) == ["walk-in"]


def test_every_page_ends_equal_to_the_database(e2e: E2E) -> None:
    final = e2e.scenario("final")
    truth = {n: s for (e, n), (s, _) in e2e.seats.items() if e == e2e.jazz}
    for who in ("alice", "bob"):
        diff = {n: (final[who].get(n), s) for n, s in truth.items() if final[who].get(n) != s}
        assert diff == {}, f"{who}'s page differs from the database: {dict(list(diff.items())[:10])}"
    # One confirmed booking per seat across everything the run did.
    confirmed = [(e, n) for e, n, _, st in e2e.bookings if st == "CONFIRMED"]
    assert len(confirmed) == len(set(confirmed))


def test_waiting_page_then_admitted_to_the_map_holds_with_the_admission_token(
    artifacts: Path, server_factory: ServerFactory
) -> None:
    """A gated on-sale for one buyer at a time: the page waits behind a walk-in, then is admitted, holds,
    confirms and gives its turn back (`leave`). The server runs with the end on purchase off, so the
    turn ends only because the page left."""
    prerequisites()
    out = artifacts / "frontend"
    out.mkdir(exist_ok=True)
    url = server_factory.database("bo_fe_wait")
    server = server_factory(
        database_url=url,
        log="waiting",
        settings={**WAITROOM, "waitroom_end_on_purchase": False},
        admin_token=ADMIN_TOKEN,
        seed_rows=2,
        seed_cols=5,
    )
    gated = create_event(server, JAZZ)
    body = {"enabled": True, "startsAt": iso(soon(-1)), "maxActive": 1, "perMinute": 60_000, "adaptive": False}
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    r = httpx.put(f"{server.base_url}/api/v1/admin/events/{gated}/waiting-room", json=body, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    cmd = ["node", "e2e/run.mjs", "--base", server.base_url, "--out", str(out), "--only", "waiting"]
    cmd += ["--jazz", str(gated), "--arena", str(gated), "--gated", str(gated)]
    done = subprocess.run(cmd, cwd=FRONTEND, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    (out / "e2e-waiting.log").write_text(done.stderr)
    assert done.returncode == 0, f"e2e/run.mjs exited {done.returncode}:\n{done.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    (out / "e2e-waiting-result.json").write_text(json.dumps(report, indent=2))
    waiting = report["scenarios"].get("waiting")
    assert waiting is not None and waiting["ok"], f"the waiting scenario failed in the browser:\n{waiting}"
    assert waiting["walkInJoin"] == 201 and waiting["leave"] == 200
    # Waiting: a position, booking closed (the seat can be picked, the hold button is disabled).
    assert "in the queue" in waiting["waitingText"] and "Position 1" in waiting["waitingText"], waiting
    assert waiting["holdDisabledWhileWaiting"] and waiting["bestHoldDisabledWhileWaiting"]
    assert waiting["pausedText"] == "Booking opens when it is your turn in the queue."
    # Admitted: the hold went out with the Admission-Token and was placed.
    assert "It is your turn" in waiting["admittedText"]
    assert waiting["hold"] == {"status": 201, "admissionToken": True}
    # The same session without the token: refused, nothing written.
    assert waiting["withoutToken"]["status"] == 401 and waiting["withoutToken"]["error"] == "ADMISSION_REQUIRED"
    # Confirmed: the page left the room by itself and says the turn is over.
    assert waiting["confirm"] == 201
    assert waiting["pageLeft"] == {"status": 200, "state": "LEFT"}, waiting
    assert "Thank you for your purchase" in waiting["afterPurchaseText"], waiting
    with psycopg.connect(url) as conn:
        taken = "SELECT id, status, booked_by FROM seats WHERE event_id = %s AND status <> 'AVAILABLE'"
        booked = conn.execute(taken, (gated,))
        assert [(i, st, by) for i, st, by in booked] == [(waiting["seatId"], "BOOKED", waiting["user"])]
        holds = conn.execute("SELECT user_id, seat_ids, state FROM holds").fetchall()
        assert [(u, list(ids), st) for u, ids, st in holds] == [(waiting["user"], [waiting["seatId"]], "CONFIRMED")]
        visitors = conn.execute("SELECT user_id, state FROM waitroom_visitors WHERE event_id = %s", (gated,))
        assert sorted(visitors) == sorted([(waiting["walkIn"], "LEFT"), (waiting["user"], "LEFT")])
    assert report["console"] == [] or all("401" in m for m in report["console"]), report["console"]

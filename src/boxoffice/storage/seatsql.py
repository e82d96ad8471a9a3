"""The vocabulary of seat changes: each piece of a seat's SQL is defined once, here.

- `available`: the availability predicate (a seat free to claim), with its named variants;
- `on_sale`: the sales window (the event's, copied onto each seat): every claim requires it;
- `claim`: the conditional UPDATE that takes seats, to BOOKED or HELD (`Take`), and the rows that
  record it (a booking per seat, or the hold);
- `RELEASE`: what freeing a seat writes (release, cancel, the sweeper, allocation);
- `outbox`: the one insert of a `seat_events` row per changed seat, in the statement that changed it.

The statements of `storage/` are assembled from these once, at import, as module constants: every
request runs the same text, so asyncpg's statement cache prepares each once per connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.domain import SeatStatus

SEAT_COLUMNS = (
    "id, seat_number, section, row_label, row_idx, col_idx, status, booked_by, booked_at, version, held_until,"
    " event_id, category, price_cents, kind, accessibility, channel, blocked"
)


def columns(alias: str) -> str:
    """`SEAT_COLUMNS` qualified by `alias` (a statement that joins seats to another table)."""
    return ", ".join(f"{alias}.{c.strip()}" for c in SEAT_COLUMNS.split(","))


def _of(alias: str) -> str:
    return f"{alias}." if alias else ""


def lapsed(alias: str = "") -> str:
    """A hold whose time is up: free to claim already, though its row still says HELD until the
    sweeper (or the next claim) rewrites it. A held seat is never blocked (`seat_blocked_is_free`)."""
    a = _of(alias)
    return f"{a}status = 'HELD' AND {a}held_until < clock_timestamp()"


def live_hold(alias: str = "", token: str = "") -> str:
    """A hold still running (a held seat that has not `lapsed`); of `token` when given: what
    confirming or extending a hold may still touch."""
    a = _of(alias)
    of = f" AND {a}hold_token = {token}" if token else ""
    return f"{a}status = 'HELD'{of} AND {a}held_until >= clock_timestamp()"


def available(alias: str = "", *, lapsed_holds: bool = True, unblocked: bool = True) -> str:
    """The one definition of "free to claim": AVAILABLE, or a lapsed hold, and not blocked.

    A lapsed hold is as good as AVAILABLE, so expiry never depends on a background job; the clock is
    `clock_timestamp()`, since `now()` would be stale after a lock wait. Named variants, each used
    where its reason is written:

    - `lapsed_holds=False` (`AVAILABLE_NOW`): only rows that say AVAILABLE, the form the partial
      indexes `seats_best` and `seats_ga_free` match; the caller reads lapsed holds apart
      (`lapsed`) or leaves them to the sweeper.
    - `unblocked=False`: free in whatever pool, blocked or not; only allocation, which moves free
      seats between pools, asks this.
    """
    a = _of(alias)
    free = f"{a}status = 'AVAILABLE'"
    if lapsed_holds:
        free = f"({free} OR ({lapsed(alias)}))"
    return f"({a}blocked IS NULL AND {free})" if unblocked else free


AVAILABLE = available()
"""Free to claim, for statements on the seats table without an alias."""


def on_sale(alias: str = "") -> str:
    """The seat's event is selling now: inside its sales window and not cancelled.

    The window lives on the seat row itself (`sellable_from`, `sellable_until`: the event's, copied by
    `storage.venues` whenever it changes; a cancel sets `sellable_until` to `-infinity`), so a claim
    checks it on the row it locks, re-checked on the latest version like the availability: two
    comparisons, no join, no lock on the event's row.
    """
    a = _of(alias)
    return f"({a}sellable_from <= clock_timestamp() AND clock_timestamp() < {a}sellable_until)"


ON_SALE = on_sale()
"""`on_sale` for statements on the seats table without an alias."""
AVAILABLE_NOW = available(lapsed_holds=False)
"""The index-friendly variant: free and not a lapsed hold (see `available`)."""


@dataclass(frozen=True, slots=True)
class Take:
    """What a claim turns seats into, and the SQL expressions (parameters, columns) it writes.

    BOOKED needs `strategy` (and `confirming`, the hold token whose seats are booked, if any); HELD
    needs `token` and `ttl` (seconds). Booking and holding differ only here.
    """

    status: SeatStatus
    user: str
    strategy: str = ""
    confirming: str = ""
    token: str = ""
    ttl: str = ""

    @property
    def cte(self) -> str:
        """The name of the claim's CTE, which later CTEs read."""
        return "claimed" if self.status is SeatStatus.BOOKED else "held"

    def set(self) -> str:
        if self.status is SeatStatus.BOOKED:
            return (
                f"status = 'BOOKED', booked_by = {self.user}, booked_at = clock_timestamp(), version = s.version + 1,"
                " held_by = NULL, hold_token = NULL, held_until = NULL"
            )
        assert self.status is SeatStatus.HELD and self.token and self.ttl
        return (
            f"status = 'HELD', held_by = {self.user}, hold_token = {self.token},"
            f" held_until = clock_timestamp() + make_interval(secs => {self.ttl}), version = s.version + 1"
        )

    def record(self) -> str:
        """The CTE that records the claim: `booking` (one booking per seat, RETURNING id, seat_id) or
        `hold` (the hold of all its seats, written only when it got any)."""
        if self.status is SeatStatus.BOOKED:
            assert self.strategy
            token_column, token = (", hold_token", f", {self.confirming}") if self.confirming else ("", "")
            return f"""booking AS (
    INSERT INTO bookings (seat_id, user_id, strategy, created_at{token_column})
    SELECT id, booked_by, {self.strategy}, booked_at{token} FROM {self.cte} ORDER BY id
 RETURNING id, seat_id
)"""
        return f"""hold AS (
    INSERT INTO holds (token, user_id, seat_ids, expires_at)
    SELECT {self.token}, {self.user}, array_agg(id ORDER BY id), max(held_until) FROM {self.cte} HAVING count(*) > 0
 RETURNING token
)"""


def claim_cte(take: Take, *, where: str, free: str, source: str = "", returning: str = "") -> str:
    """The one claim: `UPDATE seats AS s` to `take`'s state where `where` and `free` (the
    availability as the statement decides it, re-checked on the row it locks) hold and the seat is
    `on_sale` (always: no claim can sell outside the window or after a cancel); named `take.cte`,
    returning the seat columns (plus `returning`) and followed by the claim's record and outbox CTEs."""
    from_ = f"\n      FROM {source}" if source else ""
    return f"""{take.cte} AS (
    UPDATE seats AS s
       SET {take.set()}{from_}
     WHERE {where} AND {free} AND {on_sale("s")}
 RETURNING {columns("s")}{returning}
), {take.record()}, {outbox_cte(take.cte)}"""


RELEASE = (
    "status = 'AVAILABLE', booked_by = NULL, booked_at = NULL, held_by = NULL, hold_token = NULL,"
    " held_until = NULL, version = s.version + 1"
)
"""What freeing a seat (`UPDATE seats AS s`) writes: a cancelled booking, a released or lapsed hold,
an allocation."""


def outbox(changed: str, returning: str = "seq, seat_id") -> str:
    """The outbox insert of a seat change: a `seat_events` row (seat, new version) for each seat the
    `changed` CTE wrote, in id order, in the statement that wrote them."""
    return outbox_rows(f"SELECT id, version FROM {changed} ORDER BY id", returning)


def outbox_rows(rows: str, returning: str = "seq") -> str:
    """The one outbox insert: `rows` (a query of seat id, version) become `seat_events` rows, each
    with the next sequence value. `outbox` for a statement's own changes; the relay's republish of a
    late commit (storage/outbox.py) copies existing rows through it."""
    return f"INSERT INTO seat_events (seat_id, version) {rows} RETURNING {returning}"


def outbox_cte(changed: str, returning: str = "seq, seat_id") -> str:
    """`outbox` as the CTE `event`."""
    return f"event AS ({outbox(changed, returning)})"

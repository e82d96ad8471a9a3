/**
 * Client-side seat state kept convergent with the server, at a cost per change that does not grow with the map.
 *
 * The algorithm: subscribe to the event's topic first, then load a snapshot "as of sequence N", then apply
 * only events after N, in order. Events that arrive while the snapshot loads are buffered. Any hole in the
 * sequence (a lost message, a reconnect) makes the state stale, and the caller takes a new snapshot.
 * A topic carries only its event's changes, so holes are found by `prevSequence` (the previous change on the
 * topic must already be reflected) rather than by expecting `sequence + 1`.
 * A seat is replaced only by a newer version, so duplicates and late echoes never move it backwards.
 *
 * The seats live in one mutable `Map` owned by the store: an event replaces one entry and reports its id,
 * so a burst of k changes costs O(k) (no copy of a 20,000-seat map per event). Counts are kept up to date
 * the same way. Listeners get the ids that changed (or `all` after a snapshot that moved many) and React
 * reads the store through `useSyncExternalStore` and the `revision` counter.
 *
 * No React and no I/O here: tests drive it directly.
 */
import type { Area, Booking, Inventory, Layout, Seat, SeatEvent } from "./types";

/** Events held while a snapshot loads; a burst larger than this is cheaper to resnapshot than to keep. */
export const MAX_BUFFERED_EVENTS = 10_000;

export type SyncPhase =
  /** No snapshot yet. */
  | "empty"
  /** A snapshot request is in flight; events are buffered. */
  | "loading"
  /** Snapshot applied and every event since then seen in order. */
  | "live"
  /** Something was missed; a new snapshot is needed (events are dropped until it starts). */
  | "stale";

export type SeatAction =
  | { type: "resync"; generation: number }
  | { type: "snapshot"; generation: number; inventory: Inventory }
  | { type: "event"; event: SeatEvent }
  /** Events received together (one animation frame's worth): one notification. */
  | { type: "events"; events: readonly SeatEvent[] }
  | { type: "local"; seat: Seat | Booking }
  | { type: "stale"; reason: string };

/** What one action changed: `all` after a new layout (redraw everything), else the seat ids. */
export interface Changes {
  all: boolean;
  ids: number[];
  /** Phase, sequence or other bookkeeping moved (header, banners). */
  meta: boolean;
}

export interface SeatCounts {
  total: number;
  available: number;
  booked: number;
  /** Seats in any other state, by status name. */
  other: Record<string, number>;
}

export type Listener = (changes: Changes) => void;

/** Every field of a seat: tsc checks it against the generated wire type, so a field added or dropped there fails the build. */
const SEAT_KEYS = {
  seatId: true,
  seatNumber: true,
  section: true,
  row: true,
  rowIndex: true,
  column: true,
  status: true,
  booked: true,
  bookedAt: true,
  version: true,
  held: true,
  heldUntil: true,
  eventId: true,
  category: true,
  priceCents: true,
  kind: true,
  accessibility: true,
  channel: true,
  blocked: true,
} as const satisfies Record<keyof Seat, true>;
const SEAT_FIELDS = Object.keys(SEAT_KEYS) as (keyof Seat)[];

/** Strip event/booking extras so a seat object only carries seat fields. */
export function toSeat(s: Seat): Seat {
  const out: Record<string, unknown> = {};
  for (const k of SEAT_FIELDS) out[k] = s[k];
  return out as unknown as Seat;
}

/** Field by field, so no wire field stays stale (a lapsed hold changes status, held and heldUntil at the same version). */
function sameSeat(a: Seat, b: Seat): boolean {
  return SEAT_FIELDS.every((k) => a[k] === b[k]);
}

export class SeatStore {
  layout: Layout | null = null;
  /** Mutated in place; never hand it to code that expects a snapshot in time. */
  readonly seats = new Map<number, Seat>();
  /** Highest event sequence reflected in `seats`. */
  sequence = 0;
  phase: SyncPhase = "empty";
  /** Identifies the snapshot request in flight, so an older, slower answer is ignored. */
  generation = 0;
  buffer: SeatEvent[] = [];
  bufferOverflowed = false;
  /** Why the last resync was needed (shown to curious users, asserted in tests). */
  staleReason: string | null = null;
  resyncs = 0;
  /** General-admission areas by name, with the count of tickets a buyer can take now. */
  readonly areas = new Map<string, Area>();
  /** Grows with every change of anything here (for `useSyncExternalStore`). */
  revision = 0;
  private readonly counts: SeatCounts = { total: 0, available: 0, booked: 0, other: {} };
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Apply one action and tell the listeners what moved (nothing is said when nothing moved). */
  apply(action: SeatAction): Changes {
    const changes: Changes = { all: false, ids: [], meta: false };
    this.reduce(action, changes);
    if (changes.all || changes.ids.length > 0 || changes.meta) {
      this.revision += 1;
      for (const l of this.listeners) l(changes);
    }
    return changes;
  }

  /** A copy of the counts (O(1): they are kept up to date per change). */
  seatCounts(): SeatCounts {
    return { ...this.counts, other: { ...this.counts.other } };
  }

  private count(status: string, delta: number): void {
    if (status === "AVAILABLE") this.counts.available += delta;
    else if (status === "BOOKED") this.counts.booked += delta;
    else {
      const n = (this.counts.other[status] ?? 0) + delta;
      if (n === 0) delete this.counts.other[status];
      else this.counts.other[status] = n;
    }
  }

  private put(seat: Seat, changes: Changes): void {
    const known = this.seats.get(seat.seatId);
    if (known) this.count(known.status, -1);
    else this.counts.total += 1;
    this.count(seat.status, 1);
    this.seats.set(seat.seatId, seat);
    changes.ids.push(seat.seatId);
  }

  /** Take `seat` if it is newer than what we know. */
  private merge(seat: Seat, changes: Changes): void {
    const known = this.seats.get(seat.seatId);
    if (!known || known.version >= seat.version) return;
    this.put(toSeat(seat), changes);
  }

  private markStale(reason: string, changes: Changes): void {
    this.phase = "stale";
    this.buffer = [];
    this.bufferOverflowed = false;
    this.staleReason = reason;
    changes.meta = true;
  }

  /** One in-order event on a live state; goes stale on a hole or an impossible event. */
  private applyLive(event: SeatEvent, changes: Changes): void {
    if (event.sequence <= this.sequence) {
      // A duplicate, or a change committed late behind a snapshot that already counted past it:
      // versions only grow, so taking the newer one is always safe.
      this.merge(event, changes);
      return;
    }
    if (event.prevSequence !== undefined) {
      if (event.prevSequence > this.sequence) {
        this.markStale(`gap: missed sequence ${event.prevSequence} (seen up to ${this.sequence})`, changes);
        return;
      }
    } else if (event.sequence !== this.sequence + 1) {
      this.markStale(`gap: expected sequence ${this.sequence + 1}, got ${event.sequence}`, changes);
      return;
    }
    if (event.kind === "GA") {
      // A general-admission ticket: not on the map; its area's count is what moves.
      this.applyArea(event);
      this.sequence = event.sequence;
      changes.meta = true;
      return;
    }
    if (!this.seats.has(event.seatId)) {
      this.markStale(`unknown seat ${event.seatId}`, changes);
      return;
    }
    this.merge(event, changes);
    this.sequence = event.sequence;
    changes.meta = true;
  }

  private applyArea(event: SeatEvent): void {
    const area = this.areas.get(event.section);
    if (area && typeof event.areaAvailable === "number") this.areas.set(area.name, { ...area, available: event.areaAvailable });
  }

  private applySnapshot(inventory: Inventory, changes: Changes): void {
    const sameLayout = this.layout !== null && JSON.stringify(this.layout) === JSON.stringify(inventory.layout);
    if (!sameLayout) {
      // A new map (first load or another event): replace everything.
      this.layout = inventory.layout;
      this.seats.clear();
      this.counts.total = 0;
      this.counts.available = 0;
      this.counts.booked = 0;
      this.counts.other = {};
      for (const seat of inventory.seats) this.put(seat, changes);
      changes.all = true;
      changes.ids = [];
    } else {
      // Same map: keep the objects of unchanged seats, so only what moved is redrawn.
      const present = new Set<number>();
      for (const seat of inventory.seats) {
        present.add(seat.seatId);
        const known = this.seats.get(seat.seatId);
        if (!known || !sameSeat(known, seat)) this.put(seat, changes);
      }
      for (const id of [...this.seats.keys()]) {
        if (present.has(id)) continue;
        const gone = this.seats.get(id);
        if (gone) this.count(gone.status, -1);
        this.counts.total -= 1;
        this.seats.delete(id);
        changes.all = true;
      }
    }
    this.areas.clear();
    for (const area of (inventory as { areas?: Area[] }).areas ?? []) this.areas.set(area.name, area);
    this.sequence = inventory.sequence;
    this.phase = "live";
    this.staleReason = null;
    changes.meta = true;
    const overflowed = this.bufferOverflowed;
    const pending = this.buffer.sort((a, b) => a.sequence - b.sequence);
    this.buffer = [];
    this.bufferOverflowed = false;
    if (overflowed) {
      this.markStale("too many events while loading the snapshot", changes);
      return;
    }
    for (const event of pending) {
      if (event.sequence <= inventory.sequence) {
        // Already reflected in the snapshot; a newer version is still safe to take.
        if (event.kind !== "GA") this.merge(event, changes);
        continue;
      }
      this.applyLive(event, changes);
      if (this.phase !== "live") return;
    }
  }

  private reduce(action: SeatAction, changes: Changes): void {
    switch (action.type) {
      case "resync":
        this.phase = "loading";
        this.generation = action.generation;
        this.buffer = [];
        this.bufferOverflowed = false;
        this.resyncs += 1;
        changes.meta = true;
        return;
      case "snapshot":
        if (action.generation !== this.generation || this.phase !== "loading") return;
        this.applySnapshot(action.inventory, changes);
        return;
      case "event": {
        const { event } = action;
        if (this.phase === "live") this.applyLive(event, changes);
        else if (this.phase === "stale" || this.bufferOverflowed) return;
        else if (this.buffer.length >= MAX_BUFFERED_EVENTS) {
          this.buffer = [];
          this.bufferOverflowed = true;
        } else this.buffer.push(event);
        return;
      }
      case "events":
        for (const event of action.events) this.reduce({ type: "event", event }, changes);
        return;
      case "local":
        // Our own answer: show it at once, but leave the sequence to the event stream.
        this.merge(action.seat, changes);
        return;
      case "stale":
        this.markStale(action.reason, changes);
        return;
    }
  }
}

/** Counts of any seat collection (tests, and callers holding plain lists). */
export function countSeats(seats: Iterable<Seat>): SeatCounts {
  const counts: SeatCounts = { total: 0, available: 0, booked: 0, other: {} };
  for (const seat of seats) {
    counts.total += 1;
    if (seat.status === "AVAILABLE") counts.available += 1;
    else if (seat.status === "BOOKED") counts.booked += 1;
    else counts.other[seat.status] = (counts.other[seat.status] ?? 0) + 1;
  }
  return counts;
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNullOr = <T>(v: unknown, is: (v: unknown) => v is T): v is T | null => v === null || is(v);

/** A STOMP message body as a seat event, or null when it is not one (never trust the wire). */
export function parseSeatEvent(body: string): SeatEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const ok =
    isInt(v.seatId) &&
    isInt(v.sequence) &&
    (v.prevSequence === undefined || isInt(v.prevSequence)) &&
    isInt(v.version) &&
    isStr(v.seatNumber) &&
    isStr(v.section) &&
    isStr(v.row) &&
    isInt(v.rowIndex) &&
    isInt(v.column) &&
    isStr(v.status) &&
    typeof v.booked === "boolean" &&
    (v.bookedAt === null || v.bookedAt === undefined || isStr(v.bookedAt)) &&
    typeof v.held === "boolean" &&
    isNullOr(v.heldUntil, isStr) &&
    isInt(v.eventId) &&
    isNullOr(v.category, isStr) &&
    isNullOr(v.priceCents, isInt) &&
    (v.kind === undefined || isStr(v.kind)) &&
    (v.accessibility === undefined || isNullOr(v.accessibility, isStr)) &&
    (v.channel === undefined || isNullOr(v.channel, isStr)) &&
    (v.blocked === undefined || typeof v.blocked === "boolean") &&
    (v.areaAvailable === undefined || isNullOr(v.areaAvailable, isInt));
  if (!ok) return null;
  return {
    seatId: v.seatId as number,
    sequence: v.sequence as number,
    version: v.version as number,
    seatNumber: v.seatNumber as string,
    section: v.section as string,
    row: v.row as string,
    rowIndex: v.rowIndex as number,
    column: v.column as number,
    status: v.status as string,
    booked: v.booked as boolean,
    bookedAt: (v.bookedAt as string | null | undefined) ?? null,
    held: v.held as boolean,
    heldUntil: v.heldUntil as string | null,
    eventId: v.eventId as number,
    category: v.category as string | null,
    priceCents: v.priceCents as number | null,
    kind: (v.kind as string | undefined) ?? "SEAT",
    accessibility: (v.accessibility as string | null | undefined) ?? null,
    channel: (v.channel as string | null | undefined) ?? null,
    blocked: (v.blocked as boolean | undefined) ?? false,
    ...(isInt(v.prevSequence) ? { prevSequence: v.prevSequence } : {}),
    ...(v.areaAvailable !== undefined ? { areaAvailable: v.areaAvailable as number | null } : {}),
  };
}

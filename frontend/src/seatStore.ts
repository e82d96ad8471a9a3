/**
 * Client-side seat state kept convergent with the server.
 *
 * The algorithm: subscribe to `/topic/seats` first, then load a snapshot "as of sequence N", then apply
 * only events after N, in order. Events that arrive while the snapshot loads are buffered. Any hole in the
 * sequence (a lost message, a reconnect) makes the state stale, and the caller takes a new snapshot.
 * The topic carries only the default event's changes, so holes are found by `prevSequence` (the previous
 * change on the topic must already be reflected) rather than by expecting `sequence + 1`.
 * A seat is replaced only by a newer version, so duplicates and late echoes never move it backwards.
 *
 * Everything here is pure: React drives it through `useReducer`, tests drive it directly.
 */
import type { Booking, Inventory, Layout, Seat, SeatEvent } from "./types";

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

export interface SeatState {
  layout: Layout | null;
  seats: ReadonlyMap<number, Seat>;
  /** Highest event sequence reflected in `seats`. */
  sequence: number;
  phase: SyncPhase;
  /** Identifies the snapshot request in flight, so an older, slower answer is ignored. */
  generation: number;
  buffer: readonly SeatEvent[];
  bufferOverflowed: boolean;
  /** Why the last resync was needed (shown to curious users, asserted in tests). */
  staleReason: string | null;
  resyncs: number;
}

export type SeatAction =
  | { type: "resync"; generation: number }
  | { type: "snapshot"; generation: number; inventory: Inventory }
  | { type: "event"; event: SeatEvent }
  /** Events received together (one animation frame's worth): one state change, one render. */
  | { type: "events"; events: readonly SeatEvent[] }
  | { type: "local"; seat: Seat | Booking }
  | { type: "stale"; reason: string };

export const initialSeatState: SeatState = {
  layout: null,
  seats: new Map(),
  sequence: 0,
  phase: "empty",
  generation: 0,
  buffer: [],
  bufferOverflowed: false,
  staleReason: null,
  resyncs: 0,
};

function stale(state: SeatState, reason: string): SeatState {
  return { ...state, phase: "stale", buffer: [], bufferOverflowed: false, staleReason: reason };
}

/** The map with `seat` in it if it is newer than what we know; the same map object otherwise. */
function merge(seats: ReadonlyMap<number, Seat>, seat: Seat): ReadonlyMap<number, Seat> {
  const known = seats.get(seat.seatId);
  if (known && known.version >= seat.version) return seats;
  const next = new Map(seats);
  next.set(seat.seatId, toSeat(seat));
  return next;
}

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
} as const satisfies Record<keyof Seat, true>;
const SEAT_FIELDS = Object.keys(SEAT_KEYS) as (keyof Seat)[];

/** Strip event/booking extras so a seat object only carries seat fields. */
function toSeat(s: Seat): Seat {
  return Object.fromEntries(SEAT_FIELDS.map((k) => [k, s[k]])) as Seat;
}

/** Apply one in-order event on a live state; returns a stale state on a hole or an impossible event. */
function applyLive(state: SeatState, event: SeatEvent): SeatState {
  if (event.sequence <= state.sequence) {
    // A duplicate, or a change committed late behind a snapshot that already counted past it:
    // versions only grow, so taking the newer one is always safe.
    const seats = state.seats.has(event.seatId) ? merge(state.seats, event) : state.seats;
    return seats === state.seats ? state : { ...state, seats };
  }
  if (event.prevSequence !== undefined) {
    if (event.prevSequence > state.sequence) {
      return stale(state, `gap: missed sequence ${event.prevSequence} (seen up to ${state.sequence})`);
    }
  } else if (event.sequence !== state.sequence + 1) {
    return stale(state, `gap: expected sequence ${state.sequence + 1}, got ${event.sequence}`);
  }
  if (!state.seats.has(event.seatId)) return stale(state, `unknown seat ${event.seatId}`);
  return { ...state, seats: merge(state.seats, event), sequence: event.sequence };
}

/** Field by field, so no wire field stays stale (a lapsed hold changes status, held and heldUntil at the same version). */
function sameSeat(a: Seat, b: Seat): boolean {
  return SEAT_FIELDS.every((k) => a[k] === b[k]);
}

function applySnapshot(state: SeatState, inventory: Inventory): SeatState {
  // Keep the objects of unchanged seats (and an unchanged layout), so a resync re-renders only what moved.
  const seats = new Map<number, Seat>();
  for (const seat of inventory.seats) {
    const known = state.seats.get(seat.seatId);
    seats.set(seat.seatId, known && sameSeat(known, seat) ? known : toSeat(seat));
  }
  const layout =
    state.layout && JSON.stringify(state.layout) === JSON.stringify(inventory.layout) ? state.layout : inventory.layout;
  let next: SeatState = {
    ...state,
    layout,
    seats,
    sequence: inventory.sequence,
    phase: "live",
    buffer: [],
    bufferOverflowed: false,
    staleReason: null,
  };
  if (state.bufferOverflowed) return stale(next, "too many events while loading the snapshot");
  const pending = [...state.buffer].sort((a, b) => a.sequence - b.sequence);
  for (const event of pending) {
    if (event.sequence <= inventory.sequence) {
      // Already reflected in the snapshot; a newer version is still safe to take.
      if (next.seats.has(event.seatId)) next = { ...next, seats: merge(next.seats, event) };
      continue;
    }
    next = applyLive(next, event);
    if (next.phase === "stale") return next;
  }
  return next;
}

export function seatReducer(state: SeatState, action: SeatAction): SeatState {
  switch (action.type) {
    case "resync":
      return {
        ...state,
        phase: "loading",
        generation: action.generation,
        buffer: [],
        bufferOverflowed: false,
        resyncs: state.resyncs + 1,
      };
    case "snapshot":
      if (action.generation !== state.generation || state.phase !== "loading") return state;
      return applySnapshot(state, action.inventory);
    case "event": {
      const { event } = action;
      if (state.phase === "live") return applyLive(state, event);
      if (state.phase === "stale") return state;
      if (state.buffer.length >= MAX_BUFFERED_EVENTS) return { ...state, buffer: [], bufferOverflowed: true };
      if (state.bufferOverflowed) return state;
      return { ...state, buffer: [...state.buffer, event] };
    }
    case "events":
      return action.events.reduce((st, event) => seatReducer(st, { type: "event", event }), state);
    case "local": {
      // Our own booking answer: show it at once, but leave the sequence to the event stream.
      if (!state.seats.has(action.seat.seatId)) return state;
      const seats = merge(state.seats, action.seat);
      return seats === state.seats ? state : { ...state, seats };
    }
    case "stale":
      return stale(state, action.reason);
  }
}

export interface SeatCounts {
  total: number;
  available: number;
  booked: number;
  /** Seats in any other state, by status name. */
  other: Record<string, number>;
}

export function countSeats(seats: ReadonlyMap<number, Seat>): SeatCounts {
  const counts: SeatCounts = { total: 0, available: 0, booked: 0, other: {} };
  for (const seat of seats.values()) {
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
    isNullOr(v.priceCents, isInt);
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
    ...(isInt(v.prevSequence) ? { prevSequence: v.prevSequence } : {}),
  };
}

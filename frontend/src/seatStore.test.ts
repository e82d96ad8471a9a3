import { describe, expect, it } from "vitest";
import { MAX_BUFFERED_EVENTS, SeatStore, countSeats, parseSeatEvent, type SeatAction } from "./seatStore";
import { toSeat } from "./seatStore";
import { bookedEvent, makeInventory, seatOf } from "./test/fixtures";
import type { Inventory } from "./types";

function run(actions: SeatAction[], from: SeatStore = new SeatStore()): SeatStore {
  for (const action of actions) from.apply(action);
  return from;
}
const seatReducer = (state: SeatStore, action: SeatAction): SeatStore => run([action], state);

function liveAt(inventory: Inventory): SeatStore {
  return run([
    { type: "resync", generation: 1 },
    { type: "snapshot", generation: 1, inventory },
  ]);
}

describe("SeatStore", () => {
  const inv = makeInventory([{ name: "Main", rows: 2, columns: 3 }], 10);
  const a1 = seatOf(inv, "A1");
  const a2 = seatOf(inv, "A2");
  const b3 = seatOf(inv, "B3");

  it("goes live from a snapshot and applies the next events in order", () => {
    let state = liveAt(inv);
    expect(state.phase).toBe("live");
    expect(state.sequence).toBe(10);
    expect(state.seats.size).toBe(6);
    state = run([{ type: "event", event: bookedEvent(a1, 11, "ann") }, { type: "event", event: bookedEvent(b3, 12, "bob") }], state);
    expect(state.phase).toBe("live");
    expect(state.sequence).toBe(12);
    expect(state.seats.get(a1.seatId)?.bookedAt).toBe("ann");
    expect(state.seats.get(b3.seatId)?.status).toBe("BOOKED");
  });

  it("touches only the changed seat and reports just its id (O(changed), no copy of the map)", () => {
    const state = liveAt(inv);
    const seats = state.seats;
    const before = state.seats.get(a2.seatId);
    const seen: number[][] = [];
    state.subscribe((c) => seen.push(c.ids));
    const changes = state.apply({ type: "event", event: bookedEvent(a1, 11) });
    expect(changes).toEqual({ all: false, ids: [a1.seatId], meta: true });
    expect(seen).toEqual([[a1.seatId]]);
    expect(state.seats).toBe(seats);
    expect(state.seats.get(a2.seatId)).toBe(before);
    expect(state.seatCounts()).toEqual({ total: 6, available: 5, booked: 1, other: {} });
  });

  it("buffers events that arrive while the snapshot loads, then replays those after it", () => {
    const state = run([
      { type: "resync", generation: 1 },
      { type: "event", event: bookedEvent(a1, 10, "covered") }, // already in the snapshot
      { type: "event", event: bookedEvent(b3, 12, "second") }, // out of order on purpose
      { type: "event", event: bookedEvent(a2, 11, "first") },
    ]);
    expect(state.phase).toBe("loading");
    expect(state.buffer).toHaveLength(3);
    const done = seatReducer(state, { type: "snapshot", generation: 1, inventory: inv });
    expect(done.phase).toBe("live");
    expect(done.sequence).toBe(12);
    expect(done.seats.get(a2.seatId)?.bookedAt).toBe("first");
    expect(done.seats.get(b3.seatId)?.bookedAt).toBe("second");
    expect(done.buffer).toHaveLength(0);
  });

  it("with prevSequence, skipped values (other events' changes) are no gap", () => {
    const state = run(
      [
        { type: "event", event: { ...bookedEvent(a1, 15, "ann"), prevSequence: 10 } },
        { type: "event", event: { ...bookedEvent(b3, 21, "bob"), prevSequence: 15 } },
      ],
      liveAt(inv),
    );
    expect(state.phase).toBe("live");
    expect(state.sequence).toBe(21);
    expect(state.seats.get(b3.seatId)?.bookedAt).toBe("bob");
  });

  it("with prevSequence, goes stale when the previous change on the topic was missed", () => {
    const state = run(
      [
        { type: "event", event: { ...bookedEvent(a1, 15, "ann"), prevSequence: 7 } },
        { type: "event", event: { ...bookedEvent(b3, 21, "bob"), prevSequence: 18 } },
      ],
      liveAt(inv),
    );
    expect(state.phase).toBe("stale");
    expect(state.staleReason).toBe("gap: missed sequence 18 (seen up to 15)");
    expect(state.seats.get(b3.seatId)?.status).toBe("AVAILABLE");
  });

  it("with prevSequence, replays buffered events after a snapshot whose sequence is not one of the topic's", () => {
    const state = run([
      { type: "resync", generation: 1 },
      { type: "event", event: { ...bookedEvent(a2, 9, "covered"), prevSequence: 4 } },
      { type: "event", event: { ...bookedEvent(a1, 14, "first"), prevSequence: 9 } },
      { type: "event", event: { ...bookedEvent(b3, 17, "second"), prevSequence: 14 } },
      { type: "snapshot", generation: 1, inventory: inv },
    ]);
    expect(state.phase).toBe("live");
    expect(state.sequence).toBe(17);
    expect(state.seats.get(a1.seatId)?.bookedAt).toBe("first");
    expect(state.seats.get(b3.seatId)?.bookedAt).toBe("second");
  });

  it("goes stale on a sequence gap, naming it", () => {
    const state = seatReducer(liveAt(inv), { type: "event", event: bookedEvent(a1, 12) });
    expect(state.phase).toBe("stale");
    expect(state.staleReason).toBe("gap: expected sequence 11, got 12");
    // The seat was not changed from a message after a hole.
    expect(state.seats.get(a1.seatId)?.status).toBe("AVAILABLE");
    // Further events are dropped until the resync starts.
    expect(state.apply({ type: "event", event: bookedEvent(a1, 11) })).toEqual({ all: false, ids: [], meta: false });
  });

  it("goes stale when the buffered events after the snapshot have a hole", () => {
    const state = run([
      { type: "resync", generation: 1 },
      { type: "event", event: bookedEvent(a1, 11) },
      { type: "event", event: bookedEvent(a2, 13) },
      { type: "snapshot", generation: 1, inventory: inv },
    ]);
    expect(state.phase).toBe("stale");
    expect(state.staleReason).toContain("expected sequence 12, got 13");
  });

  it("ignores duplicates and versions older than the one it holds", () => {
    let state = liveAt(inv);
    state = seatReducer(state, { type: "event", event: bookedEvent(a1, 11, "ann", 5) });
    const rev = state.revision;
    expect(state.apply({ type: "event", event: bookedEvent(a1, 11, "ann", 5) }).ids).toEqual([]);
    expect(state.revision).toBe(rev);
    const older = seatReducer(state, { type: "event", event: { ...bookedEvent(a2, 12, "x", 1), seatId: a1.seatId, version: 4 } });
    expect(older.sequence).toBe(12);
    expect(older.seats.get(a1.seatId)?.bookedAt).toBe("ann");
    expect(older.seats.get(a1.seatId)?.version).toBe(5);
  });

  it("takes a late-committed change whose sequence the snapshot already counted past", () => {
    const state = seatReducer(liveAt(inv), { type: "event", event: bookedEvent(a2, 9, "late") });
    expect(state.phase).toBe("live");
    expect(state.sequence).toBe(10);
    expect(state.seats.get(a2.seatId)?.bookedAt).toBe("late");
  });

  it("keeps unchanged seats and layout identical across a resnapshot", () => {
    const first = liveAt(inv);
    const layout = first.layout;
    const a2Before = first.seats.get(a2.seatId);
    const later = structuredClone(inv);
    later.sequence = 11;
    later.seats[0] = toSeat(bookedEvent(a1, 11, "zed"));
    first.apply({ type: "resync", generation: 2 });
    const changes = first.apply({ type: "snapshot", generation: 2, inventory: later });
    expect(changes.all).toBe(false);
    expect(changes.ids).toEqual([a1.seatId]);
    expect(first.layout).toBe(layout);
    expect(first.seats.get(a2.seatId)).toBe(a2Before);
    expect(first.seats.get(a1.seatId)?.bookedAt).toBe("zed");
  });

  it("ignores a snapshot from an older request", () => {
    const state = run([
      { type: "resync", generation: 1 },
      { type: "resync", generation: 2 },
      { type: "snapshot", generation: 1, inventory: makeInventory(undefined, 99) },
    ]);
    expect(state.phase).toBe("loading");
    expect(state.layout).toBeNull();
    const fresh = seatReducer(state, { type: "snapshot", generation: 2, inventory: inv });
    expect(fresh.sequence).toBe(10);
    expect(fresh.resyncs).toBe(2);
  });

  it("resnapshots instead of buffering without bound", () => {
    let state = seatReducer(new SeatStore(), { type: "resync", generation: 1 });
    for (let i = 0; i <= MAX_BUFFERED_EVENTS; i++) {
      state = seatReducer(state, { type: "event", event: bookedEvent(a1, 11 + i) });
    }
    expect(state.bufferOverflowed).toBe(true);
    expect(state.buffer).toHaveLength(0);
    const after = seatReducer(state, { type: "snapshot", generation: 1, inventory: inv });
    expect(after.phase).toBe("stale");
    expect(after.staleReason).toContain("too many events");
  });

  it("treats an event for a seat it does not know as a reason to resnapshot", () => {
    const state = seatReducer(liveAt(inv), { type: "event", event: { ...bookedEvent(a1, 11), seatId: 999 } });
    expect(state.phase).toBe("stale");
  });

  it("applies our own booking answer by version without moving the sequence", () => {
    const state = liveAt(inv);
    const booking = { ...bookedEvent(a1, 11, "me"), bookingId: 1, userId: "session:me", strategy: "ATOMIC" as const, manageToken: null };
    const mine = seatReducer(state, { type: "local", seat: booking });
    expect(mine.sequence).toBe(10);
    expect(mine.seats.get(a1.seatId)?.bookedAt).toBe("me");
    expect(mine.seats.get(a1.seatId)).not.toHaveProperty("bookingId");
    // The event for the same change then only advances the sequence.
    const echoed = mine.apply({ type: "event", event: bookedEvent(a1, 11, "me") });
    expect(mine.sequence).toBe(11);
    expect(echoed.ids).toEqual([]);
  });

  it("applies a batch exactly as the same events one by one, stopping at a gap", () => {
    const events = [bookedEvent(a1, 11, "p"), bookedEvent(a2, 12, "q"), bookedEvent(b3, 14, "r")];
    const batched = seatReducer(liveAt(inv), { type: "events", events: events.map((e) => ({ ...e })) });
    const single = run(events.map((event) => ({ type: "event", event }) as SeatAction), liveAt(inv));
    expect(batched.phase).toBe("stale");
    expect(batched.staleReason).toBe(single.staleReason);
    expect([...batched.seats.values()]).toEqual([...single.seats.values()]);
    expect(batched.seats.get(a2.seatId)?.bookedAt).toBe("q");
    expect(batched.seats.get(b3.seatId)?.status).toBe("AVAILABLE");
  });

  it("resyncs from scratch when told the link was lost", () => {
    const state = seatReducer(liveAt(inv), { type: "stale", reason: "reconnected" });
    expect(state.phase).toBe("stale");
    expect(state.staleReason).toBe("reconnected");
    expect(seatReducer(state, { type: "resync", generation: 5 }).phase).toBe("loading");
  });
});

describe("countSeats", () => {
  it("counts available, booked and any other state by name", () => {
    const inv = makeInventory([{ name: "Main", rows: 1, columns: 4 }]);
    const [s1, s2, s3] = inv.seats;
    const seats = new Map(inv.seats.map((s) => [s.seatId, s]));
    seats.set(s1!.seatId, { ...s1!, status: "BOOKED" });
    seats.set(s2!.seatId, { ...s2!, status: "HELD" });
    seats.set(s3!.seatId, { ...s3!, status: "REFUNDED" });
    expect(countSeats(seats.values())).toEqual({ total: 4, available: 1, booked: 1, other: { HELD: 1, REFUNDED: 1 } });
  });
});

describe("parseSeatEvent", () => {
  const seat = makeInventory().seats[0]!;
  it("accepts a seat plus sequence", () => {
    expect(parseSeatEvent(JSON.stringify({ ...seat, sequence: 3 }))).toEqual({ ...seat, sequence: 3 });
  });
  it("keeps a hold and the seat's category and price", () => {
    const held = { ...seat, status: "HELD", held: true, heldUntil: "2026-11-25T01:05:00Z", category: "VIP", priceCents: 9000 };
    expect(parseSeatEvent(JSON.stringify({ ...held, sequence: 4 }))).toEqual({ ...held, sequence: 4 });
  });
  it("keeps prevSequence when present", () => {
    const body = JSON.stringify({ ...seat, sequence: 9, prevSequence: 4 });
    expect(parseSeatEvent(body)).toEqual({ ...seat, sequence: 9, prevSequence: 4 });
  });
  it.each([
    ["not json", "{"],
    ["fractional prevSequence", JSON.stringify({ ...seat, sequence: 2, prevSequence: 0.5 })],
    ["string prevSequence", JSON.stringify({ ...seat, sequence: 2, prevSequence: "1" })],
    ["not an object", "42"],
    ["no sequence", JSON.stringify(seat)],
    ["string id", JSON.stringify({ ...seat, seatId: "1", sequence: 1 })],
    ["fractional sequence", JSON.stringify({ ...seat, sequence: 1.5 })],
    ["bad bookedAt", JSON.stringify({ ...seat, sequence: 1, bookedAt: 7 })],
    ["no held", JSON.stringify({ ...seat, sequence: 1, held: undefined })],
    ["numeric heldUntil", JSON.stringify({ ...seat, sequence: 1, heldUntil: 5 })],
    ["no eventId", JSON.stringify({ ...seat, sequence: 1, eventId: undefined })],
    ["fractional priceCents", JSON.stringify({ ...seat, sequence: 1, priceCents: 12.5 })],
  ])("rejects %s", (_, body) => {
    expect(parseSeatEvent(body)).toBeNull();
  });
});

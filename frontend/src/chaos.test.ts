import { describe, expect, it } from "vitest";
import type { BookingOutcome, Buyer } from "./api";
import { MAX_CHAOS_REQUESTS, clampChaosCount, percentile, runChaos } from "./chaos";
import { bookedEvent, makeInventory } from "./test/fixtures";

/** A fake server with the engine's one rule: the first request for a seat wins, the rest get 409. */
function fakeServer(opts: { failEvery?: number } = {}) {
  const owners = new Map<number, string>();
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const seat = makeInventory().seats[0]!;
  const book = async (seatId: number, buyer: Buyer, _strategy?: string): Promise<BookingOutcome> => {
    const userId = "userId" in buyer ? buyer.userId : "session";
    const n = ++calls;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight -= 1;
    if (opts.failEvery && n % opts.failEvery === 0) {
      return { ok: false, status: 503, error: null, message: "busy", latencyMs: 3 };
    }
    if (owners.has(seatId)) return { ok: false, status: 409, error: null, message: "taken", latencyMs: 2 };
    owners.set(seatId, userId);
    const booking = { ...bookedEvent({ ...seat, seatId }, 1), bookingId: 1, userId, strategy: "ATOMIC" as const, manageToken: "m" };
    return { ok: true, booking, latencyMs: 1 };
  };
  return { book, owners, stats: () => ({ calls, maxInFlight }) };
}

describe("runChaos", () => {
  it("fires all requests at once and counts one winner and N-1 conflicts", async () => {
    const server = fakeServer();
    const result = await runChaos(server.book, 7, 50, "chaos-x", "REDIS");
    expect(server.stats().calls).toBe(50);
    expect(server.stats().maxInFlight).toBe(50);
    expect(result.winners).toEqual([server.owners.get(7)]);
    expect(result.conflicts).toBe(49);
    expect(result.errors).toEqual({});
    expect(result.strategy).toBe("REDIS");
    expect(result.latency.min).toBeLessThanOrEqual(result.latency.p50);
    expect(result.latency.p95).toBeLessThanOrEqual(result.latency.max);
  });

  it("uses a distinct bare user name per request (no session: each is a different buyer)", async () => {
    const seen = new Set<string>();
    const server = fakeServer();
    await runChaos(async (id, buyer, s) => ("userId" in buyer && seen.add(buyer.userId), server.book(id, buyer, s)), 1, 20, "p", "DB");
    expect(seen.size).toBe(20);
  });

  it("reports other failures by status instead of hiding them", async () => {
    const server = fakeServer({ failEvery: 4 });
    const result = await runChaos(server.book, 2, 12, "p", "ATOMIC");
    expect(result.errors).toEqual({ "503": 3 });
    expect(result.winners.length + result.conflicts + 3).toBe(12);
  });

  it("bounds the request count", async () => {
    const server = fakeServer();
    const result = await runChaos(server.book, 3, 10_000, "p", "ATOMIC");
    expect(result.requests).toBe(MAX_CHAOS_REQUESTS);
    expect(server.stats().calls).toBe(MAX_CHAOS_REQUESTS);
    expect(clampChaosCount(0)).toBe(1);
    expect(clampChaosCount(Number.NaN)).toBe(1);
    expect(clampChaosCount(12.7)).toBe(12);
  });
});

describe("percentile", () => {
  it("uses nearest rank", () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 95)).toBe(10);
    expect(percentile([], 50)).toBe(0);
  });
});

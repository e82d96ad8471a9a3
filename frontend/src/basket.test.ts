import { describe, expect, it } from "vitest";
import { MAX_PER_ORDER, basketLines, basketTotal, formatCountdown, nameSeats, secondsLeft, takenSeats, toggleSeat } from "./basket";
import { makeInventory } from "./test/fixtures";
import type { Seat } from "./types";

const inv = makeInventory([{ name: "Stalls", rows: 2, columns: 8 }, { name: "Balcony", rows: 1, columns: 4 }]);
const priced = inv.seats.map((s) => ({ ...s, category: s.section === "Stalls" ? "VIP" : "BAL", priceCents: s.section === "Stalls" ? 9000 : 2500 }));
const seats = new Map<number, Seat>(priced.map((s) => [s.seatId, s]));
const seat = (n: number) => seats.get(n)!;

describe("basket", () => {
  it("toggles a seat in and out", () => {
    const added = toggleSeat([], seat(1));
    expect(added).toEqual({ ids: [1], refused: null });
    expect(toggleSeat(added.ids, seat(1))).toEqual({ ids: [], refused: null });
  });

  it("enforces the per-order maximum and names the reason", () => {
    let ids: number[] = [];
    for (let i = 1; i <= MAX_PER_ORDER; i++) ids = toggleSeat(ids, seat(i)).ids;
    expect(ids).toHaveLength(MAX_PER_ORDER);
    expect(toggleSeat(ids, seat(MAX_PER_ORDER + 1))).toEqual({ ids, refused: "limit" });
    // Taking one out is always allowed.
    expect(toggleSeat(ids, seat(1)).ids).toHaveLength(MAX_PER_ORDER - 1);
  });

  it("refuses seats that are not available", () => {
    const booked = { ...seat(3), status: "BOOKED" };
    expect(toggleSeat([1], booked)).toEqual({ ids: [1], refused: "unavailable" });
  });

  it("finds basket seats taken by others among the changed ids only", () => {
    const now = new Map(seats);
    now.set(2, { ...seat(2), status: "HELD" });
    now.set(5, { ...seat(5), status: "BOOKED" });
    now.set(9, { ...seat(9), status: "BOOKED" });
    const basket = new Set([1, 2, 5]);
    expect(takenSeats(basket, [2, 9], now, new Set())).toEqual([2]);
    expect(takenSeats(basket, [2, 5, 9], now, new Set([5]))).toEqual([2]);
  });

  it("lists place, category and price and sums the total", () => {
    const lines = basketLines([1, 17, 999], seats);
    expect(lines.map((l) => l.label)).toEqual(["Stalls · Row A · Seat 1", "Balcony · Row A · Seat 1", "Seat #999"]);
    expect(lines.map((l) => l.category)).toEqual(["VIP", "BAL", null]);
    expect(basketTotal(lines)).toEqual({ cents: 11500, unpriced: 1 });
  });

  it("names seats for messages", () => {
    expect(nameSeats([1], seats)).toBe("Stalls A1");
    expect(nameSeats([1, 2, 17], seats)).toBe("Stalls A1, Stalls A2 and Balcony A1");
  });

  it("counts down from expiresAt", () => {
    const now = Date.parse("2026-11-27T20:00:00Z");
    expect(secondsLeft("2026-11-27T20:05:00Z", now)).toBe(300);
    expect(secondsLeft("2026-11-27T19:59:00Z", now)).toBe(0);
    expect(formatCountdown(65)).toBe("1:05");
  });
});

import { describe, expect, it } from "vitest";
import { buildModel, findSeats, moveFocus, parseSeatQuery, seatAt, seatOrigin, SEAT } from "./mapModel";
import { makeInventory } from "./test/fixtures";
import type { Seat } from "./types";

const inv = makeInventory([
  { name: "Stalls", rows: 3, columns: 4 },
  { name: "Circle", rows: 2, columns: 3 },
  { name: "Boxes", rows: 1, columns: 2 },
]);
const seats = new Map<number, Seat>(inv.seats.map((s) => [s.seatId, s]));
const model = buildModel(inv.layout, inv.seats);
const id = (n: string) => inv.seats.find((s) => s.seatNumber === n)!.seatId;

describe("map model", () => {
  it("hit-tests every seat at its own origin", () => {
    for (const s of inv.seats) {
      const o = seatOrigin(model, s)!;
      expect(seatAt(model, o.x + SEAT / 2, o.y + SEAT / 2)).toBe(s.seatId);
    }
    expect(seatAt(model, -50, -50)).toBe(0);
  });

  it("reaches every seat of every section with arrow keys alone", () => {
    const seen = new Set<number>();
    let at = moveFocus(model, seats, 0, "first");
    for (let i = 0; i < 100 && at; i++) {
      seen.add(at);
      const next = moveFocus(model, seats, at, "right");
      if (next === at) break;
      at = next;
    }
    expect(seen.size).toBe(inv.seats.length);
  });

  it("moves down out of a section into the next and up back", () => {
    const down = moveFocus(model, seats, id("Stalls-C2"), "down");
    expect(down).toBe(id("Circle-A2"));
    expect(moveFocus(model, seats, down, "up")).toBe(id("Stalls-C2"));
    expect(moveFocus(model, seats, id("Stalls-B2"), "nextSection")).toBe(id("Circle-A1"));
    expect(moveFocus(model, seats, id("Circle-A1"), "prevSection")).toBe(id("Stalls-A1"));
    expect(moveFocus(model, seats, 0, "last")).toBe(id("Boxes-A1"));
    expect(moveFocus(model, seats, id("Stalls-B2"), "end")).toBe(id("Stalls-B4"));
  });

  it.each([
    ["row C seat 12", { section: null, row: "C", column: 12 }],
    ["C12", { section: null, row: "C", column: 12 }],
    ["c 12", { section: null, row: "C", column: 12 }],
    ["Balcony C12", { section: "Balcony", row: "C", column: 12 }],
    ["Balcony row C seat 12", { section: "Balcony", row: "C", column: 12 }],
    ["seat 12 row C", { section: null, row: "C", column: 12 }],
    ["Stalls-B3", { section: "Stalls", row: "B", column: 3 }],
  ])("reads %s", (text, expected) => {
    expect(parseSeatQuery(text)).toEqual(expected);
  });

  it("refuses what names no seat", () => {
    expect(parseSeatQuery("")).toBeNull();
    expect(parseSeatQuery("hello")).toBeNull();
  });

  it("finds seats by query, in one section or in all", () => {
    expect(findSeats(model, { section: null, row: "A", column: 2 })).toEqual([id("Stalls-A2"), id("Circle-A2"), id("Boxes-A2")]);
    expect(findSeats(model, { section: "circ", row: "B", column: 3 })).toEqual([id("Circle-B3")]);
    expect(findSeats(model, { section: null, row: "Z", column: 1 })).toEqual([]);
  });
});

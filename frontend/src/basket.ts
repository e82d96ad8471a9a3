/**
 * The buyer's basket: which seats are picked, what they cost, and what happens to them when the map moves.
 * Pure functions over seat ids, so the rules (the per-order maximum, seats taken by someone else, a 409
 * that names some seats) are unit-tested without a browser.
 */
import type { Seat } from "./types";

/** The engine's maximum per order (`seatIds` of one request, and the default seats-per-user cap). */
export const MAX_PER_ORDER = 10;

export type ToggleRefusal = "limit" | "unavailable";

export interface ToggleResult {
  ids: number[];
  refused: ToggleRefusal | null;
}

/** Add the seat to the basket, or take it out if it is in already. Only available seats can be added. */
export function toggleSeat(ids: readonly number[], seat: Seat, max = MAX_PER_ORDER): ToggleResult {
  if (ids.includes(seat.seatId)) return { ids: ids.filter((id) => id !== seat.seatId), refused: null };
  if (seat.status !== "AVAILABLE") return { ids: [...ids], refused: "unavailable" };
  if (ids.length >= max) return { ids: [...ids], refused: "limit" };
  return { ids: [...ids, seat.seatId], refused: null };
}

/**
 * Basket seats that someone else has taken, among `changed` (the ids the store just reported), so the
 * check costs O(changed) however large the map. Seats in our own hold are ours, not taken.
 */
export function takenSeats(
  basket: ReadonlySet<number>,
  changed: Iterable<number>,
  seats: ReadonlyMap<number, Seat>,
  ours: ReadonlySet<number>,
): number[] {
  const out: number[] = [];
  for (const id of changed) {
    if (!basket.has(id) || ours.has(id)) continue;
    const seat = seats.get(id);
    if (seat && seat.status !== "AVAILABLE") out.push(id);
  }
  return out;
}

export interface BasketLine {
  seatId: number;
  seat: Seat | null;
  label: string;
  category: string | null;
  priceCents: number | null;
}

export function seatPlace(seat: Seat): string {
  if (seat.kind === "GA") return `${seat.section} · General admission`;
  return `${seat.section} · Row ${seat.row} · Seat ${seat.column}`;
}

/** A short name for messages: "Stalls A3". */
export function seatShort(seat: Seat): string {
  if (seat.kind === "GA") return `${seat.section} ticket`;
  return `${seat.section} ${seat.row}${seat.column}`;
}

/** Anything that finds a seat by id (the store's map, or it plus a hold's own seats). */
export type SeatLookup = Pick<ReadonlyMap<number, Seat>, "get">;

export function basketLines(ids: readonly number[], seats: SeatLookup): BasketLine[] {
  return ids.map((seatId) => {
    const seat = seats.get(seatId) ?? null;
    return {
      seatId,
      seat,
      label: seat ? seatPlace(seat) : `Seat #${seatId}`,
      category: seat?.category ?? null,
      priceCents: seat?.priceCents ?? null,
    };
  });
}

/** The sum of known prices, and how many lines have none (free or unpriced seats). */
export function basketTotal(lines: readonly BasketLine[]): { cents: number; unpriced: number } {
  let cents = 0;
  let unpriced = 0;
  for (const l of lines) {
    if (l.priceCents === null) unpriced += 1;
    else cents += l.priceCents;
  }
  return { cents, unpriced };
}

const money = new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR" });

export function formatMoney(cents: number | null): string {
  return cents === null ? "No price" : money.format(cents / 100);
}

/** "Stalls A1, Stalls A2 and Balcony B4" for messages, from ids (unknown ids by number). */
export function nameSeats(ids: readonly number[], seats: SeatLookup): string {
  const names = ids.map((id) => {
    const s = seats.get(id);
    return s ? seatShort(s) : `#${id}`;
  });
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** Whole seconds left until `expiresAt` (never negative). */
export function secondsLeft(expiresAt: string, now = Date.now()): number {
  return Math.max(0, Math.ceil((Date.parse(expiresAt) - now) / 1000));
}

export function formatCountdown(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** The engine's observable behaviour in memory: one winner per seat, a gap-free event sequence. */
import type { BookingOutcome } from "../api";
import type { Inventory, Seat, Strategy } from "../types";
import { makeInventory, type SectionSpec } from "./fixtures";
import type { StompStub } from "./stompStub";

export class FakeServer {
  seats: Map<number, Seat>;
  sequence: number;
  layout: Inventory["layout"];
  snapshots = 0;
  bookings = 0;
  /** When set, the next events are not published (simulates a lost message). */
  dropNextEvents = 0;

  constructor(
    private readonly broker: StompStub,
    sections: SectionSpec[] = [{ name: "Main", rows: 4, columns: 6 }],
  ) {
    const inv = makeInventory(sections, 0);
    this.layout = inv.layout;
    this.sequence = inv.sequence;
    this.seats = new Map(inv.seats.map((s) => [s.seatId, s]));
  }

  fetchInventory = async (): Promise<Inventory> => {
    this.snapshots += 1;
    await new Promise((r) => setTimeout(r, 1));
    return structuredClone({ layout: this.layout, sequence: this.sequence, seats: [...this.seats.values()] });
  };

  /** Change a seat as another client would, publishing the event unless told to drop it. */
  change(seatId: number, patch: Partial<Seat>): Seat {
    const seat = this.seats.get(seatId);
    if (!seat) throw new Error(`no seat ${seatId}`);
    const next = { ...seat, ...patch, version: seat.version + 1 };
    this.seats.set(seatId, next);
    this.sequence += 1;
    if (this.dropNextEvents > 0) this.dropNextEvents -= 1;
    else this.broker.publish("/topic/seats", { ...next, sequence: this.sequence });
    return next;
  }

  book = async (seatId: number, userId: string, strategy: Strategy): Promise<BookingOutcome> => {
    this.bookings += 1;
    await new Promise((r) => setTimeout(r, 1));
    const seat = this.seats.get(seatId);
    if (!seat) return { ok: false, status: 404, error: null, message: "no seat", latencyMs: 1 };
    if (seat.status !== "AVAILABLE") {
      const error = {
        timestamp: "2026-11-25T01:00:00Z",
        status: 409,
        error: "SEAT_OCCUPIED",
        message: `Seat ${seatId} is already booked`,
        path: "/api/v1/bookings",
      };
      return { ok: false, status: 409, error, message: error.message, latencyMs: 2 };
    }
    const next = this.change(seatId, { status: "BOOKED", booked: true, bookedBy: userId, bookedAt: "2026-11-25T01:00:00Z" });
    return { ok: true, booking: { ...next, bookingId: this.bookings, strategy, sequence: this.sequence }, latencyMs: 3 };
  };
}

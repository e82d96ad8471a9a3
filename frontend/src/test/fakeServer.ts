/**
 * The engine's observable behaviour in memory: one winner per seat, a gap-free event sequence, anonymous
 * sessions, and seats that never say who booked them (only `/me` and the booking answer do).
 */
import type { BookingOutcome, Buyer } from "../api";
import type { Inventory, Seat, Session, Strategy } from "../types";
import { makeInventory, type SectionSpec } from "./fixtures";
import type { StompStub } from "./stompStub";

export class FakeServer {
  seats: Map<number, Seat>;
  sequence: number;
  layout: Inventory["layout"];
  snapshots = 0;
  bookings = 0;
  sessionsIssued = 0;
  /** Who booked each seat: the server's private knowledge. */
  owners = new Map<number, string>();
  private readonly sessions = new Map<string, string>();
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
    return structuredClone({ layout: this.layout, sequence: this.sequence, seats: [...this.seats.values()], areas: [] });
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

  createSession = async (current?: string): Promise<Session> => {
    await new Promise((r) => setTimeout(r, 1));
    const renewing = current === undefined ? undefined : this.sessions.get(current);
    if (current !== undefined && renewing === undefined) throw Object.assign(new Error("401"), { status: 401 });
    this.sessionsIssued += 1;
    const userId = renewing ?? `session:fake${this.sessionsIssued}`;
    const token = `token-${this.sessionsIssued}`;
    this.sessions.set(token, userId);
    return { token, tokenType: "Bearer", userId, expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString() };
  };

  /** The user a session token stands for (tests look up what the server recorded). */
  userOf(token: string): string | undefined {
    return this.sessions.get(token);
  }

  mySeats = async (token: string): Promise<number[]> => {
    await new Promise((r) => setTimeout(r, 1));
    const user = this.sessions.get(token);
    if (user === undefined) throw new Error("401");
    return [...this.owners].filter(([, owner]) => owner === user).map(([seatId]) => seatId);
  };

  book = async (seatId: number, buyer: Buyer, strategy: Strategy): Promise<BookingOutcome> => {
    this.bookings += 1;
    await new Promise((r) => setTimeout(r, 1));
    const userId = "token" in buyer ? this.sessions.get(buyer.token) : buyer.userId;
    if (userId === undefined) return { ok: false, status: 401, error: null, message: "bad session", latencyMs: 1 };
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
    this.owners.set(seatId, userId);
    const next = this.change(seatId, { status: "BOOKED", booked: true, bookedAt: "2026-11-25T01:00:00Z" });
    const manageToken = "token" in buyer ? null : `manage-${seatId}`;
    const booking = { ...next, bookingId: this.bookings, userId, strategy, sequence: this.sequence, manageToken };
    return { ok: true, booking, latencyMs: 3 };
  };
}

/** Wire shapes of the Box Office API (camelCase JSON), as the backend sends them. */

export type Strategy = "DB" | "REDIS" | "ATOMIC";
export const STRATEGIES: readonly Strategy[] = ["DB", "REDIS", "ATOMIC"];

/** Known today are AVAILABLE and BOOKED; the engine may add more (e.g. HELD), so keep it open. */
export type SeatStatus = "AVAILABLE" | "BOOKED" | "HELD" | (string & {});

export interface Seat {
  seatId: number;
  seatNumber: string;
  section: string;
  row: string;
  rowIndex: number;
  column: number;
  status: SeatStatus;
  booked: boolean;
  bookedBy: string | null;
  bookedAt: string | null;
  version: number;
}

export interface Section {
  name: string;
  rows: string[];
  columns: number;
}

export interface Layout {
  sections: Section[];
  rows: number;
  columns: number;
  seatCount: number;
}

export interface Inventory {
  layout: Layout;
  sequence: number;
  seats: Seat[];
}

/** One `/topic/seats` message: the seat as it is now plus its place in the global change order. */
export interface SeatEvent extends Seat {
  sequence: number;
  /**
   * The sequence of the previous change on the same topic (event). A topic skips other events'
   * sequence values, so this, not `sequence - 1`, says whether something was missed.
   * Absent from servers that predate per-event topics.
   */
  prevSequence?: number;
}

export interface Booking extends Seat {
  bookingId: number;
  strategy: Strategy;
  sequence: number;
}

export interface ApiErrorBody {
  timestamp: string;
  status: number;
  error: string;
  message: string;
  path: string;
}

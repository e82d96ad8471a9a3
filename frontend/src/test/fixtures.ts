/** Inventories shaped exactly like `GET /api/v1/seats`, for tests. */
import type { Inventory, Seat, SeatEvent } from "../types";

export function rowLabel(index: number): string {
  let label = "";
  let i = index;
  while (i > 0) {
    const rem = (i - 1) % 26;
    label = String.fromCharCode(65 + rem) + label;
    i = Math.floor((i - 1) / 26);
  }
  return label;
}

export interface SectionSpec {
  name: string;
  rows: number;
  columns: number;
}

export function makeInventory(sections: SectionSpec[] = [{ name: "Main", rows: 3, columns: 4 }], sequence = 0): Inventory {
  const seats: Seat[] = [];
  const prefix = sections.length > 1;
  let id = 0;
  for (const section of sections) {
    for (let r = 1; r <= section.rows; r++) {
      for (let c = 1; c <= section.columns; c++) {
        id += 1;
        const row = rowLabel(r);
        seats.push({
          seatId: id,
          seatNumber: prefix ? `${section.name}-${row}${c}` : `${row}${c}`,
          section: section.name,
          row,
          rowIndex: r,
          column: c,
          status: "AVAILABLE",
          booked: false,
          bookedAt: null,
          version: 0,
          held: false,
          heldUntil: null,
          eventId: 1,
          category: null,
          priceCents: null,
          kind: "SEAT",
          accessibility: null,
          channel: null,
          blocked: false,
        });
      }
    }
  }
  return {
    layout: {
      sections: sections.map((s) => ({
        name: s.name,
        rows: Array.from({ length: s.rows }, (_, i) => rowLabel(i + 1)),
        columns: s.columns,
        kind: "SEATED",
        capacity: null,
      })),
      rows: Math.max(...sections.map((s) => s.rows)),
      columns: Math.max(...sections.map((s) => s.columns)),
      seatCount: seats.length,
    },
    sequence,
    seats,
    areas: [],
  };
}

/** `bookedAt` doubles as a marker in tests: which of several changes to a seat was applied. */
export function bookedEvent(seat: Seat, sequence: number, bookedAt = "2026-11-25T01:00:00Z", version = seat.version + 1): SeatEvent {
  return {
    ...seat,
    status: "BOOKED",
    booked: true,
    bookedAt,
    version,
    sequence,
  };
}

export function seatOf(inventory: Inventory, seatNumber: string): Seat {
  const seat = inventory.seats.find((s) => s.seatNumber === seatNumber);
  if (!seat) throw new Error(`no seat ${seatNumber}`);
  return seat;
}

/**
 * How each seat state looks: a color, and for color-blind users a pattern and an icon as well.
 * Unknown future states (the engine may add more) get a neutral look named after the status.
 */
import type { ReactElement } from "react";
import type { Seat } from "./types";

export type SeatKind = "available" | "booked" | "mine" | "held" | "other";

export interface KindLook {
  kind: SeatKind;
  label: string;
  icon: ReactElement | null;
}

const svg = (path: ReactElement): ReactElement => (
  <svg viewBox="0 0 16 16" aria-hidden="true" focusable="false" className="seat-icon">
    {path}
  </svg>
);

// Module-level elements: every seat shares one immutable icon element per kind.
const CROSS = svg(<path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" strokeWidth="2.4" strokeLinecap="round" />);
const STAR = svg(
  <path
    d="M8 1.8l1.9 3.9 4.3.6-3.1 3 .7 4.3L8 11.6l-3.8 2 .7-4.3-3.1-3 4.3-.6z"
    fill="currentColor"
    stroke="currentColor"
    strokeWidth="0.6"
    strokeLinejoin="round"
  />,
);
const CLOCK = svg(
  <>
    <circle cx="8" cy="8" r="5.6" fill="none" stroke="currentColor" strokeWidth="1.8" />
    <path d="M8 4.8V8l2.2 1.6" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
  </>,
);
const QUESTION = svg(
  <path
    d="M5.8 6a2.3 2.3 0 1 1 3.2 2.1c-.7.3-1 .8-1 1.5M8 12.2v.1"
    fill="none"
    stroke="currentColor"
    strokeWidth="2"
    strokeLinecap="round"
  />,
);

export const LOOKS: Record<SeatKind, KindLook> = {
  available: { kind: "available", label: "Available", icon: null },
  booked: { kind: "booked", label: "Booked", icon: CROSS },
  mine: { kind: "mine", label: "Yours", icon: STAR },
  held: { kind: "held", label: "Held", icon: CLOCK },
  other: { kind: "other", label: "Other", icon: QUESTION },
};

/** `mine`: this browser's session booked the seat (seat maps never say whose a seat is). */
export function seatKind(seat: Seat, mine: boolean): SeatKind {
  switch (seat.status) {
    case "AVAILABLE":
      return "available";
    case "BOOKED":
      return mine ? "mine" : "booked";
    case "HELD":
      return "held";
    default:
      return "other";
  }
}

export function statusWord(status: string): string {
  return status.charAt(0).toUpperCase() + status.slice(1).toLowerCase().replaceAll("_", " ");
}

/** The screen-reader name of a seat: where it is and what state it is in. */
export function seatLabel(seat: Seat, mine: boolean): string {
  const place = `Seat ${seat.seatNumber}, row ${seat.row}, number ${seat.column}`;
  const kind = seatKind(seat, mine);
  if (kind === "available") return `${place}, available`;
  if (kind === "mine") return `${place}, booked by you`;
  if (kind === "booked") return `${place}, booked`;
  return `${place}, ${statusWord(seat.status).toLowerCase()}`;
}

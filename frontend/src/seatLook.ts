/**
 * How each seat looks on the canvas: a fill, and for colour-blind users a mark as well (cross, clock,
 * star, check, question mark), drawn whenever a seat is at least 10 px on screen. Available seats take
 * their category's colour; own holds and own bookings have colours of their own, never the grey of
 * "unavailable". Unknown future states get a neutral look named after the status.
 */
import type { Seat } from "./types";

export type SeatKind = "available" | "selected" | "myhold" | "mine" | "booked" | "held" | "blocked" | "other";

export interface KindLook {
  kind: SeatKind;
  label: string;
  fill: string;
  mark: "none" | "check" | "clock" | "star" | "cross" | "dots" | "bar" | "question";
  markColor: string;
}

export const LOOKS: Record<SeatKind, KindLook> = {
  available: { kind: "available", label: "Available", fill: "#34d399", mark: "none", markColor: "#022c22" },
  selected: { kind: "selected", label: "In your basket", fill: "#ffffff", mark: "check", markColor: "#0f172a" },
  myhold: { kind: "myhold", label: "Held for you", fill: "#c084fc", mark: "clock", markColor: "#1e1b4b" },
  mine: { kind: "mine", label: "Your ticket", fill: "#38bdf8", mark: "star", markColor: "#082f49" },
  booked: { kind: "booked", label: "Sold", fill: "#334155", mark: "cross", markColor: "#94a3b8" },
  held: { kind: "held", label: "Reserved by another buyer", fill: "#475569", mark: "dots", markColor: "#cbd5e1" },
  blocked: { kind: "blocked", label: "Not for sale", fill: "#1e293b", mark: "bar", markColor: "#94a3b8" },
  other: { kind: "other", label: "Other", fill: "#64748b", mark: "question", markColor: "#f1f5f9" },
};

/** Colours for categories (in order of first appearance), all readable against the dark map. */
export const CATEGORY_COLORS = ["#34d399", "#fbbf24", "#f472b6", "#60a5fa", "#a3e635", "#fb923c", "#2dd4bf", "#e879f9"];

export interface Mine {
  booked: ReadonlySet<number>;
  held: ReadonlySet<number>;
  selected: ReadonlySet<number>;
}

export function seatKind(seat: Seat, mine: Mine): SeatKind {
  switch (seat.status) {
    case "AVAILABLE":
      return mine.selected.has(seat.seatId) ? "selected" : "available";
    case "BOOKED":
      return mine.booked.has(seat.seatId) ? "mine" : "booked";
    case "HELD":
      return mine.held.has(seat.seatId) ? "myhold" : "held";
    case "BLOCKED":
      return "blocked";
    default:
      return "other";
  }
}

export function statusWord(status: string): string {
  return status.charAt(0).toUpperCase() + status.slice(1).toLowerCase().replaceAll("_", " ");
}

/** What a seat is, in words (tooltips, the screen-reader announcement); never whose it is. */
export function seatDescription(seat: Seat, kind: SeatKind, price: string | null): string {
  const place = `${seat.section}, row ${seat.row}, seat ${seat.column}`;
  const what = kind === "other" ? statusWord(seat.status).toLowerCase() : LOOKS[kind].label.toLowerCase();
  const cat = seat.category ? `, ${seat.category}` : "";
  const access = seat.accessibility === "WHEELCHAIR" ? ", wheelchair space" : seat.accessibility === "COMPANION" ? ", companion seat" : "";
  return `${place}${cat}${access}${price ? `, ${price}` : ""}, ${what}`;
}

/**
 * Where every seat sits on the map (world coordinates), and how the keyboard moves between seats.
 *
 * Sections are blocks of rows x columns laid out left to right, wrapping into bands, so a venue of many
 * sections stays roughly as wide as it is tall. Each section keeps a grid of seat ids, so hit testing,
 * culling and arrow-key movement are O(1) per seat and never scan the whole map.
 */
import type { Layout, Seat } from "./types";

/** Distance between neighbouring seats, in world units (a seat is SEAT units wide). */
export const PITCH = 24;
export const SEAT = 20;
/** Room for row labels left of a section and for its name above it. */
export const GUTTER = 30;
export const TITLE = 34;
export const SECTION_GAP = 56;

export interface SectionBox {
  index: number;
  name: string;
  rows: string[];
  columns: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** seatId per (row, column), 0 where there is no seat: `grid[(rowIndex - 1) * columns + column - 1]`. */
  grid: Int32Array;
}

export interface MapModel {
  sections: SectionBox[];
  byName: Map<string, SectionBox>;
  width: number;
  height: number;
}

export function buildModel(layout: Layout, seats: Iterable<Seat>): MapModel {
  // General-admission areas have no seats to draw: they are listed beside the map.
  const seated = layout.sections.filter((s) => s.kind !== "GA" && s.rows.length > 0 && s.columns > 0);
  const boxes: SectionBox[] = seated.map((s, index) => ({
    index,
    name: s.name,
    rows: s.rows,
    columns: s.columns,
    x: 0,
    y: 0,
    width: GUTTER + s.columns * PITCH,
    height: TITLE + s.rows.length * PITCH,
    grid: new Int32Array(s.rows.length * s.columns),
  }));
  // Bands about as wide as the square root of the total area (at least the widest section).
  const area = boxes.reduce((a, b) => a + (b.width + SECTION_GAP) * (b.height + SECTION_GAP), 0);
  const bandWidth = Math.max(1, Math.sqrt(area) * 1.4, ...boxes.map((b) => b.width));
  let x = 0;
  let y = 0;
  let bandHeight = 0;
  let width = 0;
  for (const box of boxes) {
    if (x > 0 && x + box.width > bandWidth) {
      x = 0;
      y += bandHeight + SECTION_GAP;
      bandHeight = 0;
    }
    box.x = x;
    box.y = y;
    x += box.width + SECTION_GAP;
    bandHeight = Math.max(bandHeight, box.height);
    width = Math.max(width, box.x + box.width);
  }
  // Centre each band's sections horizontally under the stage.
  const bands = new Map<number, SectionBox[]>();
  for (const box of boxes) bands.set(box.y, [...(bands.get(box.y) ?? []), box]);
  for (const band of bands.values()) {
    const last = band[band.length - 1]!;
    const shift = (width - (last.x + last.width)) / 2;
    for (const box of band) box.x += shift;
  }
  const byName = new Map(boxes.map((b) => [b.name, b]));
  for (const seat of seats) {
    const box = byName.get(seat.section);
    if (!box || seat.rowIndex < 1 || seat.rowIndex > box.rows.length || seat.column < 1 || seat.column > box.columns) continue;
    box.grid[(seat.rowIndex - 1) * box.columns + seat.column - 1] = seat.seatId;
  }
  return { sections: boxes, byName, width: Math.max(width, 1), height: Math.max(y + bandHeight, 1) };
}

/** The top-left corner of a seat in world units, or null when its section is unknown. */
export function seatOrigin(model: MapModel, seat: Seat): { x: number; y: number } | null {
  const box = model.byName.get(seat.section);
  if (!box) return null;
  return { x: box.x + GUTTER + (seat.column - 1) * PITCH, y: box.y + TITLE + (seat.rowIndex - 1) * PITCH };
}

/** The seat id under a world point (0 for none). */
export function seatAt(model: MapModel, wx: number, wy: number): number {
  for (const box of model.sections) {
    const lx = wx - box.x - GUTTER;
    const ly = wy - box.y - TITLE;
    if (lx < 0 || ly < 0 || lx >= box.columns * PITCH || ly >= box.rows.length * PITCH) continue;
    const c = Math.floor(lx / PITCH);
    const r = Math.floor(ly / PITCH);
    // The gap between seats counts as the nearer seat, so small touch targets are as large as they can be.
    return box.grid[r * box.columns + c] ?? 0;
  }
  return 0;
}

export type Move = "left" | "right" | "up" | "down" | "home" | "end" | "nextSection" | "prevSection" | "first" | "last";

interface Cell {
  box: SectionBox;
  r: number;
  c: number;
}

function firstIn(box: SectionBox, fromRow: number, step: 1 | -1): number {
  for (let r = fromRow; r >= 0 && r < box.rows.length; r += step) {
    for (let c = 0; c < box.columns; c++) {
      const id = box.grid[r * box.columns + c]!;
      if (id) return id;
    }
  }
  return 0;
}

/** Nearest seat in row `r` of `box` to column `c`, or 0 when the row is empty. */
function nearestInRow(box: SectionBox, r: number, c: number): number {
  for (let d = 0; d < box.columns; d++) {
    for (const cc of [c - d, c + d]) {
      if (cc < 0 || cc >= box.columns) continue;
      const id = box.grid[r * box.columns + cc]!;
      if (id) return id;
    }
  }
  return 0;
}

/**
 * The seat a key moves to from `from` (a seat id; 0 = nothing focused yet). Left/right run along a row and
 * wrap to the neighbouring row; up/down cross into the previous/next section at its last/first row, so every
 * seat of every section is reachable with arrows alone; page keys jump a section.
 */
export function moveFocus(model: MapModel, seats: ReadonlyMap<number, Seat>, from: number, move: Move): number {
  const all = model.sections;
  if (all.length === 0) return 0;
  const firstOf = (box: SectionBox) => firstIn(box, 0, 1);
  const seat = seats.get(from);
  const cell: Cell | null = (() => {
    if (!seat) return null;
    const box = model.byName.get(seat.section);
    return box ? { box, r: seat.rowIndex - 1, c: seat.column - 1 } : null;
  })();
  if (move === "last") return firstOf(all[all.length - 1]!);
  if (!cell || move === "first") return firstOf(all[0]!);
  const { box, r, c } = cell;
  const idAt = (rr: number, cc: number) => box.grid[rr * box.columns + cc] ?? 0;
  switch (move) {
    case "left":
    case "right": {
      const step = move === "right" ? 1 : -1;
      let rr = r;
      let cc = c + step;
      for (let guard = 0; guard < box.grid.length; guard++) {
        if (cc >= box.columns) {
          rr += 1;
          cc = 0;
        } else if (cc < 0) {
          rr -= 1;
          cc = box.columns - 1;
        }
        if (rr < 0 || rr >= box.rows.length) break;
        const id = idAt(rr, cc);
        if (id) return id;
        cc += step;
      }
      // Past the end of the section: on to the next (or previous) one.
      const next = all[box.index + step];
      if (!next) return from;
      return step === 1 ? firstOf(next) : firstIn(next, next.rows.length - 1, -1) || from;
    }
    case "home":
    case "end": {
      const range = move === "home" ? [...Array(box.columns).keys()] : [...Array(box.columns).keys()].reverse();
      for (const cc of range) if (idAt(r, cc)) return idAt(r, cc);
      return from;
    }
    case "up":
    case "down": {
      const step = move === "down" ? 1 : -1;
      for (let rr = r + step; rr >= 0 && rr < box.rows.length; rr += step) {
        const id = nearestInRow(box, rr, c);
        if (id) return id;
      }
      const next = all[box.index + step];
      if (!next) return from;
      const row = step === 1 ? 0 : next.rows.length - 1;
      return nearestInRow(next, row, Math.min(c, next.columns - 1)) || (step === 1 ? firstOf(next) : from);
    }
    case "nextSection":
    case "prevSection": {
      const next = all[box.index + (move === "nextSection" ? 1 : -1)];
      return next ? firstOf(next) || from : from;
    }
  }
}

export interface SeatQuery {
  section: string | null;
  row: string;
  column: number;
}

/**
 * Read what a buyer types to find a seat: "row C seat 12", "C12", "c 12", "Balcony C12",
 * "Balcony row C seat 12", "seat 12 row C". Null when no row and number can be made out.
 */
export function parseSeatQuery(text: string): SeatQuery | null {
  let rest = text.trim().replace(/[,;]/g, " ").replace(/\s+/g, " ");
  if (!rest) return null;
  let row: string | null = null;
  let column: number | null = null;
  const rowWord = /\brow\s+([a-z]{1,3})\b/i.exec(rest);
  if (rowWord) {
    row = rowWord[1]!.toUpperCase();
    rest = rest.replace(rowWord[0], " ");
  }
  const seatWord = /\b(?:seat|number|no\.?|#)\s*(\d{1,4})\b/i.exec(rest);
  if (seatWord) {
    column = Number(seatWord[1]);
    rest = rest.replace(seatWord[0], " ");
  }
  if (row === null || column === null) {
    // "C12", "C 12", "Balcony-C12": the last letters-then-digits pair.
    const compact = /(?:^|[\s-])([a-z]{1,3})\s?(\d{1,4})\s*$/i.exec(rest);
    if (compact) {
      row ??= compact[1]!.toUpperCase();
      column ??= Number(compact[2]);
      rest = rest.slice(0, compact.index);
    } else if (row !== null && column === null) {
      const num = /\b(\d{1,4})\b/.exec(rest);
      if (num) {
        column = Number(num[1]);
        rest = rest.replace(num[0], " ");
      }
    }
  }
  if (row === null || column === null || column < 1) return null;
  const section = rest.replace(/\b(section|seat|row)\b/gi, " ").replace(/[-\s]+/g, " ").trim();
  return { section: section || null, row, column };
}

/** The seat ids that match a query (every section when it names none). */
export function findSeats(model: MapModel, query: SeatQuery): number[] {
  const wanted = query.section?.toLowerCase() ?? null;
  const out: number[] = [];
  for (const box of model.sections) {
    if (wanted && !box.name.toLowerCase().startsWith(wanted) && !box.name.toLowerCase().includes(wanted)) continue;
    const r = box.rows.indexOf(query.row);
    if (r < 0 || query.column > box.columns) continue;
    const id = box.grid[r * box.columns + query.column - 1];
    if (id) out.push(id);
  }
  return out;
}

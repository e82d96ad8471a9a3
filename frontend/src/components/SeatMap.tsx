/**
 * The seat map, drawn from the API's layout (sections, row labels, columns) rather than a fixed grid.
 *
 * Performance on large maps: rows and seats are memoized, and a seat's props change only when that seat
 * changes; clicks and arrow keys are handled once on the map (event delegation). An update to one seat
 * re-renders one row's memo check and one button. Keyboard: one seat is in the tab order (roving tabindex); arrows, Home and
 * End move within a section; Enter or Space activates.
 */
import { memo, useCallback, useMemo, useRef, useState, type FocusEvent, type KeyboardEvent, type MouseEvent } from "react";
import { LOOKS, seatKind, seatLabel } from "../seatLook";
import type { Layout, Seat } from "../types";

export interface SeatMapProps {
  layout: Layout;
  seats: ReadonlyMap<number, Seat>;
  /** Seats this browser's session booked (from `/api/v1/me/bookings` and its own booking answers). */
  mine: ReadonlySet<number>;
  onActivate: (seat: Seat) => void;
  /** Seat highlighted as a target (chaos mode). */
  selectedId?: number | null;
  /** Seats with a booking request in flight. */
  pending?: ReadonlySet<number>;
  /** Counts renders of seat buttons (tests prove that an update re-renders only the changed seat). */
  onSeatRender?: (seatId: number) => void;
}

interface SectionGrid {
  name: string;
  rows: string[];
  columns: number;
  /** cells[r][c] = seat id or null (a gap in the layout). */
  cells: (number | null)[][];
}

/** Place every seat in its section's grid by row label and column number. */
export function buildGrid(layout: Layout, seats: ReadonlyMap<number, Seat>): SectionGrid[] {
  const byPlace = new Map<string, number>();
  for (const seat of seats.values()) byPlace.set(`${seat.section}\u0000${seat.row}\u0000${seat.column}`, seat.seatId);
  return layout.sections.map((section) => ({
    name: section.name,
    rows: section.rows,
    columns: section.columns,
    cells: section.rows.map((row) =>
      Array.from(
        { length: section.columns },
        (_, c) => byPlace.get(`${section.name}\u0000${row}\u0000${c + 1}`) ?? null,
      ),
    ),
  }));
}

interface SeatButtonProps {
  seat: Seat;
  mine: boolean;
  tabbable: boolean;
  selected: boolean;
  pending: boolean;
  onRender?: (seatId: number) => void;
}

const SeatButton = memo(function SeatButton({ seat, mine, tabbable, selected, pending, onRender }: SeatButtonProps) {
  onRender?.(seat.seatId);
  const look = LOOKS[seatKind(seat, mine)];
  const label = seatLabel(seat, mine);
  return (
    <button
      type="button"
      className={`seat seat-${look.kind}${selected ? " seat-selected" : ""}${pending ? " seat-pending" : ""}`}
      data-seat-id={seat.seatId}
      data-seat-number={seat.seatNumber}
      data-status={seat.status}
      tabIndex={tabbable ? 0 : -1}
      aria-label={label}
      aria-busy={pending || undefined}
      aria-pressed={selected || undefined}
      title={label}
    >
      {look.icon}
    </button>
  );
});

interface SeatRowProps {
  row: string;
  /** The row's cells in column order; undefined is a gap in the layout. */
  seats: (Seat | undefined)[];
  /** Seat ids of this row that are mine, as a comparable string. */
  mineKey: string;
  mine: ReadonlySet<number>;
  tabbableId: number | null;
  selectedId: number | null;
  /** Pending seat ids of this row, as a comparable string. */
  pendingKey: string;
  pending: ReadonlySet<number>;
  onSeatRender?: (seatId: number) => void;
}

/** A row re-renders only when one of its seats, or its focus/selection/pending state, changed. */
function sameRow(a: SeatRowProps, b: SeatRowProps): boolean {
  return (
    a.row === b.row &&
    a.mineKey === b.mineKey &&
    a.tabbableId === b.tabbableId &&
    a.selectedId === b.selectedId &&
    a.pendingKey === b.pendingKey &&
    a.onSeatRender === b.onSeatRender &&
    a.seats.length === b.seats.length &&
    a.seats.every((seat, i) => seat === b.seats[i])
  );
}

const SeatRow = memo(function SeatRow({ row, seats, mine, tabbableId, selectedId, pending, onSeatRender }: SeatRowProps) {
  // A fragment: label and seats are direct children of the section's CSS grid.
  return (
    <>
      <span aria-hidden="true" className="seat-row-label">
        {row}
      </span>
      {seats.map((seat, c) =>
        seat ? (
          <SeatButton
            key={seat.seatId}
            seat={seat}
            mine={mine.has(seat.seatId)}
            tabbable={seat.seatId === tabbableId}
            selected={seat.seatId === selectedId}
            pending={pending.has(seat.seatId)}
            onRender={onSeatRender}
          />
        ) : (
          <span key={`gap${c}`} aria-hidden="true" />
        ),
      )}
    </>
  );
}, sameRow);

const NO_PENDING: ReadonlySet<number> = new Set();

export function SeatMap({ layout, seats, mine, onActivate, selectedId = null, pending = NO_PENDING, onSeatRender }: SeatMapProps) {
  // Seat positions are fixed for a layout (an event for an unknown seat forces a new snapshot, and a
  // snapshot brings a new layout object), so the grid is rebuilt per layout, not per seat update.
  const grid = useMemo(() => buildGrid(layout, seats), [layout]);
  const [focusId, setFocusId] = useState<number | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const seatsRef = useRef(seats);
  seatsRef.current = seats;

  const firstSeat = useMemo(() => {
    for (const section of grid) for (const row of section.cells) for (const id of row) if (id !== null) return id;
    return null;
  }, [grid]);
  const tabbableId = focusId !== null && seats.has(focusId) ? focusId : firstSeat;

  const seatFrom = (target: EventTarget | null): Seat | undefined => {
    const button = (target as HTMLElement | null)?.closest?.("button[data-seat-id]");
    if (!button) return undefined;
    return seatsRef.current.get(Number(button.getAttribute("data-seat-id")));
  };

  const onClick = useCallback(
    (e: MouseEvent<HTMLDivElement>) => {
      const seat = seatFrom(e.target);
      if (!seat) return;
      setFocusId(seat.seatId);
      onActivate(seat);
    },
    [onActivate],
  );

  // Whichever seat gets focus (click, script, arrow) becomes the map's one tab stop.
  const onFocus = useCallback((e: FocusEvent<HTMLDivElement>) => {
    const seat = seatFrom(e.target);
    if (seat) setFocusId(seat.seatId);
  }, []);

  const onKeyDown = useCallback(
    (e: KeyboardEvent<HTMLDivElement>) => {
      const seat = seatFrom(e.target);
      if (!seat) return;
      const section = grid.find((s) => s.name === seat.section);
      if (!section) return;
      const r = section.rows.indexOf(seat.row);
      const c = seat.column - 1;
      const step = (dr: number, dc: number): number | null => {
        let rr = r + dr;
        let cc = c + dc;
        while (rr >= 0 && rr < section.rows.length && cc >= 0 && cc < section.columns) {
          const id = section.cells[rr]?.[cc];
          if (id != null) return id;
          rr += dr;
          cc += dc;
        }
        return null;
      };
      const rowEdge = (fromEnd: boolean): number | null => {
        const row = section.cells[r] ?? [];
        const ids = row.filter((id): id is number => id !== null);
        return (fromEnd ? ids[ids.length - 1] : ids[0]) ?? null;
      };
      const moves: Record<string, () => number | null> = {
        ArrowLeft: () => step(0, -1),
        ArrowRight: () => step(0, 1),
        ArrowUp: () => step(-1, 0),
        ArrowDown: () => step(1, 0),
        Home: () => rowEdge(false),
        End: () => rowEdge(true),
      };
      const move = moves[e.key];
      if (!move) return;
      e.preventDefault();
      const next = move();
      if (next === null) return;
      setFocusId(next);
      root.current?.querySelector<HTMLButtonElement>(`button[data-seat-id="${next}"]`)?.focus();
    },
    [grid],
  );

  return (
    <div ref={root} className="@container space-y-6" onClick={onClick} onFocus={onFocus} onKeyDown={onKeyDown}>
      <p id="seat-map-help" className="sr-only">
        Use the arrow keys to move between seats, and Enter or Space to book the focused seat.
      </p>
      {grid.map((section) => (
        <section key={section.name} aria-label={`Section ${section.name}`} className="space-y-2">
          {grid.length > 1 && (
            <h3 className="text-xs font-semibold uppercase tracking-[0.2em] text-slate-400">{section.name}</h3>
          )}
          <div
            role="group"
            aria-label={`Seats in section ${section.name}`}
            aria-describedby="seat-map-help"
            className="seat-grid"
            style={{ ["--cols" as string]: section.columns }}
          >
            <span aria-hidden="true" />
            {Array.from({ length: section.columns }, (_, c) => (
              <span key={`h${c}`} aria-hidden="true" className="seat-col-label">
                {c + 1}
              </span>
            ))}
            {section.rows.map((row, r) => {
              const ids = section.cells[r] ?? [];
              const has = (id: number | null) => id !== null && ids.includes(id);
              return (
                <SeatRow
                  key={row}
                  row={row}
                  seats={ids.map((id) => (id === null ? undefined : seats.get(id)))}
                  mineKey={ids.filter((id) => id !== null && mine.has(id)).join(",")}
                  mine={mine}
                  tabbableId={has(tabbableId) ? tabbableId : null}
                  selectedId={has(selectedId) ? selectedId : null}
                  pendingKey={ids.filter((id) => id !== null && pending.has(id)).join(",")}
                  pending={pending}
                  onSeatRender={onSeatRender}
                />
              );
            })}
          </div>
        </section>
      ))}
    </div>
  );
}

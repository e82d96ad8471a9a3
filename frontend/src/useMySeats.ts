/**
 * Which seats are mine. Seat maps and live updates say nothing about who booked a seat, so the page asks the
 * server for this session's bookings (`GET /api/v1/me/bookings`) whenever it takes a snapshot, and adds the
 * seats it books itself as the answers come in.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { SeatState } from "./seatStore";

export type MySeatsFn = (token: string, signal: AbortSignal) => Promise<number[]>;

const NONE: ReadonlySet<number> = new Set();

export function useMySeats(
  token: string | null,
  state: Pick<SeatState, "seats" | "resyncs">,
  load: MySeatsFn,
): [ReadonlySet<number>, (seatId: number) => void] {
  const [mine, setMine] = useState<ReadonlySet<number>>(NONE);
  // Booked by this page: kept across reloads of the list, which may have started before the booking.
  const local = useRef(new Set<number>());

  const add = useCallback((seatId: number) => {
    local.current.add(seatId);
    setMine((prev) => new Set(prev).add(seatId));
  }, []);

  useEffect(() => {
    if (!token) return;
    const controller = new AbortController();
    load(token, controller.signal).then(
      (ids) => {
        if (!controller.signal.aborted) setMine(new Set([...ids, ...local.current]));
      },
      () => {
        // Keep what we know; the next snapshot asks again.
      },
    );
    return () => controller.abort();
  }, [token, state.resyncs, load]);

  // A seat of mine that turns free (cancelled) is no longer mine, whoever books it next.
  const { seats } = state;
  useEffect(() => {
    const freed = [...mine].filter((id) => seats.get(id)?.status === "AVAILABLE");
    if (freed.length === 0) return;
    for (const id of freed) local.current.delete(id);
    setMine((prev) => new Set([...prev].filter((id) => !freed.includes(id))));
  }, [seats, mine]);

  return [mine, add];
}

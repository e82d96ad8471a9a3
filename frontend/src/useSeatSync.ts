/** React glue: the STOMP link, snapshot loading with backoff, and the pure `seatStore` reducer. */
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { fetchInventory as defaultFetchInventory } from "./api";
import { connectLive, defaultBrokerURL, type LinkStatus, type LiveOptions } from "./live";
import { MAX_BUFFERED_EVENTS, initialSeatState, seatReducer, type SeatAction, type SeatState } from "./seatStore";
import type { Inventory, SeatEvent } from "./types";

/** How long events are gathered before one render (about one frame). */
const FLUSH_MS = 16;

export interface SeatSyncOptions {
  live?: Partial<LiveOptions>;
  fetchInventory?: (signal: AbortSignal) => Promise<Inventory>;
  /** While the live link is down, refresh the snapshot this often so the map does not freeze. */
  offlinePollMs?: number;
  /** First retry delay after a failed snapshot; doubles up to 15 s. */
  retryBaseMs?: number;
}

export interface SeatSync {
  state: SeatState;
  dispatch: (action: SeatAction) => void;
  link: LinkStatus;
  linkDetail: string | null;
  loadError: string | null;
}

export function useSeatSync(options: SeatSyncOptions = {}): SeatSync {
  const [state, dispatch] = useReducer(seatReducer, initialSeatState);
  const [link, setLink] = useState<LinkStatus>("connecting");
  const [linkDetail, setLinkDetail] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const optionsRef = useRef(options);
  const generation = useRef(0);
  const inflight = useRef<AbortController | null>(null);
  const failures = useRef(0);
  const retryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const resync = useCallback(() => {
    const gen = ++generation.current;
    clearTimeout(retryTimer.current);
    inflight.current?.abort();
    const controller = new AbortController();
    inflight.current = controller;
    dispatch({ type: "resync", generation: gen });
    const load = optionsRef.current.fetchInventory ?? defaultFetchInventory;
    load(controller.signal).then(
      (inventory) => {
        if (controller.signal.aborted) return;
        failures.current = 0;
        setLoadError(null);
        dispatch({ type: "snapshot", generation: gen, inventory });
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setLoadError(err instanceof Error ? err.message : String(err));
        const base = optionsRef.current.retryBaseMs ?? 1000;
        const delay = Math.min(base * 2 ** failures.current, 15_000);
        failures.current += 1;
        retryTimer.current = setTimeout(() => {
          if (generation.current === gen) dispatch({ type: "stale", reason: "snapshot failed; retrying" });
        }, delay);
      },
    );
  }, []);

  // A stale state (gap, overflow, failed load) always leads to a fresh snapshot.
  useEffect(() => {
    if (state.phase === "stale") resync();
  }, [state.phase, resync]);

  // Events are delivered to React in batches, at most one render per frame however fast they arrive.
  const queue = useRef<SeatEvent[]>([]);
  const flushTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const enqueue = useCallback((event: SeatEvent) => {
    if (queue.current.length >= MAX_BUFFERED_EVENTS) {
      queue.current = [];
      clearTimeout(flushTimer.current);
      flushTimer.current = undefined;
      dispatch({ type: "stale", reason: "event queue overflowed" });
      return;
    }
    queue.current.push(event);
    flushTimer.current ??= setTimeout(() => {
      flushTimer.current = undefined;
      const events = queue.current;
      queue.current = [];
      dispatch({ type: "events", events });
    }, FLUSH_MS);
  }, []);

  useEffect(() => {
    resync();
    const live = optionsRef.current.live;
    const link = connectLive(
      { brokerURL: live?.brokerURL ?? defaultBrokerURL(), ...live },
      {
        onSubscribed: resync,
        onEvent: enqueue,
        onStatus: (status, detail) => {
          setLink(status);
          setLinkDetail(detail ?? null);
        },
      },
    );
    return () => {
      clearTimeout(retryTimer.current);
      clearTimeout(flushTimer.current);
      flushTimer.current = undefined;
      queue.current = [];
      inflight.current?.abort();
      void link.stop();
    };
  }, [resync, enqueue]);

  const phaseRef = useRef(state.phase);
  phaseRef.current = state.phase;
  useEffect(() => {
    if (link === "live") return;
    const every = optionsRef.current.offlinePollMs ?? 10_000;
    const timer = setInterval(() => {
      if (phaseRef.current === "live") dispatch({ type: "stale", reason: "live link down; polling" });
    }, every);
    return () => clearInterval(timer);
  }, [link]);

  return { state, dispatch, link, linkDetail, loadError };
}

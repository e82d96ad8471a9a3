/**
 * React glue for one event: the STOMP link to its topic, ONE snapshot per (re)connect or gap, and the
 * `SeatStore` that applies deltas in place. A new event id builds a new store (a new map).
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { HttpError, fetchEventInventory as defaultFetchInventory } from "./api";
import { connectLive, defaultBrokerURL, eventTopic, type LinkStatus, type LiveLink, type LiveOptions } from "./live";
import { MAX_BUFFERED_EVENTS, SeatStore } from "./seatStore";
import type { EventInfo, EventInventory, Inventory, SeatEvent } from "./types";

/** How long events are gathered before they are applied (about one frame). */
const FLUSH_MS = 16;

export interface SeatSyncOptions {
  live?: Partial<LiveOptions>;
  fetchInventory?: (eventId: number, signal: AbortSignal) => Promise<Inventory | EventInventory>;
  /** While the live link is down, refresh the snapshot this often so the map does not freeze. */
  offlinePollMs?: number;
  /** First retry delay after a failed snapshot; doubles up to 8 s. */
  retryBaseMs?: number;
}

export interface LoadError {
  message: string;
  status: number;
  retryAfterS: number | null;
}

export interface SeatSync {
  store: SeatStore;
  revision: number;
  event: EventInfo | null;
  link: LinkStatus;
  linkDetail: string | null;
  loadError: LoadError | null;
  /** Take a fresh snapshot now (retry buttons, the server coming back). */
  resync: (reason: string) => void;
  reconnectNow: () => void;
}

export function useSeatSync(eventId: number | null, options: SeatSyncOptions = {}): SeatSync {
  const [store, setStore] = useState(() => new SeatStore());
  const revision = useSyncExternalStore(
    useCallback((cb: () => void) => store.subscribe(cb), [store]),
    () => store.revision,
  );
  const [event, setEvent] = useState<EventInfo | null>(null);
  const [link, setLink] = useState<LinkStatus>("connecting");
  const [linkDetail, setLinkDetail] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<LoadError | null>(null);
  const optionsRef = useRef(options);
  const linkRef = useRef<LiveLink | null>(null);
  const resyncRef = useRef<(reason: string) => void>(() => {});

  useEffect(() => {
    if (eventId === null) return;
    const s = new SeatStore();
    setStore(s);
    setEvent(null);
    setLoadError(null);
    let generation = 0;
    let inflight: AbortController | null = null;
    let failures = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const resync = (reason: string) => {
      if (stopped) return;
      const gen = ++generation;
      clearTimeout(retryTimer);
      inflight?.abort();
      const controller = new AbortController();
      inflight = controller;
      if (s.phase === "live") s.apply({ type: "stale", reason });
      s.apply({ type: "resync", generation: gen });
      const load = optionsRef.current.fetchInventory ?? defaultFetchInventory;
      load(eventId, controller.signal).then(
        (inventory) => {
          if (controller.signal.aborted) return;
          failures = 0;
          setLoadError(null);
          if ("event" in inventory) setEvent(inventory.event);
          s.apply({ type: "snapshot", generation: gen, inventory });
        },
        (err: unknown) => {
          if (controller.signal.aborted) return;
          const status = err instanceof HttpError ? err.status : 0;
          const retryAfterS = err instanceof HttpError ? err.retryAfterS : null;
          setLoadError({ message: err instanceof Error ? err.message : String(err), status, retryAfterS });
          const base = optionsRef.current.retryBaseMs ?? 1000;
          const backoff = Math.min(base * 2 ** failures, 8000);
          failures += 1;
          // A 404 (no such event) will not fix itself; anything else is retried, honouring Retry-After.
          if (status === 404) return;
          const delay = retryAfterS !== null ? Math.max(retryAfterS * 1000, 500) : backoff;
          retryTimer = setTimeout(() => {
            if (generation === gen) resync("snapshot failed; retrying");
          }, delay);
        },
      );
    };
    resyncRef.current = resync;

    // A stale state (gap, overflow) always leads to a fresh snapshot.
    const unsubscribe = s.subscribe(() => {
      if (s.phase === "stale") queueMicrotask(() => s.phase === "stale" && resync(s.staleReason ?? "stale"));
    });

    // Events are applied in batches, at most once per frame however fast they arrive.
    let queue: SeatEvent[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    const enqueue = (e: SeatEvent) => {
      if (queue.length >= MAX_BUFFERED_EVENTS) {
        queue = [];
        clearTimeout(flushTimer);
        flushTimer = undefined;
        s.apply({ type: "stale", reason: "event queue overflowed" });
        return;
      }
      queue.push(e);
      flushTimer ??= setTimeout(() => {
        flushTimer = undefined;
        const events = queue;
        queue = [];
        s.apply({ type: "events", events });
      }, FLUSH_MS);
    };

    const live = optionsRef.current.live;
    const liveLink = connectLive(
      { brokerURL: live?.brokerURL ?? defaultBrokerURL(), topic: eventTopic(eventId), ...live },
      {
        // Subscribed first, then one snapshot: the only snapshot of this (re)connect.
        onSubscribed: () => resync("subscribed"),
        onEvent: enqueue,
        onStatus: (status, detail) => {
          setLink(status);
          setLinkDetail(detail ?? null);
        },
      },
    );
    linkRef.current = liveLink;

    // Without a live link, poll now and then so the map does not freeze (the first snapshot comes
    // from onSubscribed, or from here when the socket cannot connect at all).
    const every = optionsRef.current.offlinePollMs ?? 10_000;
    const firstWithoutLink = setTimeout(() => {
      if (s.phase === "empty") resync("no live link yet");
    }, 1500);
    const poll = setInterval(() => {
      if (linkStatusRef.current !== "live" && s.phase === "live") resync("live link down; polling");
    }, every);

    return () => {
      stopped = true;
      unsubscribe();
      clearTimeout(retryTimer);
      clearTimeout(flushTimer);
      clearTimeout(firstWithoutLink);
      clearInterval(poll);
      inflight?.abort();
      linkRef.current = null;
      void liveLink.stop();
    };
  }, [eventId]);

  const linkStatusRef = useRef(link);
  linkStatusRef.current = link;

  const resync = useCallback((reason: string) => resyncRef.current(reason), []);
  const reconnectNow = useCallback(() => linkRef.current?.reconnectNow(), []);
  return { store, revision, event, link, linkDetail, loadError, resync, reconnectNow };
}

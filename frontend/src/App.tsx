import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { bookSeat, fetchEvents } from "./api";
import { formatMoney, seatShort } from "./basket";
import { runChaos, type BookFn, type ChaosResult } from "./chaos";
import { Basket } from "./components/Basket";
import { BestAvailable } from "./components/BestAvailable";
import { ChaosPanel, ms } from "./components/ChaosPanel";
import { ConnectionStatus } from "./components/ConnectionStatus";
import { StrategyPicker, WhoAmI } from "./components/Controls";
import { EventPicker, EventTitle } from "./components/EventBar";
import { MapLegend, type CategoryInfo } from "./components/MapLegend";
import { MyTickets } from "./components/MyTickets";
import { SeatCanvas, type SeatCanvasHandle } from "./components/SeatCanvas";
import { ServerBanner } from "./components/ServerBanner";
import { Toasts, useToasts } from "./components/Toasts";
import { buildModel, findSeats, parseSeatQuery, type MapModel } from "./mapModel";
import { CATEGORY_COLORS, LOOKS, seatDescription, seatKind, type Mine } from "./seatLook";
import { useSession, type SessionSource } from "./session";
import { STRATEGIES, type EventInfo, type Strategy } from "./types";
import { useBuyer } from "./useBuyer";
import { useSeatSync, type SeatSyncOptions } from "./useSeatSync";
import { useServerHealth } from "./useServerHealth";
import { useWaitingRoom } from "./useWaitingRoom";
import { useStoredState } from "./useStoredState";

export interface AppProps {
  sync?: SeatSyncOptions;
  book?: BookFn;
  session?: SessionSource;
}

const asStrategy = (v: string): Strategy => ((STRATEGIES as readonly string[]).includes(v) ? (v as Strategy) : "ATOMIC");

/** `/events/12`, `?event=12` or `?event=jazz-night`; null when the address names no event. */
export function eventFromLocation(loc: Pick<Location, "pathname" | "search"> = window.location): string | null {
  const path = /^\/events\/([A-Za-z0-9-]+)\/?$/.exec(loc.pathname);
  if (path) return path[1]!;
  return new URLSearchParams(loc.search).get("event");
}

function resolveEvent(wanted: string | null, events: EventInfo[]): number | null {
  if (wanted !== null) {
    if (/^\d+$/.test(wanted)) return Number(wanted);
    const bySlug = events.find((e) => e.slug === wanted);
    if (bySlug) return bySlug.eventId;
  }
  return events.find((e) => e.eventId === 1)?.eventId ?? events[0]?.eventId ?? (wanted === null ? 1 : null);
}

export function App({ sync, book = bookSeat, session: sessionSource }: AppProps) {
  const [events, setEvents] = useState<EventInfo[]>([]);
  const [eventId, setEventId] = useState<number | null>(() => {
    const wanted = eventFromLocation();
    return wanted !== null && /^\d+$/.test(wanted) ? Number(wanted) : null;
  });
  const { store, revision, event, link, linkDetail, loadError, resync, reconnectNow } = useSeatSync(eventId, sync);
  const session = useSession(sessionSource);
  const [strategyRaw, setStrategy] = useStoredState("boxoffice.strategy", () => "ATOMIC");
  const strategy = asStrategy(strategyRaw);
  const { toasts, push, dismiss } = useToasts();
  const notify = useCallback((kind: "success" | "error" | "info", title: string, detail?: string) => push({ kind, title, detail }), [push]);

  const linkDown = link !== "live";
  const { health, report, retryNow } = useServerHealth(linkDown, (wasUnavailable) => {
    reconnectNow();
    if (wasUnavailable) resync("server is back");
  });
  const canWrite = health.state === "ok";

  // The event list (for the picker and for slugs in links); retried while the server is away.
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = (attempt: number) =>
      fetchEvents().then(
        (list) => {
          if (cancelled) return;
          setEvents(list.events);
          setEventId((current) => current ?? resolveEvent(eventFromLocation(), list.events));
        },
        () => {
          if (cancelled) return;
          setEventId((current) => current ?? resolveEvent(eventFromLocation(), []));
          timer = setTimeout(() => load(attempt + 1), Math.min(1000 * 2 ** attempt, 8000));
        },
      );
    void load(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, []);

  // Links: the address follows the picker, and back/forward follow the address.
  const chooseEvent = useCallback((id: number) => {
    setEventId(id);
    const url = new URL(window.location.href);
    url.pathname = "/";
    url.searchParams.set("event", String(id));
    window.history.pushState({ event: id }, "", url);
  }, []);
  useEffect(() => {
    const onPop = () => {
      const wanted = eventFromLocation();
      setEventId((current) => resolveEvent(wanted, events) ?? current);
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, [events]);

  const room = useWaitingRoom(eventId, session?.token ?? null);
  const gated = room.gate === "queue" || room.gate === "closed";
  const buyer = useBuyer({
    token: session?.token ?? null,
    store,
    eventId,
    strategy,
    canWrite: canWrite && !gated,
    admission: room.admissionToken,
    onPurchase: room.purchased,
    report,
    notify,
  });

  // The map model and the categories change with the layout only, never per live change.
  const layout = store.layout;
  const model: MapModel | null = useMemo(() => (layout ? buildModel(layout, store.seats.values()) : null), [layout, store]);
  const categories: CategoryInfo[] = useMemo(() => {
    if (!layout) return [];
    const seen = new Map<string, number | null>();
    for (const seat of store.seats.values()) if (seat.category !== null && !seen.has(seat.category)) seen.set(seat.category, seat.priceCents);
    return [...seen].map(([name, priceCents], i) => ({ name, priceCents, color: CATEGORY_COLORS[i % CATEGORY_COLORS.length]! }));
  }, [layout, store]);
  // Which accessibility marks this map uses (for the legend), found once per layout.
  const accessibleKinds = useMemo(() => {
    const found = new Set<string>();
    if (layout) for (const seat of store.seats.values()) if (seat.accessibility) found.add(seat.accessibility);
    return found;
  }, [layout, store]);
  const areas = useMemo(() => [...store.areas.values()], [store, revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const colorOf = useMemo(() => {
    const byName = new Map(categories.map((c) => [c.name, c.color]));
    return (category: string | null) => (category !== null ? (byName.get(category) ?? LOOKS.available.fill) : LOOKS.available.fill);
  }, [categories]);
  const [highlight, setHighlight] = useState<ReadonlySet<string> | null>(null);
  useEffect(() => setHighlight(null), [eventId]);

  const mine: Mine = useMemo(
    () => ({ booked: buyer.mineBooked, held: buyer.mineHeld, selected: buyer.selected }),
    [buyer.mineBooked, buyer.mineHeld, buyer.selected],
  );
  const mineRef = useRef(mine);
  mineRef.current = mine;

  const describe = useCallback(
    (seatId: number) => {
      const seat = store.seats.get(seatId);
      if (!seat) return "";
      return seatDescription(seat, seatKind(seat, mineRef.current), seat.priceCents !== null ? formatMoney(seat.priceCents) : null);
    },
    [store],
  );

  // Engine demo (chaos mode) lives in its own drawer.
  const [demoOpen, setDemoOpen] = useState(false);
  const [chaosOn, setChaosOn] = useState(false);
  const [target, setTarget] = useState<number | null>(null);
  const [chaosCount, setChaosCount] = useState("50");
  const [chaosRunning, setChaosRunning] = useState(false);
  const [chaosResult, setChaosResult] = useState<ChaosResult | null>(null);
  const chaosRef = useRef(chaosOn);
  chaosRef.current = chaosOn;

  const onActivate = useCallback(
    (seatId: number) => {
      if (chaosRef.current) {
        setTarget(seatId);
        return;
      }
      buyer.toggle(seatId);
    },
    [buyer],
  );

  const onFire = useCallback(async () => {
    if (target === null) return;
    setChaosRunning(true);
    try {
      const prefix = `chaos-${Date.now().toString(36)}`;
      const tracked: BookFn = async (seatId, who, s) => {
        const outcome = await book(seatId, who, s);
        if (outcome.ok) store.apply({ type: "local", seat: outcome.booking });
        return outcome;
      };
      setChaosResult(await runChaos(tracked, target, Number(chaosCount), prefix, strategy));
    } finally {
      setChaosRunning(false);
    }
  }, [book, store, target, chaosCount, strategy]);

  // Type to find: "row C seat 12", "C12", "Balcony C12".
  const canvasRef = useRef<SeatCanvasHandle>(null);
  const [query, setQuery] = useState("");
  const [findNote, setFindNote] = useState<string | null>(null);
  const onFind = (e: React.FormEvent) => {
    e.preventDefault();
    if (!model) return;
    const q = parseSeatQuery(query);
    if (!q) {
      setFindNote('Try "row C seat 12", "C12" or "Balcony C12".');
      return;
    }
    const found = findSeats(model, q);
    if (found.length === 0) {
      setFindNote(`No seat ${q.row}${q.column}${q.section ? ` in ${q.section}` : ""}.`);
      return;
    }
    setFindNote(found.length > 1 ? `${found.length} seats match; showing the first. Add the section to be precise.` : null);
    canvasRef.current?.focusSeat(found[0]!, true);
  };

  // A read-only view for the end-to-end tests: seat states as this page shows them (never who).
  useEffect(() => {
    const w = window as unknown as Record<string, unknown>;
    const bySeatNumber = () => {
      const m = new Map<string, number>();
      for (const s of store.seats.values()) m.set(s.seatNumber, s.seatId);
      return m;
    };
    let index: Map<string, number> | null = null;
    const idOf = (n: string) => {
      index ??= bySeatNumber();
      return index.get(n) ?? 0;
    };
    w.__boxoffice = {
      eventId,
      ready: () => store.phase === "live" && (canvasRef.current?.renderer?.stats.fullDraws ?? 0) > 0,
      seat: (n: string) => {
        const s = store.seats.get(idOf(n));
        return s ? { seatId: s.seatId, status: s.status, kind: seatKind(s, mineRef.current), category: s.category, priceCents: s.priceCents } : null;
      },
      seatById: (id: number) => {
        const s = store.seats.get(id);
        return s ? { seatNumber: s.seatNumber, status: s.status, kind: seatKind(s, mineRef.current) } : null;
      },
      availableSeats: (limit: number, section?: string) => {
        const out: string[] = [];
        for (const s of store.seats.values()) {
          if (out.length >= limit) break;
          if (s.status === "AVAILABLE" && (!section || s.section === section)) out.push(s.seatNumber);
        }
        return out;
      },
      view: () => {
        const out: Record<string, string> = {};
        for (const s of store.seats.values()) out[s.seatNumber] = s.status;
        return out;
      },
      /** The seat's centre in page coordinates, zoomed in so it is at least `minPx` large. */
      point: (n: string, minPx = 24) => {
        const id = idOf(n);
        const c = canvasRef.current;
        const r = c?.renderer;
        const el = document.querySelector('[data-testid="seat-map"]');
        if (!id || !r || !el) return null;
        r.reveal(id, minPx);
        r.flush();
        // Bring the map itself into the window, above the phone's sticky basket footer.
        const footer = document.querySelector('[data-testid="basket-footer"]');
        const footerTop = footer && footer.getBoundingClientRect().height > 0 && getComputedStyle(footer).display !== "none" ? footer.getBoundingClientRect().top : window.innerHeight;
        let box = r.seatBox(id);
        if (!box) return null;
        const y = el.getBoundingClientRect().top + box.y + box.size / 2;
        if (y < 70 || y > footerTop - 10) window.scrollBy(0, y - (70 + footerTop) / 2);
        box = r.seatBox(id)!;
        const rect = el.getBoundingClientRect();
        return { x: rect.left + box.x + box.size / 2, y: rect.top + box.y + box.size / 2, size: box.size };
      },
      stats: () => ({ ...canvasRef.current?.renderer?.stats, resyncs: store.resyncs, phase: store.phase, sequence: store.sequence }),
    };
  }, [store, eventId]);

  const counts = useMemo(() => store.seatCounts(), [store, revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const targetSeat = target === null ? null : (store.seats.get(target) ?? null);
  const sessionReady = session !== null;
  const mapLabel = event ? `Seat map of ${event.name}, ${counts.total.toLocaleString()} seats` : "Seat map";

  return (
    <div className="min-h-dvh pb-40 lg:pb-0">
      <a href="#seat-map-region" className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-slate-900">
        Skip to the seat map
      </a>
      <header className="sticky top-0 z-40 border-b border-white/10 bg-slate-950/90 backdrop-blur">
        <div className="mx-auto flex max-w-[1400px] flex-wrap items-center justify-between gap-2 px-3 py-2 sm:px-6">
          <div className="flex min-w-0 items-center gap-3">
            <span aria-hidden="true" className="grid size-9 shrink-0 place-items-center rounded-xl bg-gradient-to-br from-emerald-400 to-sky-500 text-lg font-black text-slate-950">
              B
            </span>
            <h1 className="text-lg font-bold tracking-tight text-white max-sm:sr-only">Box Office</h1>
            <EventPicker events={events} value={eventId} onChange={chooseEvent} />
          </div>
          <div className="flex items-center gap-2">
            <a href="#my-tickets" className="btn-secondary" data-testid="my-tickets-link">
              <span className="max-sm:sr-only">My tickets&nbsp;</span>
              <span aria-hidden="true" className="sm:hidden">Tickets</span> ({buyer.bookings.length})
            </a>
            <button type="button" className="btn-secondary" aria-expanded={demoOpen} aria-controls="engine-demo" data-testid="demo-toggle" onClick={() => setDemoOpen((o) => !o)}>
              <span className="max-sm:sr-only">Engine demo</span>
              <span aria-hidden="true" className="sm:hidden">Demo</span>
            </button>
            <ConnectionStatus link={link} phase={store.phase} detail={linkDetail} resyncs={store.resyncs} />
          </div>
        </div>
      </header>

      <div className="px-3 pt-3 sm:px-6">
        <ServerBanner health={health} onRetry={() => void retryNow()} />
      </div>

      {room.gate !== "none" && (
        <div className="px-3 sm:px-6">
          <div
            role="status"
            data-testid="waiting-room"
            data-gate={room.gate}
            className="mx-auto mb-1 flex max-w-[1400px] flex-wrap items-center justify-between gap-3 rounded-xl border border-violet-400/40 bg-violet-400/10 px-4 py-3 text-sm text-violet-100"
          >
            {room.gate === "admitted" ? (
              <>
                <p>
                  <strong>It is your turn.</strong> You may hold seats
                  {room.visitor?.admittedUntil ? ` until ${new Date(room.visitor.admittedUntil).toLocaleTimeString()}` : ""}.
                </p>
                <button type="button" className="btn-secondary" data-testid="leave-room" onClick={room.leave}>
                  Leave the on-sale
                </button>
              </>
            ) : room.gate === "queue" ? (
              <p>
                <strong>You are in the queue for this on-sale.</strong>{" "}
                {room.visitor?.position != null
                  ? `Position ${room.visitor.position.toLocaleString()}${room.visitor.estimatedWaitS != null ? `, about ${Math.max(1, Math.round(room.visitor.estimatedWaitS / 60))} min` : ""}.`
                  : "The on-sale has not started yet; places are drawn at the start."}{" "}
                Keep this page open; the map is shown meanwhile, booking opens when it is your turn.
              </p>
            ) : (
              <>
                <p>{room.message}</p>
                <button type="button" className="btn-secondary" onClick={room.rejoin}>
                  Join the queue again
                </button>
              </>
            )}
          </div>
        </div>
      )}

      <main className="mx-auto grid max-w-[1400px] gap-4 px-3 py-3 sm:px-6 lg:grid-cols-[minmax(0,1fr)_360px]">
        <section id="seat-map-region" aria-labelledby="map-title" className="panel min-w-0 p-3 sm:p-4">
          <div className="mb-2 flex flex-wrap items-end justify-between gap-2">
            <EventTitle event={event} />
            <h2 id="map-title" className="sr-only">
              Seat map
            </h2>
            <form onSubmit={onFind} className="flex items-center gap-1.5" role="search" aria-label="Find a seat">
              <label htmlFor="find-seat" className="sr-only">
                Find a seat, for example row C seat 12
              </label>
              <input
                id="find-seat"
                data-testid="find-seat"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
                placeholder="Find: row C seat 12"
                className="w-44 rounded-lg border border-white/15 bg-slate-900 px-2.5 py-1.5 text-sm text-slate-100 placeholder:text-slate-400"
              />
              <button type="submit" className="btn-secondary">
                Find
              </button>
            </form>
          </div>
          {findNote && (
            <p className="mb-2 text-xs text-amber-200" role="status">
              {findNote}
            </p>
          )}
          {chaosOn && <p className="mb-2 text-xs font-semibold text-fuchsia-300">Engine demo: chaos mode is on, a click picks the target seat.</p>}
          {model && store.layout ? (
            <>
              <div className="mb-2 flex flex-wrap items-center gap-1.5" aria-label="Map controls and sections" role="toolbar">
                <button type="button" className="btn-icon" aria-label="Zoom in" onClick={() => canvasRef.current?.zoom(1.5)}>
                  +
                </button>
                <button type="button" className="btn-icon" aria-label="Zoom out" onClick={() => canvasRef.current?.zoom(1 / 1.5)}>
                  −
                </button>
                <button type="button" className="btn-secondary" data-testid="fit" onClick={() => canvasRef.current?.fit()}>
                  Fit
                </button>
                {model.sections.length > 1 &&
                  model.sections.map((s) => (
                    <button key={s.name} type="button" className="btn-chip" data-testid={`section-${s.name}`} onClick={() => canvasRef.current?.showSection(s.name)}>
                      {s.name}
                    </button>
                  ))}
              </div>
              <div className="stage" aria-hidden="true">
                Stage
              </div>
              <div className="h-[calc(100dvh-21rem)] min-h-72 lg:h-[68vh]">
                <SeatCanvas
                  ref={canvasRef}
                  store={store}
                  model={model}
                  mine={mine}
                  categoryColor={colorOf}
                  highlight={highlight}
                  onActivate={onActivate}
                  describe={describe}
                  label={mapLabel}
                />
              </div>
            </>
          ) : (
            <div className="grid h-64 place-items-center text-center text-slate-200" role="status" data-testid="map-loading">
              {loadError ? (
                <div className="space-y-2">
                  <p className="font-semibold">
                    {loadError.status === 404 ? "This event does not exist." : loadError.status === 503 ? "The box office is busy or starting up." : "The box office server cannot be reached."}
                  </p>
                  <p className="text-sm text-slate-300">
                    {loadError.message}
                    {loadError.retryAfterS !== null ? ` Retry-After: ${loadError.retryAfterS} s.` : ""} {loadError.status !== 404 && "Retrying by itself."}
                  </p>
                  {loadError.status !== 404 && (
                    <button type="button" className="btn-secondary" onClick={() => resync("retry button")}>
                      Retry now
                    </button>
                  )}
                </div>
              ) : (
                "Loading seats…"
              )}
            </div>
          )}
        </section>

        <div className="space-y-4">
          <div className="hidden lg:block">
            <Basket buyer={buyer} store={store} canWrite={canWrite && !gated} sessionReady={sessionReady} pausedWhy={gated ? "Booking opens when it is your turn in the queue." : undefined} />
          </div>
          <MapLegend categories={categories} highlight={highlight} onHighlight={setHighlight} counts={counts} accessible={accessibleKinds} />
          <BestAvailable
            buyer={buyer}
            categories={categories}
            sections={model?.sections.map((s) => s.name) ?? []}
            areas={areas}
            canWrite={canWrite && !gated}
            sessionReady={sessionReady}
          />
          <div id="my-tickets">
            <MyTickets buyer={buyer} store={store} canWrite={canWrite} />
          </div>
          <div className="panel">
            <WhoAmI session={session} />
          </div>
        </div>
      </main>

      {/* Phones: the basket sits in a sticky footer under the map. */}
      <div className="fixed inset-x-0 bottom-0 z-30 border-t border-white/15 bg-slate-950/95 px-3 py-2 backdrop-blur lg:hidden" data-testid="basket-footer">
        <Basket buyer={buyer} store={store} canWrite={canWrite && !gated} sessionReady={sessionReady} compact pausedWhy={gated ? "Booking opens when it is your turn in the queue." : undefined} />
      </div>

      {demoOpen && (
        <aside id="engine-demo" aria-label="Engine demo" data-testid="engine-demo" className="fixed inset-y-0 right-0 z-50 w-full max-w-md space-y-4 overflow-y-auto border-l border-white/10 bg-slate-950 p-4 shadow-2xl">
          <div className="flex items-center justify-between">
            <h2 className="text-lg font-bold text-white">Engine demo</h2>
            <button type="button" className="btn-secondary" data-testid="demo-close" onClick={() => setDemoOpen(false)}>
              Close
            </button>
          </div>
          <p className="text-sm text-slate-300">For showing the engine off, apart from buying: pick the locking strategy, read latencies, and race many bookings at one seat.</p>
          <div className="panel">
            <StrategyPicker value={strategy} onChange={setStrategy} />
          </div>
          <div className="panel text-sm text-slate-200" data-testid="latency-readout">
            <p className="panel-title mb-1">Latency</p>
            <p>Last checkout request: {buyer.lastLatencyMs === null ? "none yet" : ms(buyer.lastLatencyMs)}</p>
            <p>
              Map: {counts.total.toLocaleString()} seats, last full paint {ms(canvasRef.current?.renderer?.stats.lastFullMs ?? 0)}, snapshots {store.resyncs}
            </p>
          </div>
          <div className="panel">
            <ChaosPanel
              enabled={chaosOn}
              onToggle={setChaosOn}
              target={targetSeat}
              count={chaosCount}
              onCount={setChaosCount}
              strategy={strategy}
              running={chaosRunning}
              result={chaosResult}
              onFire={onFire}
            />
          </div>
          {targetSeat && <p className="text-xs text-slate-300">Target: {seatShort(targetSeat)}</p>}
        </aside>
      )}
      <Toasts toasts={toasts} onDismiss={dismiss} />
    </div>
  );
}

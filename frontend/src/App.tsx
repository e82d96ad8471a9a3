import { useCallback, useMemo, useRef, useState } from "react";
import { bookSeat, fetchMySeats } from "./api";
import { runChaos, type BookFn, type ChaosResult } from "./chaos";
import { ChaosPanel } from "./components/ChaosPanel";
import { ConnectionStatus } from "./components/ConnectionStatus";
import { StrategyPicker, WhoAmI } from "./components/Controls";
import { Legend } from "./components/Legend";
import { SeatMap } from "./components/SeatMap";
import { Toasts, useToasts } from "./components/Toasts";
import { countSeats } from "./seatStore";
import { useSession, type SessionSource } from "./session";
import { STRATEGIES, type Seat, type Strategy } from "./types";
import { useMySeats, type MySeatsFn } from "./useMySeats";
import { useSeatSync, type SeatSyncOptions } from "./useSeatSync";
import { useStoredState } from "./useStoredState";

export interface AppProps {
  sync?: SeatSyncOptions;
  book?: BookFn;
  /** Where the anonymous session comes from (tests pass a fake server's). */
  session?: SessionSource;
  mySeats?: MySeatsFn;
}

const asStrategy = (v: string): Strategy => (STRATEGIES as readonly string[]).includes(v) ? (v as Strategy) : "ATOMIC";

export function App({ sync, book = bookSeat, session: sessionSource, mySeats = fetchMySeats }: AppProps) {
  const { state, dispatch, link, linkDetail, loadError } = useSeatSync(sync);
  const session = useSession(sessionSource);
  const [mine, addMine] = useMySeats(session?.token ?? null, state, mySeats);
  const [strategyRaw, setStrategy] = useStoredState("boxoffice.strategy", () => "ATOMIC");
  const strategy = asStrategy(strategyRaw);
  const { toasts, push, dismiss } = useToasts();

  const [pending, setPending] = useState<ReadonlySet<number>>(new Set());
  const [chaosOn, setChaosOn] = useState(false);
  const [target, setTarget] = useState<number | null>(null);
  const [chaosCount, setChaosCount] = useState("50");
  const [chaosRunning, setChaosRunning] = useState(false);
  const [chaosResult, setChaosResult] = useState<ChaosResult | null>(null);

  // Handlers read the latest values through a ref so they stay stable and never re-render the map.
  const latest = useRef({ session, strategy, chaosOn, seats: state.seats, mine });
  latest.current = { session, strategy, chaosOn, seats: state.seats, mine };

  const setSeatPending = useCallback((seatId: number, on: boolean) => {
    setPending((prev) => {
      const next = new Set(prev);
      if (on) next.add(seatId);
      else next.delete(seatId);
      return next;
    });
  }, []);

  const onActivate = useCallback(
    async (seat: Seat) => {
      const { session: current, strategy: chosen, chaosOn: chaos } = latest.current;
      if (chaos) {
        setTarget(seat.seatId);
        return;
      }
      if (!current) {
        push({ kind: "error", title: "Not ready yet", detail: "Still getting a session from the server; try again in a moment." });
        return;
      }
      setSeatPending(seat.seatId, true);
      const outcome = await book(seat.seatId, { token: current.token }, chosen);
      setSeatPending(seat.seatId, false);
      if (outcome.ok) {
        addMine(seat.seatId);
        dispatch({ type: "local", seat: outcome.booking });
        push({
          kind: "success",
          title: `Seat ${seat.seatNumber} is yours`,
          detail: `Booked with ${outcome.booking.strategy} in ${Math.round(outcome.latencyMs)} ms`,
        });
      } else if (outcome.status === 409) {
        const known = latest.current.seats.get(seat.seatId);
        // We showed the seat as free, so our view is behind: catch up now rather than wait for events.
        if (known?.status === "AVAILABLE") dispatch({ type: "stale", reason: `409 on seat ${seat.seatNumber} shown free` });
        push({
          kind: "error",
          title: `Seat ${seat.seatNumber} is already booked`,
          detail: latest.current.mine.has(seat.seatId) ? "You booked it earlier." : "Someone got there first.",
        });
      } else {
        const busy = outcome.status === 503 || outcome.status === 429;
        push({
          kind: "error",
          title: busy ? `Could not book seat ${seat.seatNumber} right now` : `Booking seat ${seat.seatNumber} failed`,
          detail: `${outcome.message}${outcome.status ? ` (HTTP ${outcome.status})` : ""}`,
        });
      }
    },
    [book, dispatch, push, setSeatPending, addMine],
  );

  const onFire = useCallback(async () => {
    if (target === null) return;
    setChaosRunning(true);
    try {
      const prefix = `chaos-${Date.now().toString(36)}`;
      // The winner's answer updates this page at once, live link or not.
      const tracked: BookFn = async (seatId, buyer, s) => {
        const outcome = await book(seatId, buyer, s);
        if (outcome.ok) dispatch({ type: "local", seat: outcome.booking });
        return outcome;
      };
      const result = await runChaos(tracked, target, Number(chaosCount), prefix, strategy);
      setChaosResult(result);
    } finally {
      setChaosRunning(false);
    }
  }, [book, dispatch, target, chaosCount, strategy]);

  const counts = useMemo(() => countSeats(state.seats), [state.seats]);
  const mineCount = useMemo(() => {
    let n = 0;
    for (const id of mine) if (state.seats.get(id)?.status === "BOOKED") n += 1;
    return n;
  }, [state.seats, mine]);
  const targetSeat = target === null ? null : (state.seats.get(target) ?? null);

  return (
    <div className="min-h-dvh">
      <header className="sticky top-0 z-40 border-b border-white/10 bg-slate-950/85 backdrop-blur">
        <div className="mx-auto flex max-w-[1400px] items-center justify-between gap-3 px-4 py-3 sm:px-6">
          <div className="flex min-w-0 items-center gap-3">
            <span aria-hidden="true" className="grid size-9 shrink-0 place-items-center rounded-xl bg-gradient-to-br from-emerald-400 to-sky-500 text-lg font-black text-slate-950 shadow-lg shadow-emerald-500/20">
              B
            </span>
            <div className="min-w-0">
              <h1 className="truncate text-lg font-bold tracking-tight text-white">Box Office</h1>
              <p className="hidden text-xs text-slate-400 sm:block">One seat, one winner — live seat map</p>
            </div>
          </div>
          <ConnectionStatus link={link} phase={state.phase} detail={linkDetail} resyncs={state.resyncs} />
        </div>
      </header>

      <main className="mx-auto grid max-w-[1400px] gap-4 px-3 py-4 sm:px-6 sm:py-6 lg:grid-cols-[minmax(0,1fr)_340px] lg:grid-rows-[auto_1fr] lg:gap-6">
        <div className="panel grid gap-4 sm:grid-cols-2 lg:col-start-2 lg:row-start-1 lg:grid-cols-1">
          <WhoAmI session={session} />
          <StrategyPicker value={strategy} onChange={setStrategy} />
        </div>

        <section aria-labelledby="map-title" className="panel min-w-0 lg:col-start-1 lg:row-span-2 lg:row-start-1 lg:self-start">
          <div className="mb-4 flex flex-wrap items-baseline justify-between gap-2">
            <h2 id="map-title" className="panel-title">
              Seat map
            </h2>
            <p className="text-xs text-slate-400">
              {chaosOn ? "Chaos mode: click a seat to target it" : "Click, tap or press Enter on a seat to book it"}
            </p>
          </div>
          {state.layout && link !== "live" && (
            <p
              data-testid="stale-banner"
              className="mb-3 rounded-lg border border-amber-400/30 bg-amber-400/10 px-3 py-2 text-sm text-amber-200"
            >
              Live updates paused while reconnecting; the map refreshes itself every few seconds until then.
            </p>
          )}
          <div className="stage" aria-hidden="true">
            Stage
          </div>
          {state.layout ? (
            <div data-testid="map-scroll" className="-mx-1 overflow-x-auto px-1 pb-2">
              <SeatMap
                layout={state.layout}
                seats={state.seats}
                mine={mine}
                onActivate={onActivate}
                selectedId={chaosOn ? target : null}
                pending={pending}
              />
            </div>
          ) : (
            <div className="grid h-64 place-items-center text-slate-400" role="status">
              {loadError ? `Could not load seats: ${loadError}. Retrying…` : "Loading seats…"}
            </div>
          )}
        </section>

        <div className="space-y-4 lg:col-start-2 lg:row-start-2">
          <div className="panel">
            <Legend counts={counts} mine={mineCount} />
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
        </div>
      </main>
      <Toasts toasts={toasts} onDismiss={dismiss} />
    </div>
  );
}

import { useCallback, useMemo, useRef, useState } from "react";
import { bookSeat } from "./api";
import { runChaos, type BookFn, type ChaosResult } from "./chaos";
import { ChaosPanel } from "./components/ChaosPanel";
import { ConnectionStatus } from "./components/ConnectionStatus";
import { StrategyPicker, UserField, userIdProblem } from "./components/Controls";
import { Legend } from "./components/Legend";
import { SeatMap } from "./components/SeatMap";
import { Toasts, useToasts } from "./components/Toasts";
import { countSeats } from "./seatStore";
import { STRATEGIES, type Seat, type Strategy } from "./types";
import { useSeatSync, type SeatSyncOptions } from "./useSeatSync";
import { guestName, useStoredState } from "./useStoredState";

export interface AppProps {
  sync?: SeatSyncOptions;
  book?: BookFn;
}

const asStrategy = (v: string): Strategy => (STRATEGIES as readonly string[]).includes(v) ? (v as Strategy) : "ATOMIC";

export function App({ sync, book = bookSeat }: AppProps) {
  const { state, dispatch, link, linkDetail, loadError } = useSeatSync(sync);
  const [userRaw, setUser] = useStoredState("boxoffice.userId", guestName);
  const [strategyRaw, setStrategy] = useStoredState("boxoffice.strategy", () => "ATOMIC");
  const strategy = asStrategy(strategyRaw);
  const me = userRaw.trim();
  const { toasts, push, dismiss } = useToasts();

  const [pending, setPending] = useState<ReadonlySet<number>>(new Set());
  const [chaosOn, setChaosOn] = useState(false);
  const [target, setTarget] = useState<number | null>(null);
  const [chaosCount, setChaosCount] = useState("50");
  const [chaosRunning, setChaosRunning] = useState(false);
  const [chaosResult, setChaosResult] = useState<ChaosResult | null>(null);

  // Handlers read the latest values through a ref so they stay stable and never re-render the map.
  const latest = useRef({ me, strategy, chaosOn, seats: state.seats });
  latest.current = { me, strategy, chaosOn, seats: state.seats };

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
      const { me: user, strategy: chosen, chaosOn: chaos } = latest.current;
      if (chaos) {
        setTarget(seat.seatId);
        return;
      }
      const problem = userIdProblem(user);
      if (problem) {
        push({ kind: "error", title: "Who are you?", detail: problem });
        return;
      }
      setSeatPending(seat.seatId, true);
      const outcome = await book(seat.seatId, user, chosen);
      setSeatPending(seat.seatId, false);
      if (outcome.ok) {
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
        const holder = known?.bookedBy;
        push({
          kind: "error",
          title: `Seat ${seat.seatNumber} is already booked`,
          detail: holder ? (holder === user ? "You booked it earlier." : `Taken by ${holder}.`) : "Someone got there first.",
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
    [book, dispatch, push, setSeatPending],
  );

  const onFire = useCallback(async () => {
    if (target === null) return;
    setChaosRunning(true);
    try {
      const prefix = `chaos-${Date.now().toString(36)}`;
      // The winner's answer updates this page at once, live link or not.
      const tracked: BookFn = async (seatId, userId, s) => {
        const outcome = await book(seatId, userId, s);
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
  const mine = useMemo(() => {
    let n = 0;
    if (me) for (const s of state.seats.values()) if (s.status === "BOOKED" && s.bookedBy === me) n += 1;
    return n;
  }, [state.seats, me]);
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
          <UserField value={userRaw} onChange={setUser} />
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
                me={me}
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
            <Legend counts={counts} mine={mine} />
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

/** Chaos mode: pick a seat, fire N simultaneous bookings at it, and see that exactly one wins. */
import { useId } from "react";
import { MAX_CHAOS_REQUESTS, clampChaosCount, type ChaosResult } from "../chaos";
import type { Seat, Strategy } from "../types";

export interface ChaosPanelProps {
  enabled: boolean;
  onToggle: (on: boolean) => void;
  target: Seat | null;
  /** The field's text; it is clamped to 1..MAX_CHAOS_REQUESTS when fired and when the field loses focus. */
  count: string;
  onCount: (text: string) => void;
  strategy: Strategy;
  running: boolean;
  result: ChaosResult | null;
  onFire: () => void;
}

export const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);

function Stat({ label, value, testId, tone = "text-slate-100" }: { label: string; value: string; testId: string; tone?: string }) {
  return (
    <div className="rounded-lg bg-slate-950/60 px-3 py-2 ring-1 ring-white/5">
      <dt className="text-[11px] font-medium uppercase tracking-wider text-slate-400">{label}</dt>
      <dd data-testid={testId} className={`text-xl font-bold tabular-nums ${tone}`}>
        {value}
      </dd>
    </div>
  );
}

export function ChaosPanel(p: ChaosPanelProps) {
  const countId = useId();
  const n = clampChaosCount(Number(p.count));
  const raced = p.result !== null && p.target !== null && p.result.seatId === p.target.seatId;
  const problem = !p.target
    ? "Click a seat on the map to target it."
    : p.target.status === "AVAILABLE"
      ? null
      : raced
        ? `Seat ${p.target.seatNumber} has its winner. Click another green seat to race again.`
        : `Seat ${p.target.seatNumber} is already taken: every request will get 409. Pick a green seat.`;
  const r = p.result;
  const errorCount = r ? Object.values(r.errors).reduce((a, b) => a + b, 0) : 0;
  return (
    <section aria-labelledby={`${countId}-title`} data-testid="chaos-panel">
      <div className="flex items-center justify-between gap-3">
        <h2 id={`${countId}-title`} className="panel-title">
          Chaos mode
        </h2>
        <label className="inline-flex cursor-pointer items-center gap-2 text-sm text-slate-300">
          <span>{p.enabled ? "On" : "Off"}</span>
          <input
            type="checkbox"
            role="switch"
            checked={p.enabled}
            onChange={(e) => p.onToggle(e.target.checked)}
            data-testid="chaos-toggle"
            className="peer sr-only"
            aria-label="Chaos mode"
          />
          <span
            aria-hidden="true"
            className="relative h-6 w-11 rounded-full bg-slate-700 transition peer-checked:bg-fuchsia-500 peer-focus-visible:ring-2 peer-focus-visible:ring-fuchsia-300 after:absolute after:top-0.5 after:left-0.5 after:size-5 after:rounded-full after:bg-white after:transition peer-checked:after:translate-x-5"
          />
        </label>
      </div>
      {!p.enabled ? (
        <p className="mt-2 text-sm text-slate-400">
          Fire up to {MAX_CHAOS_REQUESTS} simultaneous bookings at one seat and watch the engine pick exactly one winner.
        </p>
      ) : (
        <div className="mt-3 space-y-3">
          <p className="text-sm text-slate-300">
            Target:{" "}
            <span data-testid="chaos-target" className="font-semibold text-fuchsia-300">
              {p.target ? `Seat ${p.target.seatNumber}` : "none"}
            </span>{" "}
            <span className="text-slate-500">· {p.strategy}</span>
          </p>
          {problem && <p className="text-sm text-amber-300">{problem}</p>}
          <div className="flex items-end gap-2">
            <div className="w-28">
              <label htmlFor={countId} className="mb-1 block text-xs text-slate-400">
                Requests (1–{MAX_CHAOS_REQUESTS})
              </label>
              <input
                id={countId}
                type="number"
                inputMode="numeric"
                min={1}
                max={MAX_CHAOS_REQUESTS}
                value={p.count}
                onChange={(e) => p.onCount(e.target.value)}
                onBlur={() => p.onCount(String(n))}
                data-testid="chaos-count"
                className="w-full rounded-lg border border-white/10 bg-slate-950/60 px-3 py-2 tabular-nums text-slate-100 focus:border-fuchsia-400 focus:outline-none focus:ring-2 focus:ring-fuchsia-400/40"
              />
            </div>
            <button
              type="button"
              onClick={p.onFire}
              disabled={!p.target || p.running}
              data-testid="chaos-fire"
              className="flex-1 rounded-lg bg-fuchsia-500 px-4 py-2 font-semibold text-white shadow-lg shadow-fuchsia-500/20 transition hover:bg-fuchsia-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-fuchsia-300 disabled:cursor-not-allowed disabled:opacity-40"
            >
              {p.running ? "Firing…" : `Fire ${n}`}
            </button>
          </div>
          {r && (
            <div data-testid="chaos-result" aria-live="polite" className="space-y-2">
              <p className="text-sm text-slate-300">
                Seat <span className="font-semibold">{p.target?.seatId === r.seatId ? p.target.seatNumber : `#${r.seatId}`}</span> ·{" "}
                {r.requests} requests · {r.strategy} · wall {ms(r.wallMs)}
              </p>
              <dl className="grid grid-cols-3 gap-2">
                <Stat
                  label="Winners"
                  value={String(r.winners.length)}
                  testId="chaos-winners"
                  tone={r.winners.length === 1 ? "text-emerald-300" : "text-rose-300"}
                />
                <Stat label="Got 409" value={String(r.conflicts)} testId="chaos-conflicts" />
                <Stat label="Errors" value={String(errorCount)} testId="chaos-errors" tone={errorCount ? "text-amber-300" : "text-slate-100"} />
              </dl>
              <dl className="grid grid-cols-4 gap-2 text-center" aria-label="Latency">
                {(["min", "p50", "p95", "max"] as const).map((k) => (
                  <div key={k} className="rounded-md bg-slate-950/60 px-1 py-1.5 ring-1 ring-white/5">
                    <dt className="text-[10px] uppercase tracking-wider text-slate-400">{k}</dt>
                    <dd data-testid={`chaos-latency-${k}`} className="text-sm font-semibold tabular-nums">
                      {ms(r.latency[k])}
                    </dd>
                  </div>
                ))}
              </dl>
              {r.winners.length > 0 && (
                <p className="text-sm text-slate-400">
                  Winner: <span data-testid="chaos-winner" className="font-mono text-emerald-300">{r.winners.join(", ")}</span>
                </p>
              )}
              {errorCount > 0 && (
                <p className="text-sm text-amber-300">
                  Other answers: {Object.entries(r.errors).map(([s, n]) => `${s === "0" ? "no answer" : `HTTP ${s}`} × ${n}`).join(", ")}
                </p>
              )}
            </div>
          )}
        </div>
      )}
    </section>
  );
}

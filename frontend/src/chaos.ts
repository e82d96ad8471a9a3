/**
 * "Chaos mode": many users race for one seat at once; the engine must let exactly one win.
 * The browser itself caps parallel HTTP/1.1 connections per host (6 in Chromium), so requests beyond that
 * queue inside the browser; latencies therefore include that queueing, and the wall time is reported too.
 */
import type { BookingOutcome, Buyer } from "./api";
import type { Strategy } from "./types";

export const MAX_CHAOS_REQUESTS = 200;

export interface ChaosResult {
  seatId: number;
  strategy: Strategy;
  requests: number;
  winners: string[];
  conflicts: number;
  /** Failures other than 409, by HTTP status ("0" = no answer). */
  errors: Record<string, number>;
  latency: { min: number; p50: number; p95: number; max: number };
  wallMs: number;
}

export type BookFn = (seatId: number, buyer: Buyer, strategy: Strategy) => Promise<BookingOutcome>;

export function clampChaosCount(n: number): number {
  if (!Number.isFinite(n)) return 1;
  return Math.min(MAX_CHAOS_REQUESTS, Math.max(1, Math.trunc(n)));
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

export async function runChaos(
  book: BookFn,
  seatId: number,
  count: number,
  userPrefix: string,
  strategy: Strategy,
): Promise<ChaosResult> {
  const n = clampChaosCount(count);
  const started = performance.now();
  const outcomes = await Promise.all(
    // Made-up buyers with bare names (the seed API): each is a different user to the engine.
    Array.from({ length: n }, (_, i) => book(seatId, { userId: `${userPrefix}-${i + 1}`.slice(0, 64) }, strategy)),
  );
  const wallMs = performance.now() - started;
  const winners: string[] = [];
  const errors: Record<string, number> = {};
  let conflicts = 0;
  for (const outcome of outcomes) {
    if (outcome.ok) winners.push(outcome.booking.userId);
    else if (outcome.status === 409) conflicts += 1;
    else errors[String(outcome.status)] = (errors[String(outcome.status)] ?? 0) + 1;
  }
  const latencies = outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);
  return {
    seatId,
    strategy,
    requests: n,
    winners,
    conflicts,
    errors,
    latency: {
      min: latencies[0] ?? 0,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      max: latencies[latencies.length - 1] ?? 0,
    },
    wallMs,
  };
}

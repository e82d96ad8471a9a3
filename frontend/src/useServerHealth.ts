/**
 * Is the server there? Any answer with status 0 (no answer) or 503 marks it unavailable; from then on a
 * cheap probe (`GET /api/v1/events`) runs every second (or after `Retry-After`, at most 2 s) until it answers
 * 200, and `onBack` runs at once, so the page is live again within about a second of the server being ready.
 * The live link dropping starts the same probe.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { apiRequest, type ApiFailure } from "./api";

export type HealthState = "ok" | "down" | "busy";

export interface Health {
  state: HealthState;
  message: string | null;
  retryAfterS: number | null;
  /** When the next automatic check runs (ms since epoch), for the countdown in the banner. */
  nextCheckAt: number | null;
}

const OK: Health = { state: "ok", message: null, retryAfterS: null, nextCheckAt: null };
export const PROBE_MS = 1000;

export function describeFailure(f: Pick<ApiFailure, "status" | "retryAfterS" | "message">): string {
  const wait = f.retryAfterS !== null ? ` Retry-After: ${f.retryAfterS} s.` : "";
  if (f.status === 0) return "The box office server cannot be reached.";
  if (f.status === 503) return `The box office is temporarily unavailable (HTTP 503: ${f.message}).${wait}`;
  if (f.status === 429) return `Too many requests from here (HTTP 429).${wait}`;
  return `${f.message} (HTTP ${f.status})`;
}

export function useServerHealth(linkDown: boolean, onBack: (wasUnavailable: boolean) => void, probe = () => apiRequest<unknown>("GET", "/api/v1/events")) {
  const [health, setHealth] = useState<Health>(OK);
  const onBackRef = useRef(onBack);
  onBackRef.current = onBack;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const probing = useRef(false);
  const bad = useRef(false);
  bad.current = health.state !== "ok";

  const check = useCallback(async () => {
    if (probing.current) return;
    probing.current = true;
    clearTimeout(timer.current);
    const answer = await probe();
    probing.current = false;
    if (answer.ok) {
      const was = bad.current;
      bad.current = false;
      setHealth(OK);
      onBackRef.current(was);
      return;
    }
    const state: HealthState = answer.status === 0 ? "down" : "busy";
    const wait = Math.min(2000, Math.max(PROBE_MS, (answer.retryAfterS ?? 0) * 1000));
    setHealth({ state, message: describeFailure(answer), retryAfterS: answer.retryAfterS, nextCheckAt: Date.now() + wait });
    timer.current = setTimeout(() => void check(), wait);
  }, [probe]);

  /** Tell the monitor about an answer some request got. */
  const report = useCallback(
    (failure: Pick<ApiFailure, "status" | "retryAfterS" | "message">) => {
      if (failure.status !== 0 && failure.status !== 503) return;
      setHealth((h) =>
        h.state === "ok"
          ? {
              state: failure.status === 0 ? "down" : "busy",
              message: describeFailure(failure),
              retryAfterS: failure.retryAfterS,
              nextCheckAt: Date.now() + PROBE_MS,
            }
          : h,
      );
      clearTimeout(timer.current);
      timer.current = setTimeout(() => void check(), PROBE_MS);
    },
    [check],
  );

  // The live link dropping is the first sign of an outage: probe until the server answers.
  useEffect(() => {
    if (!linkDown) return;
    const t = setTimeout(() => void check(), 300);
    return () => clearTimeout(t);
  }, [linkDown, check]);

  // While the link is down but the server answers, keep nudging the link every second.
  useEffect(() => {
    if (!linkDown) return;
    const every = setInterval(() => void check(), PROBE_MS);
    return () => clearInterval(every);
  }, [linkDown, check]);

  useEffect(() => () => clearTimeout(timer.current), []);
  return { health, report, retryNow: check };
}

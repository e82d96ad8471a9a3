/**
 * This browser's anonymous session (`POST /api/v1/sessions`): who the server knows us as.
 *
 * The token is kept in localStorage so a reload (or a visit days later) still owns the same bookings; it is
 * renewed when it nears expiry and replaced when the server no longer accepts it. Bookings send it as a
 * bearer token, so nobody else can act on them, and seat maps never need to say whose a seat is.
 */
import { useEffect, useState } from "react";
import { createSession } from "./api";
import type { Session } from "./types";

export const SESSION_KEY = "boxoffice.session";
/** Renew a session this close to its expiry instead of letting it lapse mid-visit. */
export const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

export type SessionSource = (current?: string) => Promise<Session>;

function stored(): Session | null {
  try {
    const raw = window.localStorage.getItem(SESSION_KEY);
    const value = raw ? (JSON.parse(raw) as Partial<Session>) : null;
    if (value && typeof value.token === "string" && typeof value.userId === "string" && typeof value.expiresAt === "string") {
      return value as Session;
    }
  } catch {
    // Unreadable storage or a corrupt value: start a new session.
  }
  return null;
}

function store(session: Session): void {
  try {
    window.localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  } catch {
    // Private mode or a full quota: the session lives for this page only.
  }
}

/** The stored session if it has time left, else a renewed or new one (stored before it is returned). */
export async function obtainSession(create: SessionSource = createSession, now = Date.now()): Promise<Session> {
  const current = stored();
  const left = current ? Date.parse(current.expiresAt) - now : -1;
  if (current && left > RENEW_BEFORE_MS) return current;
  let next: Session | null = null;
  if (current && left > 0) {
    try {
      next = await create(current.token);
    } catch (err) {
      // Refused (a new server secret, say): start afresh. Anything else (network): try again later.
      if ((err as { status?: number }).status !== 401) throw err;
    }
  }
  next ??= await create();
  store(next);
  return next;
}

/** The session once there is one; retried with backoff while the server cannot be reached. */
export function useSession(create: SessionSource = createSession, retryMs = 1000): Session | null {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = (failures: number) => {
      obtainSession(create).then(
        (s) => {
          if (!cancelled) setSession(s);
        },
        () => {
          if (!cancelled) timer = setTimeout(() => attempt(failures + 1), Math.min(retryMs * 2 ** failures, 15_000));
        },
      );
    };
    attempt(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [create, retryMs]);
  return session;
}

/** HTTP calls to the Box Office API, each bounded in time and returning a value instead of throwing. */
import type { ApiErrorBody, Booking, Inventory, MyBookings, Session, Strategy } from "./types";

export const REQUEST_TIMEOUT_MS = 10_000;

export type BookingOutcome =
  | { ok: true; booking: Booking; latencyMs: number }
  /** `status` 0 means no HTTP answer at all (network down, timeout). */
  | { ok: false; status: number; error: ApiErrorBody | null; message: string; latencyMs: number };

/**
 * Who a booking is for: this browser's anonymous session (sent as a bearer token, so the server knows the
 * booking is ours), or a bare name (chaos mode's crowd of made-up buyers, the seed API's `userId`).
 */
export type Buyer = { token: string } | { userId: string };

function isErrorBody(v: unknown): v is ApiErrorBody {
  return typeof v === "object" && v !== null && typeof (v as ApiErrorBody).error === "string";
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export async function fetchInventory(signal?: AbortSignal): Promise<Inventory> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const response = await fetch("/api/v1/seats", {
    headers: { Accept: "application/json" },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`GET /api/v1/seats answered ${response.status}`);
  return (await response.json()) as Inventory;
}

/** A new anonymous session, or `current` renewed; throws with the HTTP status (401: `current` is no good). */
export async function createSession(current?: string): Promise<Session> {
  const response = await fetch("/api/v1/sessions", {
    method: "POST",
    headers: { Accept: "application/json", ...(current ? bearer(current) : {}) },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw Object.assign(new Error(`POST /api/v1/sessions answered ${response.status}`), { status: response.status });
  return (await response.json()) as Session;
}

/** The seats this session has booked (confirmed bookings), for showing them as "yours". */
export async function fetchMySeats(token: string, signal?: AbortSignal): Promise<number[]> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const response = await fetch("/api/v1/me/bookings?status=CONFIRMED&limit=500", {
    headers: { Accept: "application/json", ...bearer(token) },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`GET /api/v1/me/bookings answered ${response.status}`);
  return ((await response.json()) as MyBookings).bookings.map((b) => b.seatId);
}

export async function bookSeat(seatId: number, buyer: Buyer, strategy: Strategy): Promise<BookingOutcome> {
  const started = performance.now();
  const who = "token" in buyer ? { headers: bearer(buyer.token), body: {} } : { headers: {}, body: { userId: buyer.userId } };
  let response: Response;
  try {
    response = await fetch("/api/v1/bookings", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...who.headers },
      body: JSON.stringify({ seatId, strategy, ...who.body }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const message = err instanceof Error && err.name === "TimeoutError" ? "Request timed out" : "Network error";
    return { ok: false, status: 0, error: null, message, latencyMs: performance.now() - started };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const latencyMs = performance.now() - started;
  if (response.status === 201 && body !== null) return { ok: true, booking: body as Booking, latencyMs };
  const error = isErrorBody(body) ? body : null;
  return {
    ok: false,
    status: response.status,
    error,
    message: error?.message ?? `HTTP ${response.status}`,
    latencyMs,
  };
}

/** HTTP calls to the Box Office API, each bounded in time and returning a value instead of throwing. */
import type { ApiErrorBody, Booking, Inventory, Strategy } from "./types";

export const REQUEST_TIMEOUT_MS = 10_000;

export type BookingOutcome =
  | { ok: true; booking: Booking; latencyMs: number }
  /** `status` 0 means no HTTP answer at all (network down, timeout). */
  | { ok: false; status: number; error: ApiErrorBody | null; message: string; latencyMs: number };

function isErrorBody(v: unknown): v is ApiErrorBody {
  return typeof v === "object" && v !== null && typeof (v as ApiErrorBody).error === "string";
}

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

export async function bookSeat(seatId: number, userId: string, strategy: Strategy): Promise<BookingOutcome> {
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch("/api/v1/bookings", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ seatId, userId, strategy }),
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

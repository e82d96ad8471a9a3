/** HTTP calls to the Box Office API, each bounded in time and returning a value instead of throwing. */
import type {
  ApiErrorBody,
  Booking,
  BookingRecord,
  BookingsResult,
  Cancellation,
  EventInfo,
  EventInventory,
  EventList,
  Hold,
  MyBookings,
  MyHolds,
  Session,
  Strategy,
} from "./types";

export const REQUEST_TIMEOUT_MS = 10_000;

/** An answer other than the one hoped for; `status` 0 means no HTTP answer at all (network down, timeout). */
export interface ApiFailure {
  ok: false;
  status: number;
  /** The API's error code (`SEATS_TAKEN`, `RATE_LIMITED`, ...) when the body had one. */
  code: string | null;
  message: string;
  /** Seconds from `Retry-After` (429, 503), when the server sent it. */
  retryAfterS: number | null;
  /** The seats concerned (409 SEATS_TAKEN, 404 SEATS_NOT_FOUND). */
  seatIds: number[];
  latencyMs: number;
}

export type ApiResult<T> = { ok: true; status: number; body: T; replayed: boolean; latencyMs: number } | ApiFailure;

export type BookingOutcome =
  | { ok: true; booking: Booking; latencyMs: number }
  | { ok: false; status: number; error: ApiErrorBody | null; message: string; latencyMs: number };

/**
 * Who a booking is for: this browser's anonymous session (sent as a bearer token, so the server knows the
 * booking is ours), or a bare name (chaos mode's crowd of made-up buyers, the seed API's `userId`).
 */
export type Buyer = { token: string } | { userId: string };

/** Thrown by the GET helpers below; carries what the page needs to say what is going on. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  return typeof v === "object" && v !== null && typeof (v as ApiErrorBody).error === "string";
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date), bounded to an hour; null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), 3600);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.min(3600, Math.ceil((at - now) / 1000)));
}

const bearer = (token: string | null | undefined): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});

/** A fresh `Idempotency-Key`: one per user intent, reused for every retry of that intent. */
export function newIdempotencyKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** One API call; never throws. */
export async function apiRequest<T>(method: "GET" | "POST", path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const headers: Record<string, string> = { Accept: "application/json", ...bearer(options.token), ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      cache: "no-store",
    });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === "TimeoutError";
    return {
      ok: false,
      status: 0,
      code: null,
      message: timedOut ? "The server did not answer in time" : "The server cannot be reached",
      retryAfterS: null,
      seatIds: [],
      latencyMs: performance.now() - started,
    };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const latencyMs = performance.now() - started;
  if (response.ok && body !== null) {
    return { ok: true, status: response.status, body: body as T, replayed: response.headers.get("Idempotent-Replayed") === "true", latencyMs };
  }
  const error = isErrorBody(body) ? body : null;
  const raw = error as (ApiErrorBody & { seatIds?: unknown }) | null;
  const seatIds = Array.isArray(raw?.seatIds) ? raw.seatIds.filter((v): v is number => typeof v === "number") : [];
  return {
    ok: false,
    status: response.status,
    code: error?.error ?? null,
    message: error?.message ?? `HTTP ${response.status}`,
    retryAfterS: retryAfterSeconds(response.headers.get("Retry-After")),
    seatIds,
    latencyMs,
  };
}

async function getJson<T>(path: string, token?: string | null, signal?: AbortSignal): Promise<T> {
  const answer = await apiRequest<T>("GET", path, { token, signal });
  if (answer.ok) return answer.body;
  throw new HttpError(`${answer.message}${answer.status ? ` (HTTP ${answer.status})` : ""}`, answer.status, answer.retryAfterS);
}

export const fetchEvents = (signal?: AbortSignal) => getJson<EventList>("/api/v1/events", null, signal);

export const fetchEventInventory = (eventId: number, signal?: AbortSignal) =>
  getJson<EventInventory>(`/api/v1/events/${eventId}/seats`, null, signal);

export const fetchEvent = (eventId: number, signal?: AbortSignal) => getJson<EventInfo>(`/api/v1/events/${eventId}`, null, signal);

/** A new anonymous session, or `current` renewed; throws with the HTTP status (401: `current` is no good). */
export async function createSession(current?: string): Promise<Session> {
  const answer = await apiRequest<Session>("POST", "/api/v1/sessions", { token: current });
  if (answer.ok) return answer.body;
  throw Object.assign(new Error(`POST /api/v1/sessions answered ${answer.status}`), { status: answer.status });
}

/** The session's confirmed bookings, newest first (one page of up to 500). */
export async function fetchMyBookings(token: string, signal?: AbortSignal): Promise<BookingRecord[]> {
  const mine = await getJson<MyBookings>("/api/v1/me/bookings?status=CONFIRMED&limit=500", token, signal);
  return mine.bookings;
}

export async function fetchMyHolds(token: string, signal?: AbortSignal): Promise<Hold[]> {
  return (await getJson<MyHolds>("/api/v1/me/holds?limit=100", token, signal)).holds;
}

/** Hold hand-picked seats; `accessible` is required by the server for wheelchair and companion seats. */
export const placeHold = (token: string, seatIds: number[], key: string, accessible = false, admission: string | null = null) =>
  apiRequest<Hold>("POST", "/api/v1/holds", {
    token,
    body: accessible ? { seatIds, accessible: true } : { seatIds },
    idempotencyKey: key,
    headers: admission ? { "Admission-Token": admission } : undefined,
  });

export interface BestAvailable {
  quantity: number;
  category?: string;
  /** A seated section, or a general-admission area (then `quantity` tickets of it). */
  section?: string;
  together?: boolean;
  accessible?: number;
}

/** Let the server pick the best seats (or GA tickets) and hold them. */
export const holdBestAvailable = (token: string, eventId: number, bestAvailable: BestAvailable, key: string, admission: string | null = null) =>
  apiRequest<Hold>("POST", "/api/v1/holds", {
    token,
    body: { eventId, bestAvailable },
    idempotencyKey: key,
    headers: admission ? { "Admission-Token": admission } : undefined,
  });

export const extendHold = (token: string, holdToken: string, key: string) =>
  apiRequest<Hold>("POST", `/api/v1/holds/${encodeURIComponent(holdToken)}/extend`, { token, body: {}, idempotencyKey: key });

export const releaseHold = (token: string, holdToken: string, key: string) =>
  apiRequest<Hold>("POST", `/api/v1/holds/${encodeURIComponent(holdToken)}/release`, { token, body: {}, idempotencyKey: key });

export const confirmHold = (token: string, holdToken: string, key: string) =>
  apiRequest<BookingsResult>("POST", "/api/v1/bookings", { token, body: { holdToken }, idempotencyKey: key });

export const cancelBooking = (token: string, bookingId: number, key: string) =>
  apiRequest<Cancellation>("POST", `/api/v1/bookings/${bookingId}/cancel`, { token, body: {}, idempotencyKey: key });

/** One seat, booked at once (the engine demo's chaos mode; buyers go through holds). */
export async function bookSeat(seatId: number, buyer: Buyer, strategy: Strategy): Promise<BookingOutcome> {
  const who = "token" in buyer ? { token: buyer.token, body: {} } : { token: null, body: { userId: buyer.userId } };
  const answer = await apiRequest<Booking>("POST", "/api/v1/bookings", {
    token: who.token,
    body: { seatId, strategy, ...who.body },
  });
  if (answer.ok) return { ok: true, booking: answer.body, latencyMs: answer.latencyMs };
  const error = answer.code ? ({ error: answer.code, message: answer.message, status: answer.status, timestamp: "", path: "" } as ApiErrorBody) : null;
  return { ok: false, status: answer.status, error, message: answer.message, latencyMs: answer.latencyMs };
}

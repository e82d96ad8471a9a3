/**
 * The buyer's side of the page: basket, one hold for the whole basket with its countdown, confirm,
 * "My tickets" with cancel. Every POST carries an Idempotency-Key chosen per intent (hold these seats,
 * confirm this hold, cancel this booking), reused by every retry of that intent, and a second click while
 * a request is in flight does nothing: a double click can never book twice nor produce two messages.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  cancelBooking,
  confirmHold,
  extendHold,
  fetchMyBookings,
  fetchMyHolds,
  newIdempotencyKey,
  holdBestAvailable,
  placeHold,
  releaseHold,
  type ApiFailure,
  type BestAvailable,
} from "./api";
import { MAX_PER_ORDER, nameSeats, secondsLeft, takenSeats, toggleSeat } from "./basket";
import type { SeatStore } from "./seatStore";
import type { BookingRecord, Hold, Seat, Strategy } from "./types";

const NONE: ReadonlySet<number> = new Set();

export type CheckoutPhase = "selecting" | "holding" | "held" | "confirming";

export interface BasketMessage {
  kind: "info" | "success" | "error";
  text: string;
  /** Retrying is safe (same Idempotency-Key): offer a button. */
  retry?: "hold" | "confirm" | "extend" | "release";
}

export interface ActiveHold {
  token: string;
  expiresAt: string;
  seatIds: number[];
}

export interface BuyerOptions {
  token: string | null;
  store: SeatStore;
  eventId: number | null;
  strategy: Strategy;
  canWrite: boolean;
  /** The waiting room's admission for this event, sent with holds (null when the event is not gated). */
  admission?: string | null;
  /** A purchase was confirmed (the waiting room then gives the turn back). */
  onPurchase?: () => void;
  report: (f: ApiFailure) => void;
  notify: (kind: "success" | "error" | "info", title: string, detail?: string) => void;
}

/** Refusals of the inventory rules, in the buyer's words (the server's message names the seat). */
const RULES: Record<string, string> = {
  ORPHAN_SEAT: "That choice would leave a single empty seat. Pick seats next to each other, or include it.",
  SEATS_BLOCKED: "Some of these seats are not for sale.",
  ACCESSIBLE_SEAT: "Wheelchair and companion seats are kept for those who need them.",
  CHANNEL_KEY_REQUIRED: "Some of these seats are reserved for a presale.",
  NO_BLOCK_AVAILABLE: "No seats match right now. Try fewer seats, another price or section, or allow split seats.",
  ADMISSION_REQUIRED: "This on-sale has a waiting room: join the queue first.",
  ADMISSION_EXPIRED: "Your turn from the waiting room has expired: join the queue again.",
};

function failureText(f: ApiFailure, what: string): string {
  if (f.code && RULES[f.code]) return `${RULES[f.code]} (${f.message})`;
  const wait = f.retryAfterS !== null ? ` Try again in ${f.retryAfterS} s.` : "";
  if (f.status === 0) return `${what}: the server cannot be reached. Nothing is lost; retry when it is back.`;
  if (f.code === "OUTCOME_UNKNOWN") return `${what}: the server could not tell whether it went through. Retrying is safe: it cannot happen twice.${wait}`;
  if (f.status === 503) return `${what}: the box office is busy (HTTP 503).${wait}`;
  if (f.status === 429) return `${what}: too many requests (HTTP 429).${wait}`;
  return `${what}: ${f.message}`;
}

export function useBuyer({ token, store, eventId, strategy, canWrite, admission = null, onPurchase, report, notify }: BuyerOptions) {
  const [basket, setBasket] = useState<number[]>([]);
  const [phase, setPhase] = useState<CheckoutPhase>("selecting");
  const [hold, setHold] = useState<ActiveHold | null>(null);
  const [message, setMessage] = useState<BasketMessage | null>(null);
  const [bookings, setBookings] = useState<BookingRecord[]>([]);
  const [cancelling, setCancelling] = useState<ReadonlySet<number>>(new Set());
  const [now, setNow] = useState(() => Date.now());
  const [lastLatencyMs, setLastLatencyMs] = useState<number | null>(null);
  const heldAt = useRef(0);
  // Seats of our hold as its answer described them (GA tickets are not on the map).
  const [holdSeats, setHoldSeats] = useState<ReadonlyMap<number, Seat>>(new Map());

  // One request at a time per buyer; read synchronously so a double click cannot slip through.
  const busy = useRef(false);
  // Idempotency keys per intent; dropped once the intent has a definite answer.
  const keys = useRef(new Map<string, string>());
  const keyFor = (intent: string) => {
    let key = keys.current.get(intent);
    if (!key) {
      key = newIdempotencyKey();
      keys.current.set(intent, key);
    }
    return key;
  };
  const settle = (intent: string, f: ApiFailure | null) => {
    // A definite answer ends the intent; no answer or a 503 keeps the key for a safe retry.
    if (!f || (f.status !== 0 && f.status !== 503)) keys.current.delete(intent);
  };

  const purchasedRef = useRef(onPurchase);
  purchasedRef.current = onPurchase;
  const latest = useRef({ basket, phase, hold, token, eventId, strategy, canWrite, admission });
  latest.current = { basket, phase, hold, token, eventId, strategy, canWrite, admission };

  // A new event starts a new basket (a hold, if any, stays on the server until it lapses or is restored).
  useEffect(() => {
    setBasket([]);
    setHold(null);
    setPhase("selecting");
    setMessage(null);
  }, [eventId]);

  const refreshBookings = useCallback(async () => {
    const t = latest.current.token;
    if (!t) return;
    try {
      setBookings(await fetchMyBookings(t));
    } catch {
      // Keep what we have; the next change asks again.
    }
  }, []);

  useEffect(() => {
    void refreshBookings();
  }, [token, refreshBookings]);

  // A hold from before a reload (same session) is picked up again, with its countdown.
  useEffect(() => {
    if (!token || store.phase !== "live") return;
    let cancelled = false;
    fetchMyHolds(token).then(
      (holds) => {
        if (cancelled || latest.current.hold) return;
        const here = holds.find((h) => h.state === "ACTIVE" && h.seatIds.every((id) => store.seats.has(id)));
        if (!here) return;
        heldAt.current = Date.now();
        setHold({ token: here.holdToken, expiresAt: here.expiresAt, seatIds: here.seatIds });
        setBasket(here.seatIds);
        setPhase("held");
      },
      () => {},
    );
    return () => {
      cancelled = true;
    };
    // Once per loaded event map.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token, store, store.phase === "live"]);

  // Kept as the same object while its contents do not change, so the map is not repainted for nothing.
  const mineBookedCache = useRef<ReadonlySet<number>>(new Set());
  const mineBooked = useMemo(() => {
    const next = new Set(bookings.map((b) => b.seatId));
    const prev = mineBookedCache.current;
    if (prev.size === next.size && [...next].every((id) => prev.has(id))) return prev;
    mineBookedCache.current = next;
    return next;
  }, [bookings]);
  const mineHeld = useMemo(() => (hold ? new Set(hold.seatIds) : NONE), [hold]);
  const selected = useMemo(() => (phase === "selecting" && basket.length > 0 ? new Set(basket) : NONE), [basket, phase]);

  // Seats taken by someone else while in the basket leave it, with a message naming them: O(changed).
  useEffect(
    () =>
      store.subscribe((changes) => {
        const { basket: b, phase: p } = latest.current;
        if (b.length === 0 || p !== "selecting") return;
        const set = new Set(b);
        const taken = takenSeats(set, changes.all ? b : changes.ids, store.seats, new Set());
        if (taken.length === 0) return;
        setBasket((prev) => prev.filter((id) => !taken.includes(id)));
        setMessage({
          kind: "error",
          text: `${nameSeats(taken, store.seats)} ${taken.length === 1 ? "was" : "were"} just taken by another buyer and removed from your basket.`,
        });
      }),
    [store],
  );

  // A ticket of ours that turns free was cancelled (here or in another tab): ask for the list again.
  useEffect(
    () =>
      store.subscribe((changes) => {
        if (changes.all) return;
        for (const id of changes.ids) {
          if (mineBookedRef.current.has(id) && store.seats.get(id)?.status === "AVAILABLE") {
            void refreshBookings();
            return;
          }
        }
      }),
    [store, refreshBookings],
  );
  const mineBookedRef = useRef(mineBooked);
  mineBookedRef.current = mineBooked;

  // The countdown ticks while a hold is active; at zero the hold is over and the basket says so.
  useEffect(() => {
    if (!hold) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [hold]);
  // Never count from a clock reading older than the hold itself.
  const left = hold ? secondsLeft(hold.expiresAt, Math.max(now, heldAt.current)) : null;
  useEffect(() => {
    if (hold && left === 0 && phase === "held") {
      setHold(null);
      setPhase("selecting");
      setMessage({ kind: "error", text: "Your hold expired and the seats were released. Hold them again if they are still free." });
    }
  }, [hold, left, phase]);

  const toggle = useCallback(
    (seatId: number) => {
      const seat = store.seats.get(seatId);
      if (!seat) return;
      const { basket: b, phase: p } = latest.current;
      if (p !== "selecting") {
        setMessage({ kind: "info", text: "Your seats are on hold. Confirm or release the hold to change the basket." });
        return;
      }
      const result = toggleSeat(b, seat);
      if (result.refused === "limit") {
        setMessage({ kind: "error", text: `At most ${MAX_PER_ORDER} seats per order.` });
        return;
      }
      if (result.refused === "unavailable") {
        setMessage({ kind: "info", text: `${nameSeats([seatId], store.seats)} is not available.` });
        return;
      }
      setBasket(result.ids);
      setMessage(null);
    },
    [store],
  );

  const remove = useCallback((seatId: number) => setBasket((b) => b.filter((id) => id !== seatId)), []);
  const clear = useCallback(() => {
    setBasket([]);
    setMessage(null);
  }, []);

  const placeHoldNow = useCallback(async () => {
    const { basket: b, token: t, phase: p, canWrite: ok } = latest.current;
    if (busy.current || !t || b.length === 0 || p !== "selecting" || !ok) return;
    busy.current = true;
    setPhase("holding");
    const intent = `hold:${[...b].sort((x, y) => x - y).join(",")}`;
    const accessible = b.some((id) => store.seats.get(id)?.accessibility);
    const answer = await placeHold(t, b, keyFor(intent), accessible, latest.current.admission);
    busy.current = false;
    setLastLatencyMs(answer.latencyMs);
    settle(intent, answer.ok ? null : answer);
    if (answer.ok) {
      const h: Hold = answer.body;
      for (const seat of h.seats) store.apply({ type: "local", seat });
      setHoldSeats(new Map(h.seats.map((x) => [x.seatId, x])));
      heldAt.current = Date.now();
      setHold({ token: h.holdToken, expiresAt: h.expiresAt, seatIds: h.seatIds });
      setBasket(h.seatIds);
      setPhase("held");
      setMessage({ kind: "success", text: `${h.seatIds.length === 1 ? "Your seat is" : `Your ${h.seatIds.length} seats are`} held for you. Confirm before the time runs out.` });
      return;
    }
    setPhase("selecting");
    report(answer);
    if (answer.status === 409 && (answer.code === "SEATS_TAKEN" || answer.code === "SEAT_OCCUPIED")) {
      // Name the seats that were taken, drop them, keep the rest.
      let taken = answer.seatIds.filter((id) => b.includes(id));
      if (taken.length === 0) taken = b.length === 1 ? [...b] : b.filter((id) => store.seats.get(id)?.status !== "AVAILABLE");
      const rest = b.filter((id) => !taken.includes(id));
      setBasket(rest);
      const names = taken.length ? nameSeats(taken, store.seats) : "Some seats";
      setMessage({
        kind: "error",
        text: `${names} ${taken.length === 1 ? "was" : "were"} just taken by another buyer and removed from your basket.${rest.length ? ` The other ${rest.length === 1 ? "seat is" : `${rest.length} seats are`} still in it: hold again.` : ""}`,
      });
      for (const id of taken) {
        const s = store.seats.get(id);
        if (s?.status === "AVAILABLE") {
          // Our map is behind: the server said taken. Catch up.
          store.apply({ type: "stale", reason: `409 on seat ${s.seatNumber} shown free` });
          break;
        }
      }
      return;
    }
    if (answer.code === "SEAT_LIMIT_EXCEEDED") {
      setMessage({ kind: "error", text: `You have reached the limit of seats per buyer. ${answer.message}` });
      return;
    }
    setMessage({ kind: "error", text: failureText(answer, "Could not hold the seats"), retry: answer.status === 0 || answer.status >= 500 || answer.status === 429 ? "hold" : undefined });
  }, [store, report]);

  const holdBest = useCallback(
    async (best: BestAvailable) => {
      const { token: t, phase: p, canWrite: ok, eventId: ev } = latest.current;
      if (busy.current || !t || ev === null || p !== "selecting" || !ok) return;
      busy.current = true;
      setPhase("holding");
      const intent = `best:${ev}:${JSON.stringify(best)}:${Date.now()}`;
      const answer = await holdBestAvailable(t, ev, best, keyFor(intent), latest.current.admission);
      busy.current = false;
      setLastLatencyMs(answer.latencyMs);
      settle(intent, answer.ok ? null : answer);
      if (answer.ok) {
        const h = answer.body;
        for (const seat of h.seats) store.apply({ type: "local", seat });
        setHoldSeats(new Map(h.seats.map((x) => [x.seatId, x])));
        heldAt.current = Date.now();
        setHold({ token: h.holdToken, expiresAt: h.expiresAt, seatIds: h.seatIds });
        setBasket(h.seatIds);
        setPhase("held");
        setMessage({ kind: "success", text: `We found ${h.seatIds.length === 1 ? "1 ticket" : `${h.seatIds.length} tickets`} and hold them for you. Confirm before the time runs out.` });
        return;
      }
      setPhase("selecting");
      report(answer);
      setMessage({ kind: "error", text: failureText(answer, "Could not find seats") });
    },
    [store, report],
  );

  const expired = useCallback(() => {
    setHold(null);
    setPhase("selecting");
    setMessage({ kind: "error", text: "Your hold expired and the seats were released. Hold them again if they are still free." });
  }, []);

  const extend = useCallback(async () => {
    const { hold: h, token: t } = latest.current;
    if (busy.current || !h || !t) return;
    busy.current = true;
    const intent = `extend:${h.token}:${h.expiresAt}`;
    const answer = await extendHold(t, h.token, keyFor(intent));
    busy.current = false;
    setLastLatencyMs(answer.latencyMs);
    settle(intent, answer.ok ? null : answer);
    if (answer.ok) {
      heldAt.current = Date.now();
      setHold({ token: h.token, expiresAt: answer.body.expiresAt, seatIds: answer.body.seatIds });
      for (const seat of answer.body.seats) store.apply({ type: "local", seat });
      setMessage({ kind: "success", text: "Hold extended." });
      return;
    }
    report(answer);
    if (answer.code === "HOLD_EXPIRED" || answer.code === "HOLD_NOT_ACTIVE" || answer.code === "HOLD_NOT_FOUND") expired();
    else setMessage({ kind: "error", text: failureText(answer, "Could not extend the hold"), retry: "extend" });
  }, [store, report, expired]);

  const release = useCallback(async () => {
    const { hold: h, token: t } = latest.current;
    if (busy.current || !h || !t) return;
    busy.current = true;
    const intent = `release:${h.token}`;
    const answer = await releaseHold(t, h.token, keyFor(intent));
    busy.current = false;
    settle(intent, answer.ok ? null : answer);
    if (answer.ok || answer.code === "HOLD_EXPIRED" || answer.code === "HOLD_NOT_ACTIVE" || answer.code === "HOLD_NOT_FOUND") {
      if (answer.ok) for (const seat of answer.body.seats) store.apply({ type: "local", seat });
      setHold(null);
      setPhase("selecting");
      setMessage({ kind: "info", text: "Hold released. The seats are still in your basket while they are free." });
      return;
    }
    report(answer);
    setMessage({ kind: "error", text: failureText(answer, "Could not release the hold"), retry: "release" });
  }, [store, report]);

  const confirm = useCallback(async () => {
    const { hold: h, token: t, phase: p, canWrite: ok } = latest.current;
    if (busy.current || !h || !t || p !== "held" || !ok) return;
    busy.current = true;
    setPhase("confirming");
    const intent = `confirm:${h.token}`;
    const answer = await confirmHold(t, h.token, keyFor(intent));
    busy.current = false;
    setLastLatencyMs(answer.latencyMs);
    settle(intent, answer.ok ? null : answer);
    if (answer.ok) {
      for (const b of answer.body.bookings) store.apply({ type: "local", seat: b });
      const records: BookingRecord[] = answer.body.bookings.map((b) => ({
        bookingId: b.bookingId,
        seatId: b.seatId,
        userId: b.userId,
        strategy: b.strategy,
        status: "CONFIRMED",
        createdAt: b.bookedAt ?? new Date().toISOString(),
        holdToken: h.token,
        cancelledAt: null,
        cancelledBy: null,
        cancelReason: null,
      }));
      setBookings((prev) => [...records, ...prev.filter((r) => !records.some((n) => n.bookingId === r.bookingId))]);
      setHold(null);
      setBasket([]);
      setPhase("selecting");
      const names = nameSeats(answer.body.seatIds, store.seats);
      setMessage({ kind: "success", text: `Booked: ${names}. Your tickets are under My tickets.` });
      notify("success", `Booked ${answer.body.seatIds.length === 1 ? "1 seat" : `${answer.body.seatIds.length} seats`}`, names);
      purchasedRef.current?.();
      return;
    }
    report(answer);
    if (answer.code === "HOLD_EXPIRED") {
      expired();
      return;
    }
    if (answer.code === "HOLD_NOT_ACTIVE") {
      // Confirmed or released from another tab: the server's list says which.
      setHold(null);
      setPhase("selecting");
      await refreshBookings();
      setMessage({ kind: "info", text: "This hold is no longer active (confirmed or released elsewhere). See My tickets." });
      return;
    }
    setPhase("held");
    setMessage({ kind: "error", text: failureText(answer, "Could not confirm"), retry: "confirm" });
  }, [store, report, notify, expired, refreshBookings]);

  const cancel = useCallback(
    async (bookingId: number) => {
      const t = latest.current.token;
      if (!t || cancelling.has(bookingId)) return;
      setCancelling((s) => new Set(s).add(bookingId));
      const intent = `cancel:${bookingId}`;
      const answer = await cancelBooking(t, bookingId, keyFor(intent));
      settle(intent, answer.ok ? null : answer);
      setCancelling((s) => {
        const n = new Set(s);
        n.delete(bookingId);
        return n;
      });
      if (answer.ok || answer.code === "BOOKING_NOT_ACTIVE") {
        if (answer.ok) store.apply({ type: "local", seat: answer.body.seat });
        setBookings((prev) => prev.filter((b) => b.bookingId !== bookingId));
        notify("info", "Ticket cancelled", answer.ok ? nameSeats([answer.body.seat.seatId], store.seats) : undefined);
        return;
      }
      report(answer);
      notify("error", "Could not cancel", failureText(answer, "Cancel"));
    },
    [store, report, notify, cancelling],
  );

  const retry = useCallback(
    (what: BasketMessage["retry"]) => {
      if (what === "hold") void placeHoldNow();
      else if (what === "confirm") void confirm();
      else if (what === "extend") void extend();
      else if (what === "release") void release();
    },
    [placeHoldNow, confirm, extend, release],
  );

  return {
    basket,
    phase,
    hold,
    secondsLeft: left,
    message,
    bookings,
    cancelling,
    mineBooked,
    mineHeld,
    selected,
    lastLatencyMs,
    toggle,
    remove,
    clear,
    placeHold: placeHoldNow,
    holdBest,
    holdSeats,
    extend,
    release,
    confirm,
    cancel,
    retry,
    refreshBookings,
    dismissMessage: () => setMessage(null),
  };
}

export type Buyer = ReturnType<typeof useBuyer>;

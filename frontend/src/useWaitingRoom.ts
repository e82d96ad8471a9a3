/**
 * The waiting room of a gated on-sale (docs/waiting-room.md): when the event's room is enabled, the page
 * joins the queue with its session, polls its place no faster than `pollAfterS`, and once ADMITTED sends the
 * `Admission-Token` with its holds. An event that is not gated (or a room that cannot be read) changes nothing.
 *
 * An admission is a slot only `maxActive` buyers hold at once, so the page gives it back (`leave`) as soon as it
 * is done: after a confirmed purchase (`purchased`), when the buyer leaves the checkout (another event picked,
 * the page's component gone) and on the "Leave the on-sale" button (`leave`). A reload keeps the turn.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { apiRequest } from "./api";
import type { components } from "./api-types";

export type Visitor = components["schemas"]["VisitorOut"];
type Room = components["schemas"]["WaitingRoomOut"];

export interface WaitingRoom {
  /** `none`: not gated; `queue`: waiting (or joining); `admitted`: may hold seats; `closed`: revoked or failed. */
  gate: "none" | "queue" | "admitted" | "closed";
  visitor: Visitor | null;
  admissionToken: string | null;
  message: string | null;
  rejoin: () => void;
  /** The buyer gives its turn back (the "Leave the on-sale" button). */
  leave: () => void;
  /** A purchase was confirmed: the turn is over (the server ends it too, by default), so give it back. */
  purchased: () => void;
}

/** What the page says once its turn is over, by the visitor's state. */
export function endedMessage(state: Visitor["state"], bought: boolean): string {
  if (state === "REVOKED") return "Your place was revoked by the organiser.";
  if (state === "LEFT")
    return bought ? "Thank you for your purchase. Your turn is over: join the queue again to buy more." : "You left the queue.";
  return "Your turn has passed: join the queue again.";
}

export function useWaitingRoom(eventId: number | null, token: string | null): WaitingRoom {
  const [gate, setGate] = useState<WaitingRoom["gate"]>("none");
  const [visitor, setVisitor] = useState<Visitor | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // The current room's give-back (null until joined): `leave` and `purchased` call it.
  const giveBack = useRef<((bought: boolean) => void) | null>(null);

  useEffect(() => {
    setGate("none");
    setVisitor(null);
    setMessage(null);
    if (eventId === null || !token) return;
    let stopped = false;
    let inRoom = false;
    let admitted = false;
    let bought = false;
    const base = `/api/v1/events/${eventId}/waiting-room`;
    const leaveRoom = () => void apiRequest<Visitor>("POST", `${base}/leave`, { token });
    const follow = (v: Visitor) => {
      if (stopped) return;
      setVisitor(v);
      admitted = v.state === "ADMITTED";
      inRoom = v.state !== "NOT_GATED";
      if (v.state === "NOT_GATED") {
        setGate("none");
        return;
      }
      if (v.state === "ADMITTED") setGate("admitted");
      else if (v.state === "WAITING") setGate("queue");
      else {
        setGate("closed");
        setMessage(endedMessage(v.state, bought));
        return;
      }
      timer.current = setTimeout(() => void poll(), Math.max(1, v.pollAfterS) * 1000);
    };
    const poll = async () => {
      const me = await apiRequest<Visitor>("GET", `${base}/me`, { token });
      if (stopped) return;
      if (me.ok) follow(me.body);
      else timer.current = setTimeout(() => void poll(), Math.max(1, me.retryAfterS ?? 2) * 1000);
    };
    void (async () => {
      const room = await apiRequest<Room>("GET", base);
      if (stopped || !room.ok || !room.body.enabled) return;
      setGate("queue");
      const joined = await apiRequest<Visitor>("POST", `${base}/join`, { token, body: {} });
      if (stopped) return;
      if (joined.ok) follow(joined.body);
      else {
        setMessage(`Could not join the queue: ${joined.message}`);
        timer.current = setTimeout(() => setAttempt((n) => n + 1), Math.max(1, joined.retryAfterS ?? 3) * 1000);
      }
    })();
    giveBack.current = (purchase: boolean) => {
      if (!inRoom || stopped) return;
      bought = bought || purchase;
      // Stop polling and give the slot back; the page is done with this turn either way.
      stopped = true;
      admitted = false;
      clearTimeout(timer.current);
      setGate("closed");
      setVisitor((v) => (v ? { ...v, state: "LEFT", admissionToken: null, admittedUntil: null } : v));
      setMessage(endedMessage("LEFT", bought));
      leaveRoom();
    };
    return () => {
      // Leaving the checkout while admitted (another event, the page gone) gives the turn back.
      if (admitted && !stopped) leaveRoom();
      stopped = true;
      clearTimeout(timer.current);
      giveBack.current = null;
    };
  }, [eventId, token, attempt]);

  const rejoin = useCallback(() => setAttempt((n) => n + 1), []);
  const leave = useCallback(() => giveBack.current?.(false), []);
  const purchased = useCallback(() => giveBack.current?.(true), []);
  return {
    gate,
    visitor,
    admissionToken: gate === "admitted" ? (visitor?.admissionToken ?? null) : null,
    message,
    rejoin,
    leave,
    purchased,
  };
}

/**
 * The waiting room of a gated on-sale (docs/waiting-room.md): when the event's room is enabled, the page
 * joins the queue with its session, polls its place no faster than `pollAfterS`, and once ADMITTED sends the
 * `Admission-Token` with its holds. An event that is not gated (or a room that cannot be read) changes nothing.
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
}

export function useWaitingRoom(eventId: number | null, token: string | null): WaitingRoom {
  const [gate, setGate] = useState<WaitingRoom["gate"]>("none");
  const [visitor, setVisitor] = useState<Visitor | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    setGate("none");
    setVisitor(null);
    setMessage(null);
    if (eventId === null || !token) return;
    let stopped = false;
    const base = `/api/v1/events/${eventId}/waiting-room`;
    const follow = (v: Visitor) => {
      if (stopped) return;
      setVisitor(v);
      if (v.state === "NOT_GATED") {
        setGate("none");
        return;
      }
      if (v.state === "ADMITTED") setGate("admitted");
      else if (v.state === "WAITING") setGate("queue");
      else {
        setGate("closed");
        setMessage(v.state === "REVOKED" ? "Your place was revoked by the organiser." : "Your turn has passed: join the queue again.");
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
    return () => {
      stopped = true;
      clearTimeout(timer.current);
    };
  }, [eventId, token, attempt]);

  const rejoin = useCallback(() => setAttempt((n) => n + 1), []);
  return { gate, visitor, admissionToken: gate === "admitted" ? (visitor?.admissionToken ?? null) : null, message, rejoin };
}

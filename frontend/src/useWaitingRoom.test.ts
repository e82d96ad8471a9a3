import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { endedMessage, useWaitingRoom } from "./useWaitingRoom";

/** A gated room in memory: join admits at once; `leave` ends the turn. Records every call. */
function fakeRoom(eventId: number, gated = true) {
  const calls: string[] = [];
  let state = "ADMITTED";
  const visitor = () => ({
    eventId,
    state,
    position: null,
    peopleAhead: null,
    estimatedWaitS: null,
    startsAt: null,
    joinedAt: null,
    admissionToken: state === "ADMITTED" ? "adm-token" : null,
    admittedUntil: null,
    pollAfterS: 60,
  });
  const answer = (body: unknown, status = 200) => ({
    ok: status < 400,
    status,
    headers: new Headers({ "Content-Type": "application/json" }),
    json: async () => body,
  });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (path: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push(`${method} ${path}`);
      const room = `/api/v1/events/${eventId}/waiting-room`;
      if (path === room) return answer({ eventId, enabled: gated, startsAt: null, open: true, waiting: 0, active: 1, admissionRatePerMinute: 60 });
      if (path === `${room}/join`) return answer(visitor(), 201);
      if (path === `${room}/me`) return answer(visitor());
      if (path === `${room}/leave`) {
        state = "LEFT";
        return answer(visitor());
      }
      return answer({ error: "NOT_FOUND", message: "no" }, 404);
    }),
  );
  return { calls, leaves: () => calls.filter((c) => c.endsWith("/leave")) };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("useWaitingRoom gives the turn back", () => {
  it("after a confirmed purchase: calls leave once, stops, and says why", async () => {
    const room = fakeRoom(7);
    const { result } = renderHook(() => useWaitingRoom(7, "session-token"));
    await waitFor(() => expect(result.current.gate).toBe("admitted"));
    expect(result.current.admissionToken).toBe("adm-token");
    act(() => result.current.purchased());
    await waitFor(() => expect(room.leaves()).toEqual(["POST /api/v1/events/7/waiting-room/leave"]));
    expect(result.current.gate).toBe("closed");
    expect(result.current.admissionToken).toBeNull();
    expect(result.current.message).toBe(endedMessage("LEFT", true));
    act(() => result.current.purchased()); // a second confirmation of the same turn: nothing more to give back
    expect(room.leaves()).toHaveLength(1);
  });

  it("when the buyer leaves the checkout for another event while admitted", async () => {
    const room = fakeRoom(7);
    const { result, rerender } = renderHook(({ eventId }) => useWaitingRoom(eventId, "session-token"), {
      initialProps: { eventId: 7 },
    });
    await waitFor(() => expect(result.current.gate).toBe("admitted"));
    rerender({ eventId: 8 });
    await waitFor(() => expect(room.leaves()).toEqual(["POST /api/v1/events/7/waiting-room/leave"]));
  });

  it("on the Leave button, without a purchase", async () => {
    const room = fakeRoom(7);
    const { result } = renderHook(() => useWaitingRoom(7, "session-token"));
    await waitFor(() => expect(result.current.gate).toBe("admitted"));
    act(() => result.current.leave());
    await waitFor(() => expect(room.leaves()).toHaveLength(1));
    expect(result.current.message).toBe("You left the queue.");
  });

  it("never for an event that is not gated", async () => {
    const room = fakeRoom(7, false);
    const { result, unmount } = renderHook(() => useWaitingRoom(7, "session-token"));
    await waitFor(() => expect(room.calls).toContain("GET /api/v1/events/7/waiting-room"));
    act(() => result.current.purchased());
    unmount();
    expect(room.leaves()).toEqual([]);
    expect(result.current.gate).toBe("none");
  });
});

import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { FakeServer } from "./test/fakeServer";
import { StompStub } from "./test/stompStub";
import type { SeatSyncOptions } from "./useSeatSync";

const mounted: { unmount: () => void }[] = [];
afterEach(() => mounted.splice(0).forEach((m) => m.unmount()));

function setup(opts: { sections?: ConstructorParameters<typeof FakeServer>[1]; server?: FakeServer; broker?: StompStub } = {}) {
  const broker = opts.broker ?? new StompStub();
  const server = opts.server ?? new FakeServer(broker, opts.sections);
  const sync: SeatSyncOptions = {
    live: { brokerURL: "ws://stub/ws", webSocketFactory: broker.factory, reconnectDelayMs: 30, maxReconnectDelayMs: 60 },
    fetchInventory: server.fetchInventory,
    retryBaseMs: 20,
    offlinePollMs: 100,
  };
  const view = render(
    <App
      sync={sync}
      book={(id, buyer, s) => server.book(id, buyer, s)}
      session={server.createSession}
      mySeats={server.mySeats}
    />,
  );
  mounted.push(view);
  return { broker, server, view, user: userEvent.setup() };
}

const seat = (number: string) => screen.getByRole("button", { name: new RegExp(`^Seat ${number},`) });
const status = () => screen.getByTestId("link-status").getAttribute("data-status");
const storedSession = () => JSON.parse(window.localStorage.getItem("boxoffice.session") ?? "null") as { token: string; userId: string } | null;

async function untilLive(broker: StompStub) {
  await broker.waitForSubscriber("/topic/seats");
  await waitFor(() => expect(status()).toBe("live"));
  await waitFor(() => expect(screen.getByTestId("session-status")).toHaveAttribute("data-ready", "true"));
}

describe("App", () => {
  it("books a seat on click with this browser's anonymous session, and shows it as mine", async () => {
    const { broker, server, user } = setup();
    await untilLive(broker);
    const session = storedSession();
    expect(session?.userId).toMatch(/^session:/);
    const buyers: unknown[] = [];
    const book = server.book;
    server.book = async (id, buyer, s) => (buyers.push(buyer), book(id, buyer, s));
    await user.click(seat("B3"));
    await waitFor(() => expect(seat("B3")).toHaveAccessibleName(/booked by you$/));
    // The booking carried the session's token, not a typed name; the server recorded the session's user.
    expect(buyers).toEqual([{ token: session!.token }]);
    expect(server.owners.get(9)).toBe(session!.userId);
    expect(await screen.findByText("Seat B3 is yours")).toBeInTheDocument();
    expect(screen.getByTestId("count-mine")).toHaveTextContent("1");
    expect(screen.getByTestId("count-available")).toHaveTextContent("23");
  });

  it("keeps its session across reloads and learns which seats are mine from the server", async () => {
    const first = setup();
    await untilLive(first.broker);
    await first.user.click(seat("A2"));
    await waitFor(() => expect(seat("A2")).toHaveAccessibleName(/booked by you$/));
    first.view.unmount();
    // A reload: same storage, a fresh page that never saw the booking answer.
    const again = setup({ server: first.server, broker: first.broker });
    await untilLive(again.broker);
    await waitFor(() => expect(seat("A2")).toHaveAccessibleName(/booked by you$/));
    expect(first.server.sessionsIssued).toBe(1);
    expect(screen.getByTestId("count-mine")).toHaveTextContent("1");
  });

  it("replaces a session the server no longer accepts", async () => {
    window.localStorage.setItem(
      "boxoffice.session",
      JSON.stringify({ token: "forgotten", userId: "session:old", tokenType: "Bearer", expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    );
    const { broker, server } = setup();
    await untilLive(broker);
    expect(server.sessionsIssued).toBe(1);
    expect(storedSession()?.userId).not.toBe("session:old");
  });

  it("sends the chosen strategy and remembers it", async () => {
    const { broker, server, user } = setup();
    await untilLive(broker);
    const strategies: string[] = [];
    const book = server.book;
    server.book = async (id, buyer, s) => (strategies.push(s), book(id, buyer, s));
    await user.click(screen.getByTestId("strategy-REDIS"));
    expect(screen.getByTestId("strategy-REDIS")).toBeChecked();
    await user.click(seat("A4"));
    await waitFor(() => expect(strategies).toEqual(["REDIS"]));
    expect(window.localStorage.getItem("boxoffice.strategy")).toBe("REDIS");
  });

  it("shows a toast naming the seat on 409, and never who holds it", async () => {
    const { broker, server, user } = setup();
    await untilLive(broker);
    await server.book(1, { userId: "frank" }, "ATOMIC");
    await waitFor(() => expect(seat("A1")).toHaveAccessibleName(/, booked$/));
    await user.click(seat("A1"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Seat A1 is already booked");
    expect(alert).toHaveTextContent("Someone got there first.");
    expect(document.body.textContent).not.toContain("frank");
  });

  it("updates live from /topic/seats and resnapshots after a gap", async () => {
    const { broker, server } = setup();
    await untilLive(broker);
    const before = server.snapshots;
    server.change(5, { status: "BOOKED", booked: true, bookedAt: "2026-11-25T01:00:00Z" });
    await waitFor(() => expect(seat("A5")).toHaveClass("seat-booked"));
    expect(server.snapshots).toBe(before); // in-order event: no reload

    server.dropNextEvents = 1;
    server.change(6, { status: "BOOKED", booked: true, bookedAt: "2026-11-25T01:00:00Z" });
    server.change(7, { status: "HELD" });
    // The hole is noticed, a snapshot is taken, and the lost change appears.
    await waitFor(() => expect(seat("A6")).toHaveAccessibleName(/, booked$/));
    expect(seat("B1")).toHaveAccessibleName(/held$/);
    expect(server.snapshots).toBe(before + 1);
    expect(screen.getByTestId("count-held")).toHaveTextContent("1");
  });

  it("reconnects by itself and resynchronises what it missed", async () => {
    const { broker, server } = setup();
    await untilLive(broker);
    const connects = broker.connects;
    broker.refuse = true;
    broker.dropAll();
    await waitFor(() => expect(status()).toBe("reconnecting"));
    // Missed while down: nobody is subscribed, so this event reaches no one.
    server.change(3, { status: "BOOKED", booked: true, bookedAt: "2026-11-25T01:00:00Z" });
    broker.refuse = false;
    await waitFor(() => expect(status()).toBe("live"));
    expect(broker.connects).toBe(connects + 1);
    await waitFor(() => expect(seat("A3")).toHaveAccessibleName(/, booked$/));
  });

  it("chaos mode fires N bookings at the targeted seat and reports exactly one winner", async () => {
    const { broker, server, user } = setup();
    await untilLive(broker);
    await user.click(screen.getByTestId("chaos-toggle"));
    await user.click(seat("C2"));
    expect(server.bookings).toBe(0); // in chaos mode a click targets, it does not book
    expect(screen.getByTestId("chaos-target")).toHaveTextContent("Seat C2");
    const count = screen.getByTestId("chaos-count");
    await user.clear(count);
    await user.type(count, "40");
    await user.click(screen.getByTestId("chaos-fire"));
    const result = await screen.findByTestId("chaos-result");
    expect(within(result).getByTestId("chaos-winners")).toHaveTextContent("1");
    expect(within(result).getByTestId("chaos-conflicts")).toHaveTextContent("39");
    expect(within(result).getByTestId("chaos-errors")).toHaveTextContent("0");
    expect(server.bookings).toBe(40);
    const winner = server.owners.get(14);
    expect(within(result).getByTestId("chaos-winner")).toHaveTextContent(winner!);
    await waitFor(() => expect(seat("C2")).toHaveClass("seat-booked"));
  });

  it("shows states the UI does not know, with a legend entry", async () => {
    const { broker, server } = setup();
    await untilLive(broker);
    server.change(2, { status: "RESERVED_VIP" });
    await waitFor(() => expect(seat("A2")).toHaveClass("seat-other"));
    expect(seat("A2")).toHaveAccessibleName(/reserved vip$/);
    expect(screen.getByTestId("count-RESERVED_VIP")).toHaveTextContent("1");
    expect(screen.getByRole("list", { name: "Legend and counts" })).toHaveTextContent("Reserved vip");
  });
});

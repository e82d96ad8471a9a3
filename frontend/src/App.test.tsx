import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { FakeServer } from "./test/fakeServer";
import { StompStub } from "./test/stompStub";
import type { SeatSyncOptions } from "./useSeatSync";

const mounted: { unmount: () => void }[] = [];
afterEach(() => mounted.splice(0).forEach((m) => m.unmount()));

function setup(opts: { user?: string; sections?: ConstructorParameters<typeof FakeServer>[1] } = {}) {
  if (opts.user !== undefined) window.localStorage.setItem("boxoffice.userId", opts.user);
  const broker = new StompStub();
  const server = new FakeServer(broker, opts.sections);
  const sync: SeatSyncOptions = {
    live: { brokerURL: "ws://stub/ws", webSocketFactory: broker.factory, reconnectDelayMs: 30, maxReconnectDelayMs: 60 },
    fetchInventory: server.fetchInventory,
    retryBaseMs: 20,
    offlinePollMs: 100,
  };
  const view = render(<App sync={sync} book={(id, u, s) => server.book(id, u, s)} />);
  mounted.push(view);
  return { broker, server, user: userEvent.setup() };
}

const seat = (number: string) => screen.getByRole("button", { name: new RegExp(`^Seat ${number},`) });
const status = () => screen.getByTestId("link-status").getAttribute("data-status");

async function untilLive(broker: StompStub) {
  await broker.waitForSubscriber("/topic/seats");
  await waitFor(() => expect(status()).toBe("live"));
}

describe("App", () => {
  it("books a seat on click, as the persisted user, and shows it as mine", async () => {
    const { broker, server, user } = setup({ user: "alice" });
    await untilLive(broker);
    expect(screen.getByTestId("user-id")).toHaveValue("alice");
    await user.click(seat("B3"));
    await waitFor(() => expect(seat("B3")).toHaveAccessibleName(/booked by you$/));
    expect(server.seats.get(9)?.bookedBy).toBe("alice");
    expect(await screen.findByText("Seat B3 is yours")).toBeInTheDocument();
    expect(screen.getByTestId("count-mine")).toHaveTextContent("1");
    expect(screen.getByTestId("count-available")).toHaveTextContent("23");
  });

  it("remembers who I am across reloads and refuses to book without a name", async () => {
    const { broker, server, user } = setup();
    await untilLive(broker);
    const field = screen.getByTestId("user-id");
    expect((field as HTMLInputElement).value).toMatch(/^guest-[0-9a-f]{4}$/);
    await user.clear(field);
    await user.click(seat("A1"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Enter a name to book seats");
    expect(server.bookings).toBe(0);
    await user.type(field, "carol");
    expect(window.localStorage.getItem("boxoffice.userId")).toBe("carol");
  });

  it("sends the chosen strategy and remembers it", async () => {
    const { broker, server, user } = setup({ user: "dave" });
    await untilLive(broker);
    const strategies: string[] = [];
    const book = server.book;
    server.book = async (id, u, s) => (strategies.push(s), book(id, u, s));
    await user.click(screen.getByTestId("strategy-REDIS"));
    expect(screen.getByTestId("strategy-REDIS")).toBeChecked();
    await user.click(seat("A4"));
    await waitFor(() => expect(strategies).toEqual(["REDIS"]));
    expect(window.localStorage.getItem("boxoffice.strategy")).toBe("REDIS");
  });

  it("shows a toast naming the seat on 409", async () => {
    const { broker, server, user } = setup({ user: "erin" });
    await untilLive(broker);
    server.change(1, { status: "BOOKED", booked: true, bookedBy: "frank", bookedAt: "2026-11-25T01:00:00Z" });
    await waitFor(() => expect(seat("A1")).toHaveAccessibleName(/booked by frank$/));
    await user.click(seat("A1"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Seat A1 is already booked");
    expect(alert).toHaveTextContent("Taken by frank.");
  });

  it("updates live from /topic/seats and resnapshots after a gap", async () => {
    const { broker, server } = setup({ user: "gina" });
    await untilLive(broker);
    const before = server.snapshots;
    server.change(5, { status: "BOOKED", booked: true, bookedBy: "x", bookedAt: "2026-11-25T01:00:00Z" });
    await waitFor(() => expect(seat("A5")).toHaveClass("seat-booked"));
    expect(server.snapshots).toBe(before); // in-order event: no reload

    server.dropNextEvents = 1;
    server.change(6, { status: "BOOKED", booked: true, bookedBy: "lost", bookedAt: "2026-11-25T01:00:00Z" });
    server.change(7, { status: "HELD" });
    // The hole is noticed, a snapshot is taken, and the lost change appears.
    await waitFor(() => expect(seat("A6")).toHaveAccessibleName(/booked by lost$/));
    expect(seat("B1")).toHaveAccessibleName(/held$/);
    expect(server.snapshots).toBe(before + 1);
    expect(screen.getByTestId("count-held")).toHaveTextContent("1");
  });

  it("reconnects by itself and resynchronises what it missed", async () => {
    const { broker, server } = setup({ user: "hal" });
    await untilLive(broker);
    const connects = broker.connects;
    broker.refuse = true;
    broker.dropAll();
    await waitFor(() => expect(status()).toBe("reconnecting"));
    // Missed while down: nobody is subscribed, so this event reaches no one.
    server.change(3, { status: "BOOKED", booked: true, bookedBy: "ivy", bookedAt: "2026-11-25T01:00:00Z" });
    broker.refuse = false;
    await waitFor(() => expect(status()).toBe("live"));
    expect(broker.connects).toBe(connects + 1);
    await waitFor(() => expect(seat("A3")).toHaveAccessibleName(/booked by ivy$/));
  });

  it("chaos mode fires N bookings at the targeted seat and reports exactly one winner", async () => {
    const { broker, server, user } = setup({ user: "jo" });
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
    const winner = server.seats.get(14)?.bookedBy;
    expect(within(result).getByTestId("chaos-winner")).toHaveTextContent(winner!);
    await waitFor(() => expect(seat("C2")).toHaveClass("seat-booked"));
  });

  it("shows states the UI does not know, with a legend entry", async () => {
    const { broker, server } = setup({ user: "kim" });
    await untilLive(broker);
    server.change(2, { status: "RESERVED_VIP" });
    await waitFor(() => expect(seat("A2")).toHaveClass("seat-other"));
    expect(seat("A2")).toHaveAccessibleName(/reserved vip$/);
    expect(screen.getByTestId("count-RESERVED_VIP")).toHaveTextContent("1");
    expect(screen.getByRole("list", { name: "Legend and counts" })).toHaveTextContent("Reserved vip");
  });
});

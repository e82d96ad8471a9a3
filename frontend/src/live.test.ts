import { describe, expect, it } from "vitest";
import { connectLive, defaultBrokerURL, type LinkStatus } from "./live";
import { bookedEvent, makeInventory } from "./test/fixtures";
import { StompStub } from "./test/stompStub";
import type { SeatEvent } from "./types";

describe("defaultBrokerURL", () => {
  it("uses the page's own origin, with wss behind https", () => {
    expect(defaultBrokerURL({ protocol: "http:", host: "127.0.0.1:8080" } as Location)).toBe("ws://127.0.0.1:8080/ws");
    expect(defaultBrokerURL({ protocol: "https:", host: "tickets.example" } as Location)).toBe("wss://tickets.example/ws");
  });
});

describe("connectLive", () => {
  it("subscribes to /topic/seats, passes valid events on, drops malformed ones, and resubscribes after a drop", async () => {
    const broker = new StompStub();
    const events: SeatEvent[] = [];
    const statuses: LinkStatus[] = [];
    let subscribed = 0;
    const link = connectLive(
      { brokerURL: "ws://stub/ws", webSocketFactory: broker.factory, reconnectDelayMs: 20, maxReconnectDelayMs: 40 },
      { onSubscribed: () => (subscribed += 1), onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s) },
    );
    await broker.waitForSubscriber("/topic/seats");
    expect(subscribed).toBe(1);
    const seat = makeInventory().seats[0]!;
    broker.publish("/topic/seats", bookedEvent(seat, 1));
    broker.publish("/topic/seats", "{not json");
    broker.publish("/topic/seats", { hello: "world" });
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ seatId: seat.seatId, sequence: 1, status: "BOOKED" });

    broker.dropAll();
    await expect.poll(() => statuses.includes("reconnecting")).toBe(true);
    await expect.poll(() => subscribed).toBe(2);
    expect(statuses.at(-1)).toBe("live");
    await link.stop();
    expect(broker.subscriberCount("/topic/seats")).toBe(0);
  });
});

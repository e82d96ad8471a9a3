/**
 * The STOMP 1.2 link to `/topic/seats`: connects, reconnects with backoff, and reports each state change.
 * It knows nothing about seats beyond parsing; ordering and resync live in `seatStore`.
 */
import { Client, ReconnectionTimeMode, type IFrame, type IMessage } from "@stomp/stompjs";
import { parseSeatEvent } from "./seatStore";
import type { SeatEvent } from "./types";

export const SEATS_TOPIC = "/topic/seats";

/** The topic of one event's seat changes (event 1 is also published on `/topic/seats`). */
export const eventTopic = (eventId: number) => `/topic/events/${eventId}/seats`;

export type LinkStatus = "connecting" | "live" | "reconnecting";

export interface LiveHandlers {
  /** Called after every (re)connect once the subscription is sent: the moment to take a snapshot. */
  onSubscribed: () => void;
  onEvent: (event: SeatEvent) => void;
  onStatus: (status: LinkStatus, detail?: string) => void;
}

export interface LiveOptions {
  brokerURL: string;
  /** Defaults to the default event's `/topic/seats`. */
  topic?: string;
  /** Tests pass a Node WebSocket implementation here. */
  webSocketFactory?: () => WebSocket;
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  heartbeatMs?: number;
}

/** `ws://host/ws` for the page's own origin (works behind the Vite proxy and the real server alike). */
export function defaultBrokerURL(loc: Location = window.location): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws`;
}

export interface LiveLink {
  stop: () => Promise<void>;
  /** Skip the backoff and connect now (the server is known to be back). */
  reconnectNow: () => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function connectLive(options: LiveOptions, handlers: LiveHandlers): LiveLink {
  // A short cap: the page must be live again within about two seconds of the server coming back. The
  // random extra wait below spreads the reconnects of many pages, and the health probe (useServerHealth)
  // calls reconnectNow() the moment the server answers again.
  const base = options.reconnectDelayMs ?? 500;
  const cap = options.maxReconnectDelayMs ?? 1500;
  let failedAttempts = 0;
  const client = new Client({
    brokerURL: options.webSocketFactory ? undefined : options.brokerURL,
    webSocketFactory: options.webSocketFactory,
    reconnectDelay: base,
    maxReconnectDelay: cap,
    reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
    heartbeatIncoming: options.heartbeatMs ?? 10_000,
    heartbeatOutgoing: options.heartbeatMs ?? 10_000,
    connectionTimeout: 8_000,
    // Frames from a broken or hostile server must not grow without bound in the browser.
    splitLargeFrames: false,
    debug: () => {},
    // stompjs backs off exponentially but in lockstep; a random extra wait spreads out the reconnects of
    // every open page after a server restart.
    beforeConnect: async () => {
      if (failedAttempts > 0) await sleep(Math.random() * Math.min(cap, base * 2 ** failedAttempts) * 0.5);
    },
  });

  client.onConnect = () => {
    failedAttempts = 0;
    client.subscribe(options.topic ?? SEATS_TOPIC, (message: IMessage) => {
      const event = parseSeatEvent(message.body);
      if (event) handlers.onEvent(event);
    });
    handlers.onSubscribed();
    handlers.onStatus("live");
  };
  client.onStompError = (frame: IFrame) => {
    handlers.onStatus("reconnecting", frame.headers.message ?? "broker error");
  };
  client.onWebSocketClose = (event: CloseEvent) => {
    failedAttempts += 1;
    if (client.active) handlers.onStatus("reconnecting", `connection closed (${event.code})`);
  };

  handlers.onStatus("connecting");
  client.activate();
  let restarting = false;
  return {
    stop: () => client.deactivate(),
    reconnectNow: () => {
      if (client.connected || restarting) return;
      restarting = true;
      failedAttempts = 0;
      void client.deactivate().then(() => {
        restarting = false;
        client.activate();
      });
    },
  };
}

/**
 * A throwaway in-memory STOMP 1.2 broker for component tests: it speaks just enough of the protocol
 * (CONNECT, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT with receipt, MESSAGE) through a fake WebSocket, so the
 * real @stomp/stompjs client can be driven without a network. End-to-end tests use the real server.
 */

type Handler<E> = ((event: E) => void) | null;

export function encodeFrame(command: string, headers: Record<string, string>, body = ""): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}:${v}`);
  return `${command}\n${lines.join("\n")}\n\n${body}\u0000`;
}

export function decodeFrames(data: string): { command: string; headers: Record<string, string>; body: string }[] {
  return data
    .split("\u0000")
    .map((raw) => raw.replace(/^\n+/, ""))
    .filter((raw) => raw.length > 0)
    .map((raw) => {
      const [head = "", ...rest] = raw.split("\n\n");
      const [command = "", ...headerLines] = head.split("\n");
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(":");
        if (i > 0 && !(line.slice(0, i) in headers)) headers[line.slice(0, i)] = line.slice(i + 1);
      }
      return { command, headers, body: rest.join("\n\n") };
    });
}

export class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = FakeSocket.CONNECTING;
  binaryType = "arraybuffer";
  protocol = "v12.stomp";
  url = "ws://stub/ws";
  onopen: Handler<Event> = null;
  onmessage: Handler<MessageEvent> = null;
  onclose: Handler<CloseEvent> = null;
  onerror: Handler<Event> = null;
  subscriptions = new Map<string, string>();

  constructor(private readonly broker: StompStub) {
    // Open asynchronously, like a real socket.
    setTimeout(() => {
      if (this.readyState !== FakeSocket.CONNECTING) return;
      if (broker.refuse) {
        this.readyState = FakeSocket.CLOSED;
        this.onclose?.({ code: 1006, reason: "refused", wasClean: false } as CloseEvent);
        return;
      }
      this.readyState = FakeSocket.OPEN;
      this.onopen?.(new Event("open"));
    }, 0);
  }

  send(data: string | ArrayBuffer): void {
    const text = typeof data === "string" ? data : new TextDecoder().decode(data);
    for (const frame of decodeFrames(text)) this.broker.handle(this, frame);
  }

  deliver(frame: string): void {
    if (this.readyState !== FakeSocket.OPEN) return;
    this.onmessage?.({ data: frame } as MessageEvent);
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.broker.forget(this);
    setTimeout(() => this.onclose?.({ code, reason, wasClean: code === 1000 } as CloseEvent), 0);
  }
}

export class StompStub {
  sockets = new Set<FakeSocket>();
  connects = 0;
  /** While true, new connections fail (simulates the server being down). */
  refuse = false;
  private messageId = 0;
  private waiters: (() => void)[] = [];

  factory = (): WebSocket => {
    const socket = new FakeSocket(this);
    this.sockets.add(socket);
    return socket as unknown as WebSocket;
  };

  handle(socket: FakeSocket, frame: { command: string; headers: Record<string, string> }): void {
    switch (frame.command) {
      case "CONNECT":
      case "STOMP":
        this.connects += 1;
        socket.deliver(encodeFrame("CONNECTED", { version: "1.2", "heart-beat": "0,0", server: "stub/1" }));
        break;
      case "SUBSCRIBE":
        socket.subscriptions.set(frame.headers.id ?? "", frame.headers.destination ?? "");
        this.waiters.splice(0).forEach((w) => w());
        break;
      case "UNSUBSCRIBE":
        socket.subscriptions.delete(frame.headers.id ?? "");
        break;
      case "DISCONNECT":
        if (frame.headers.receipt) socket.deliver(encodeFrame("RECEIPT", { "receipt-id": frame.headers.receipt }));
        socket.close();
        break;
    }
  }

  forget(socket: FakeSocket): void {
    this.sockets.delete(socket);
  }

  subscriberCount(destination: string): number {
    let n = 0;
    for (const s of this.sockets) for (const d of s.subscriptions.values()) if (d === destination) n += 1;
    return n;
  }

  /** Resolves once some client has subscribed to `destination`. */
  async waitForSubscriber(destination: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.subscriberCount(destination) === 0) {
      if (Date.now() > deadline) throw new Error(`no subscriber on ${destination} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  publish(destination: string, body: unknown): number {
    let delivered = 0;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    for (const socket of this.sockets) {
      for (const [id, dest] of socket.subscriptions) {
        if (dest !== destination) continue;
        this.messageId += 1;
        socket.deliver(
          encodeFrame(
            "MESSAGE",
            {
              subscription: id,
              "message-id": String(this.messageId),
              destination,
              "content-type": "application/json",
            },
            text,
          ),
        );
        delivered += 1;
      }
    }
    return delivered;
  }

  /** Drop every connection abruptly, as a crashing server would. */
  dropAll(): void {
    for (const socket of [...this.sockets]) socket.close(1006, "dropped");
  }
}

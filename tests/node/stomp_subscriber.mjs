// Subscribes to /topic/seats with the standard @stomp/stompjs client and prints one JSON line per
// event on stdout, for tests/realtime/test_node_stompjs.py to check.
// Usage: node stomp_subscriber.mjs <ws-url> <expected-messages> <timeout-ms>
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';

const [url, expectedArg, timeoutArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const print = (event) => process.stdout.write(JSON.stringify(event) + '\n');
let received = 0;

const timer = setTimeout(() => {
  print({ event: 'timeout', received });
  process.exit(2);
}, Number(timeoutArg));

const client = new Client({
  // Node 20 has no global WebSocket: hand stompjs the `ws` implementation.
  webSocketFactory: () => new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
  // Slower than the server's 400 ms, so both sides beat once a second: stompjs closes a link that
  // stays silent for two periods, and a busy CI machine can stall a process for most of a second.
  heartbeatIncoming: 1000,
  heartbeatOutgoing: 1000,
  reconnectDelay: 0,
  onConnect: (frame) => {
    print({ event: 'connected', version: frame.headers.version, heartBeat: frame.headers['heart-beat'] });
    client.watchForReceipt('sub-receipt', () => print({ event: 'subscribed' }));
    client.subscribe(
      '/topic/seats',
      (message) => {
        received += 1;
        print({ event: 'message', headers: message.headers, body: JSON.parse(message.body) });
        if (received === expected) {
          client.deactivate().then(() => {
            clearTimeout(timer);
            print({ event: 'done', received });
          });
        }
      },
      { id: 'seats-1', receipt: 'sub-receipt' },
    );
  },
  beforeConnect: () => {
    client.disconnectHeaders = { receipt: 'bye' };
  },
  // stompjs calls this when the server's RECEIPT for our DISCONNECT arrives.
  onDisconnect: (frame) => print({ event: 'disconnect-receipt', receiptId: frame.headers['receipt-id'] }),
  onStompError: (frame) => print({ event: 'stomp-error', message: frame.headers.message }),
  onWebSocketClose: (evt) => print({ event: 'closed', code: evt.code }),
});
client.activate();

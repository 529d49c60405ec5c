/**
 * Load-generator clients speaking bare frames, so the client costs little: raw `ws` sockets, or
 * socket.io clients (WebSocket only) carrying each frame as one `rtc-signal` event.
 */
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';

/** How clients talk to a server under test. */
export type Protocol = 'ws' | 'socket.io';

/** Where clients connect: client `i` goes to `urls[i % urls.length]` (a cluster's nodes). */
export interface Endpoint {
  readonly urls: readonly string[];
  readonly protocol: Protocol;
}

/** One benchmark connection. */
export interface BenchClient {
  readonly id: string;
  /** Replaced by each scenario. */
  onMessage: (message: string) => void;
  send(message: string): void;
  /** A clean close. */
  end(): void;
  /** A hard one: the socket is dropped. */
  close(): void;
}

/** Opens one connection. */
export function connectClient(
  url: string,
  id: string,
  protocol: Protocol = 'ws',
): Promise<BenchClient> {
  return protocol === 'ws' ? connectWs(url, id) : connectSocketIo(url, id);
}

function connectWs(url: string, id: string): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const client: BenchClient = {
      id,
      onMessage: () => undefined,
      send: (message) => socket.send(message),
      end: () => socket.close(),
      close: () => socket.terminate(),
    };
    socket.on('message', (data) => client.onMessage(data.toString()));
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}

const SIGNAL_EVENT = 'rtc-signal';

function connectSocketIo(url: string, id: string): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 10_000,
    });
    const client: BenchClient = {
      id,
      onMessage: () => undefined,
      send: (message) => socket.emit(SIGNAL_EVENT, message),
      end: () => socket.disconnect(),
      close: () => socket.disconnect(),
    };
    socket.on(SIGNAL_EVENT, (message: string) => client.onMessage(message));
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', reject);
  });
}

/** Opens `count` connections, `parallel` at a time, spread over the endpoint's urls. */
export async function connectMany(
  endpoint: Endpoint,
  count: number,
  prefix: string,
  parallel = 256,
): Promise<BenchClient[]> {
  const { urls, protocol } = endpoint;
  const clients: BenchClient[] = [];
  for (let start = 0; start < count; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, i) =>
      connectClient(urls[(start + i) % urls.length]!, `${prefix}${start + i}`, protocol),
    );
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

/** Announces a client into a room and resolves on its `/roominfo`. */
export function announce(client: BenchClient, room: string): Promise<void> {
  return new Promise((resolve) => {
    client.onMessage = (message) => {
      if (message.startsWith('/roominfo|')) resolve();
    };
    client.send(`/announce|${client.id}|{"id":"${client.id}","room":"${room}"}`);
  });
}

/** Announces many clients, `parallel` at a time. */
export async function announceMany(
  clients: BenchClient[],
  roomOf: (index: number) => string,
  parallel = 256,
): Promise<void> {
  for (let start = 0; start < clients.length; start += parallel) {
    await Promise.all(
      clients
        .slice(start, start + parallel)
        .map((client, i) => announce(client, roomOf(start + i))),
    );
  }
}

// An ICE candidate as browsers send it, padded so the whole /to frame is about 300 bytes.
const CANDIDATE =
  '"candidate":"candidate:842163049 1 udp 1677729535 203.0.113.7 49203 typ srflx raddr 10.0.0.4 rport 49203 generation 0 ufrag sXbN network-cost 999","sdpMid":"0","sdpMLineIndex":0';

/** A ~300-byte SDP-candidate-like payload carrying a sequence number and a send time. */
export function payload(seq: number, sentAt: number): string {
  return `{"s":${seq},"t":${sentAt.toFixed(3)},${CANDIDATE},"usernameFragment":"sXbN"}`;
}

/** Reads `s` and `t` back without parsing the whole payload (the generator must stay cheap). */
export function readStamp(message: string): { seq: number; sentAt: number } | undefined {
  const at = message.indexOf('{"s":');
  if (at === -1) return undefined;
  const comma = message.indexOf(',', at);
  const end = message.indexOf(',', comma + 1);
  return {
    seq: Number(message.slice(at + 5, comma)),
    sentAt: Number(message.slice(comma + 5, end)),
  };
}

/** Closes every client. */
export function closeAll(clients: BenchClient[]): void {
  for (const client of clients) client.close();
}

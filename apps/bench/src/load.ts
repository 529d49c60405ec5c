/**
 * Load-generator clients speaking bare frames, so the client costs little: raw `ws` sockets;
 * socket.io clients (WebSocket only) carrying each frame as one `rtc-signal` event; SSE + POST
 * (docs/transports/sse.md: one stream, one POST at a time on a keep-alive connection, acks every
 * 16 events); or signalhub's channels (one stream per channel, the protocol mapped onto them).
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';

/** How clients talk to a server under test. */
export type Protocol = 'ws' | 'socket.io' | 'sse' | 'signalhub';

/** The transport a protocol rides on: signalhub's channels are SSE + POST too. */
export const transportOf = (protocol: Protocol): string =>
  protocol === 'signalhub' ? 'sse' : protocol;

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
  switch (protocol) {
    case 'ws':
      return connectWs(url, id);
    case 'socket.io':
      return connectSocketIo(url, id);
    case 'sse':
      return connectSse(url, id);
    case 'signalhub':
      return connectSignalhub(url, id);
  }
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

/** Reads an event stream: `onEvent` gets each event's name (`message` by default), data and id. */
function readEvents(
  response: IncomingMessage,
  onEvent: (event: string, data: string, id: string | undefined) => void,
): void {
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data: string | undefined;
      let id: string | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith('data: ')) data = line.slice(6);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('id: ')) id = line.slice(4);
      }
      if (data !== undefined) onEvent(event, data, id);
    }
  });
}

/** Opens an event stream; resolves with the response once its headers arrive. */
function openStream(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = request(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      // a stream cut by either side ends the client; nothing to report mid-run
      res.on('error', () => undefined);
      if (res.statusCode === 200) resolve(res);
      else reject(new Error(`${url}: ${res.statusCode}`));
    });
    get.on('error', reject);
    get.end();
  });
}

/** POSTs one body at a time, in order, on one keep-alive connection. */
function poster() {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const queue: Array<{ url: string; body: string }> = [];
  let busy = false;
  let stopped = false;
  const next = () => {
    const item = busy || stopped ? undefined : queue.shift();
    if (!item) return;
    busy = true;
    const done = () => {
      busy = false;
      next();
    };
    const post = request(
      item.url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(item.body) },
      },
      (res) => res.resume().once('end', done),
    );
    post.on('error', done);
    post.end(item.body);
  };
  return {
    post(url: string, body: string) {
      queue.push({ url, body });
      next();
    },
    get idle() {
      return !busy && queue.length === 0;
    },
    stop() {
      stopped = true;
      agent.destroy();
    },
  };
}

const ACK_EVERY = 16;

function connectSse(url: string, id: string): Promise<BenchClient> {
  return openStream(url).then(
    (stream) =>
      new Promise((resolve) => {
        const posts = poster();
        let session = '';
        let lastSeq = 0;
        let unacked = 0;
        const target = () => `${url}/${session}?ack=${lastSeq}`;
        const client: BenchClient = {
          id,
          onMessage: () => undefined,
          send(message) {
            unacked = 0;
            posts.post(target(), message);
          },
          end() {
            const bye = request(`${url}/${session}`, { method: 'DELETE' }, (res) => res.resume());
            bye.once('error', () => undefined).end();
            client.close();
          },
          close() {
            posts.stop();
            stream.destroy();
          },
        };
        readEvents(stream, (event, data, eventId) => {
          if (event === 'session') {
            session = (JSON.parse(data) as { session: string }).session;
            return resolve(client);
          }
          if (eventId !== undefined) {
            lastSeq = Number(eventId.slice(eventId.lastIndexOf('.') + 1));
            // acknowledged with the next POST, or alone when nothing is being sent
            if (++unacked >= ACK_EVERY && posts.idle) {
              unacked = 0;
              posts.post(target(), '');
            }
          }
          if (event === 'message') client.onMessage(data);
          else if (event === 'json') client.onMessage(JSON.parse(data) as string);
        });
      }),
  );
}

/**
 * signalhub has channels, not rooms: a client listens on its own id's channel from the start
 * and on its room's channel from its announce (a second stream, since a stream's channels are
 * fixed). `/to` is a POST to the target's channel, anything else a POST to the room's; the
 * room's echo of the client's own frames is dropped here, as signalhub's client would.
 */
function connectSignalhub(url: string, id: string): Promise<BenchClient> {
  const channel = (name: string) => `${url}/v1/bench/${encodeURIComponent(name)}`;
  return openStream(channel(id)).then((own) => {
    const posts = poster();
    let room: string | undefined;
    let roomStream: IncomingMessage | undefined;
    const client: BenchClient = {
      id,
      onMessage: () => undefined,
      send(message) {
        const first = message.indexOf('|');
        const command = message.slice(0, first);
        if (command === '/to') {
          const target = message.slice(first + 1, message.indexOf('|', first + 1));
          return posts.post(channel(target), message);
        }
        if (command === '/announce') {
          room = (
            JSON.parse(message.slice(message.indexOf('|', first + 1) + 1)) as { room: string }
          ).room;
          const joined = room;
          void openStream(channel(`room.${joined}`)).then((stream) => {
            roomStream = stream;
            readEvents(stream, (_event, data) => {
              const from = data.slice(
                data.indexOf('|') + 1,
                data.indexOf('|', data.indexOf('|') + 1),
              );
              if (from !== id) client.onMessage(data);
            });
            client.onMessage('/roominfo|{}');
            posts.post(channel(`room.${joined}`), message);
          });
          return;
        }
        if (room === undefined) return;
        posts.post(channel(`room.${room}`), message);
        if (command === '/leave') roomStream?.destroy();
      },
      end: () => client.close(),
      close() {
        posts.stop();
        own.destroy();
        roomStream?.destroy();
      },
    };
    readEvents(own, (_event, data) => client.onMessage(data));
    return client;
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

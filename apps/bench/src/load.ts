/**
 * Load-generator clients speaking bare frames, so the client costs little: raw `ws` sockets;
 * socket.io clients (WebSocket only) carrying each frame as one `rtc-signal` event; SSE + POST
 * (docs/transports/sse.md: one stream, one POST at a time on a keep-alive connection, acks every
 * 16 events); signalhub's channels (one stream per channel, the protocol mapped onto them); MQTT
 * devices of the MQTT transport; or, as the MQTT floor, devices publishing to each other's topics.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect as connectMqtt, type IClientOptions, type MqttClient } from 'mqtt';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';

/** How clients talk to a server under test. */
export type Protocol = 'ws' | 'socket.io' | 'sse' | 'signalhub' | 'mqtt' | 'mqtt-direct';

/** The transport a protocol rides on: signalhub's channels are SSE + POST too, the floor's MQTT. */
export const transportOf = (protocol: Protocol): string =>
  protocol === 'signalhub' ? 'sse' : protocol === 'mqtt-direct' ? 'mqtt' : protocol;

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
  return CONNECTORS[protocol](url, id);
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

/** A pub/sub system with named channels: what signalhub and a bare MQTT broker offer. */
interface Channels {
  /** Starts delivering `channel`'s messages to `onData`; resolves once it does. */
  listen(channel: string, onData: (data: string) => void): Promise<() => void>;
  publish(channel: string, data: string): void;
  close(): void;
}

/**
 * The protocol over bare channels, for baselines that have channels, not rooms: a client listens
 * on its own id's channel from the start and on its room's channel from its announce. `/to` is
 * a publish to the target's channel, anything else a publish to the room's; the room's echo of
 * the client's own frames is dropped here, as those systems' own clients would.
 */
async function channelClient(id: string, channels: Channels): Promise<BenchClient> {
  let room: string | undefined;
  let unlistenRoom: (() => void) | undefined;
  const client: BenchClient = {
    id,
    onMessage: () => undefined,
    send(message) {
      const first = message.indexOf('|');
      const command = message.slice(0, first);
      if (command === '/to') {
        const target = message.slice(first + 1, message.indexOf('|', first + 1));
        return channels.publish(target, message);
      }
      if (command === '/announce') {
        const payload = message.slice(message.indexOf('|', first + 1) + 1);
        const joined = (room = (JSON.parse(payload) as { room: string }).room);
        void channels
          .listen(`room.${joined}`, (data) => {
            const bar = data.indexOf('|');
            if (data.slice(bar + 1, data.indexOf('|', bar + 1)) !== id) client.onMessage(data);
          })
          .then((unlisten) => {
            unlistenRoom = unlisten;
            client.onMessage('/roominfo|{}');
            channels.publish(`room.${joined}`, message);
          });
        return;
      }
      if (room === undefined) return;
      channels.publish(`room.${room}`, message);
      if (command === '/leave') unlistenRoom?.();
    },
    end: () => channels.close(),
    close: () => channels.close(),
  };
  await channels.listen(id, (data) => client.onMessage(data));
  return client;
}

/** signalhub 4.9: `GET /v1/<app>/<channel>` is a stream of one channel, `POST` publishes. */
function connectSignalhub(url: string, id: string): Promise<BenchClient> {
  const channel = (name: string) => `${url}/v1/bench/${encodeURIComponent(name)}`;
  const posts = poster();
  const streams = new Set<IncomingMessage>();
  return channelClient(id, {
    async listen(name, onData) {
      const stream = await openStream(channel(name));
      streams.add(stream);
      readEvents(stream, (_event, data) => onData(data));
      return () => stream.destroy();
    },
    publish: (name, data) => posts.post(channel(name), data),
    close() {
      posts.stop();
      for (const stream of streams) stream.destroy();
    },
  });
}

/** The MQTT floor: devices publishing straight to each other's topics on the broker, QoS 1. */
async function connectMqttDirect(url: string, id: string): Promise<BenchClient> {
  const mqtt = await mqttClient(url, id);
  const handlers = new Map<string, (data: string) => void>();
  mqtt.on('message', (topic, payload) => handlers.get(topic)?.(payload.toString('utf8')));
  const topic = (name: string) => `bench/${name}`;
  return channelClient(id, {
    async listen(name, onData) {
      handlers.set(topic(name), onData);
      await mqtt.subscribeAsync(topic(name), { qos: 1 });
      return () => void mqtt.unsubscribeAsync(topic(name)).catch(() => undefined);
    },
    publish: (name, data) => void mqtt.publish(topic(name), data, { qos: 1 }),
    close: () => mqtt.end(true),
  });
}

/**
 * A device of the MQTT transport (docs/transports/mqtt.md): its client id is its id, frames go
 * up on `switchyard/up/<id>` and come down on `switchyard/down/<id>`, QoS 1; its Last Will says
 * `offline`, so a hard close ends its pipe as a dropped device's would.
 */
async function connectMqttDevice(url: string, id: string): Promise<BenchClient> {
  const status = `switchyard/status/${id}`;
  const mqtt = await mqttClient(url, id, {
    topic: status,
    payload: Buffer.from('offline'),
    qos: 1,
  });
  const client: BenchClient = {
    id,
    onMessage: () => undefined,
    send: (message) => void mqtt.publish(`switchyard/up/${id}`, message, { qos: 1 }),
    end() {
      void mqtt.publishAsync(status, 'offline', { qos: 1 }).finally(() => mqtt.end());
    },
    // no DISCONNECT: the broker publishes the Last Will
    close: () => mqtt.stream.destroy(),
  };
  mqtt.on('message', (_topic, payload) => {
    const text = payload.toString('utf8');
    // control frames (`ping`, `close|…`) never start with `/`
    if (text.startsWith('/')) client.onMessage(text);
    else if (text === 'ping') mqtt.publish(status, 'online', { qos: 1 });
  });
  await mqtt.subscribeAsync(`switchyard/down/${id}`, { qos: 1 });
  return client;
}

function mqttClient(url: string, clientId: string, will?: IClientOptions['will']) {
  return new Promise<MqttClient>((resolve, reject) => {
    const client = connectMqtt(url, {
      clientId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      keepalive: 60,
      ...(will && { will }),
    });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
    client.on('error', () => undefined);
  });
}

/** How a client of each protocol connects. */
const CONNECTORS: Record<Protocol, (url: string, id: string) => Promise<BenchClient>> = {
  ws: connectWs,
  'socket.io': connectSocketIo,
  sse: connectSse,
  signalhub: connectSignalhub,
  mqtt: connectMqttDevice,
  'mqtt-direct': connectMqttDirect,
};

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

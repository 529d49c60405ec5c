/**
 * The embedded broker: aedes on a TCP port and MQTT over WebSocket for upgrades the HTTP host
 * hands it (`ws` in noServer mode, `createWebSocketStream` into `aedes.handle`). It
 * enforces the rules of `mosquitto/acl.conf` (see rules.ts); the bridge authenticates
 * with a secret, which is what lets it read every `up` topic and write every `down` topic.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { LIMITS } from '@switchyard/protocol';
import { watchPacketSizes } from './packet-limit.ts';
import { brokerRules, type Actor } from './rules.ts';
import { expireDormantSessions } from './sessions.ts';
import { DEFAULT_PREFIX, isValidClientId, Status } from '../shared/topics.ts';

/** What a device presented when connecting. */
export interface DeviceCredentials {
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
}

/** How the bridge logs in to the embedded broker. */
export interface BridgeCredentials {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

/** Options of {@link startEmbeddedBroker}. */
export interface EmbeddedBrokerOptions {
  /** TCP listen address; use `0.0.0.0` for devices on the network. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks a free one. @default 1883 */
  readonly port?: number;
  /** When `port` is taken, listen on a free port instead of failing. @default true */
  readonly portFallback?: boolean;
  /** Topic prefix the rules apply to. @default 'switchyard' */
  readonly prefix?: string;
  /** The bridge's user name, and the client id no device may take. @default 'switchyard-bridge' */
  readonly bridgeUsername?: string;
  /** The bridge's secret. @default 32 random bytes, hex */
  readonly bridgePassword?: string;
  /**
   * Decides whether a device may connect, e.g. by checking that its password belongs to its client
   * id (the topic rules trust client ids). @default every device with a valid client id
   */
  readonly authenticateDevice?: (device: DeviceCredentials) => boolean | Promise<boolean>;
  /** Largest WebSocket frame. @default 256 KiB */
  readonly maxPayload?: number;
  /**
   * Largest MQTT packet (remaining length), before and after CONNECT, TCP and WebSocket; a
   * larger one closes the connection as soon as its header arrives. @default 128 KiB
   */
  readonly maxPacketBytes?: number;
  /**
   * Largest keepalive a device may ask for; 0 (no keepalive) is refused too, since such a
   * device would never be noticed gone. @default 600
   */
  readonly keepaliveLimitSeconds?: number;
  /** A dropped device's session (subscription, queue) is dropped after this long. @default 600000 */
  readonly sessionExpiryMs?: number;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://host:port` of the TCP listener. */
  readonly url: string;
  readonly port: number;
  readonly bridge: BridgeCredentials;
  readonly connectedClients: number;
  /** Sessions of devices that dropped, kept until they come back or expire. */
  readonly dormantSessions: number;
  /** Connections closed for a packet over `maxPacketBytes` (or a malformed length). */
  readonly packetsRefused: number;
  /** Serves one MQTT-over-WebSocket upgrade (the host routes them here). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

type ReturnCode = 2 | 4 | 5; // identifier rejected, bad user name or password, not authorised

function refusal(returnCode: ReturnCode, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function sameSecret(given: Buffer | undefined, expected: Buffer): boolean {
  return (
    given !== undefined && given.length === expected.length && timingSafeEqual(given, expected)
  );
}

function listen(server: TcpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const BRIDGE: Actor = { bridge: true };

/** Starts aedes with the Switchyard topic rules. */
export async function startEmbeddedBroker(
  options: EmbeddedBrokerOptions = {},
): Promise<EmbeddedBroker> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const rules = brokerRules(prefix);
  const bridgeUsername = options.bridgeUsername ?? 'switchyard-bridge';
  const bridgePassword = options.bridgePassword ?? randomBytes(32).toString('hex');
  const secret = Buffer.from(bridgePassword);
  const bridges = new WeakSet<Client>();
  // verdicts of preConnect (which sees the CONNECT packet) for authenticate (which answers it)
  const refused = new WeakMap<Client, AuthenticateError>();
  const actor = (client: Client): Actor =>
    bridges.has(client) ? BRIDGE : { bridge: false, clientId: client.id };

  const maxPacketBytes = options.maxPacketBytes ?? 2 * LIMITS.maxFrameBytes;
  const aedes = await Aedes.createBroker({
    connectTimeout: 10_000,
    drainTimeout: 30_000,
    // a device without keepalive (0) would never be noticed gone: refused at CONNECT
    keepaliveLimit: options.keepaliveLimitSeconds ?? 600,
    // QoS 2 publishes held for a PUBREL that never comes: a few per client, then it is closed
    // (signalling uses QoS 1; aedes' default is 1000 per client)
    maxInflightInbound: 16,
  });
  /** Every stream aedes reads, TCP or WebSocket, is held to the packet size limit. */
  const handle = (stream: Duplex, request?: IncomingMessage) => {
    const watch = watchPacketSizes(maxPacketBytes, () => {
      packetsRefused += 1;
      stream.destroy();
    });
    // with aedes' 'readable' listener in charge, 'data' sees each chunk as aedes reads it
    stream.on('data', watch);
    aedes.handle(stream, request as IncomingMessage);
  };
  let packetsRefused = 0;
  /** Connected devices by client id (a device holds its id until its connection ends). */
  const live = new Map<string, Client>();
  aedes.on('client', (client) => live.set(client.id, client));
  aedes.on('clientDisconnect', (client) => {
    if (live.get(client.id) === client) live.delete(client.id);
    // a Last Will on the device's behalf: without one (or with a clean DISCONNECT but no
    // /leave) the bridge would never learn the device is gone, and it would stay a member
    if (bridges.has(client) || !isValidClientId(client.id)) return;
    const topic = `${prefix}/status/${client.id}`;
    aedes.publish(
      {
        cmd: 'publish',
        topic,
        payload: Buffer.from(Status.offline),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  });
  aedes.preConnect = (client, packet, callback) => {
    if (!isValidClientId(packet.clientId)) {
      refused.set(client, refusal(2, 'a client id must be one topic level without wildcards'));
    } else if (packet.will && !rules.mayWill(packet.clientId, packet.will.topic)) {
      refused.set(client, refusal(5, 'a Last Will must go to the device’s own status topic'));
    } else if (packet.will) {
      packet.will.retain = false; // see authorizePublish
    }
    callback(null, true);
  };
  aedes.authenticate = (client, username, password, done) => {
    const refusedWith = refused.get(client);
    if (refusedWith) return done(refusedWith, false);
    if (username === bridgeUsername) {
      if (!sameSecret(password, secret)) return done(refusal(4, 'bad bridge credentials'), false);
      bridges.add(client);
      return done(null, true);
    }
    if (client.id === bridgeUsername) return done(refusal(5, 'this client id is reserved'), false);
    if (!options.authenticateDevice) {
      // MQTT lets a second CONNECT with a client id take the first's session; the topic rules
      // trust client ids, so without credentials that would hand a live device to anyone
      const holder = live.get(client.id);
      if (holder && holder !== client && !holder.closed)
        return done(refusal(2, 'a live device holds this client id'), false);
      return done(null, true);
    }
    Promise.resolve(
      options.authenticateDevice({
        clientId: client.id,
        ...(username !== undefined && { username }),
        ...(password !== undefined && { password: password.toString() }),
      }),
    ).then(
      (ok) => done(ok ? null : refusal(5, 'device not authorised'), ok),
      () => done(refusal(5, 'device not authorised'), false),
    );
  };
  aedes.authorizePublish = (client, packet, callback) => {
    // no client: a Will of a session already gone; Wills were checked at CONNECT
    const allowed = client ? rules.mayPublish(actor(client), packet.topic) : true;
    // signalling has no use for retained messages, and each would outlive its device in memory
    if (allowed) packet.retain = false;
    // aedes then disconnects the client: MQTT 3.1.1 has no negative acknowledgement
    callback(allowed ? null : new Error(`not authorised to publish to ${packet.topic}`));
  };
  aedes.authorizeSubscribe = (client, subscription, callback) => {
    // null negates the subscription: the SUBACK carries 0x80
    callback(null, rules.maySubscribe(actor(client), subscription.topic) ? subscription : null);
  };

  const sessions = expireDormantSessions(aedes, options.sessionExpiryMs ?? 600_000, (client) =>
    bridges.has(client),
  );

  // signalling is small packets: Nagle's algorithm would hold each one back (shared/no-delay.ts)
  const tcp = createServer({ noDelay: true }, (socket) => handle(socket));
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await listen(tcp, options.port ?? 1883, host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (options.portFallback === false || (code !== 'EADDRINUSE' && code !== 'EACCES')) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw error;
    }
    await listen(tcp, 0, host);
  }
  const port = (tcp.address() as AddressInfo).port;

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxPayload ?? 256 * 1024,
  });
  // every socket upgraded, so close() can end them even mid-handshake
  const upgraded = new Set<Duplex>();

  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `mqtt://${local.includes(':') ? `[${local}]` : local}:${port}`,
    port,
    bridge: { clientId: bridgeUsername, username: bridgeUsername, password: bridgePassword },
    get connectedClients() {
      return aedes.connectedClients;
    },
    get dormantSessions() {
      return sessions.dormant;
    },
    get packetsRefused() {
      return packetsRefused;
    },
    handleUpgrade(request, socket, head) {
      upgraded.add(socket);
      socket.once('close', () => upgraded.delete(socket));
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(request, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        handle(stream, request);
      });
    },
    async close() {
      sessions.stop();
      for (const ws of wss.clients) ws.terminate();
      for (const socket of upgraded) socket.destroy();
      // aedes waits for each client to close; a stuck stream must not hang shutdown
      await Promise.race([
        new Promise<void>((resolve) => aedes.close(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * The embedded broker: aedes on a TCP port and MQTT over WebSocket for upgrades the HTTP host
 * hands it (`ws` in noServer mode, `createWebSocketStream` into `aedes.handle`). It
 * enforces the rules of `mosquitto/acl.conf` (see rules.ts); the bridge authenticates
 * with a secret, which is what lets it read every `up` topic and write every `down` topic.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { LIMITS, type TokenAuthority } from '@switchyard/protocol';
import { watchPacketSizes } from './packet-limit.ts';
import { applyDevicePolicy } from './policy.ts';
import { expireDormantSessions } from './sessions.ts';
import { DEFAULT_PREFIX } from '../shared/topics.ts';

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
  /**
   * A device's MQTT password must be a valid token (CONNACK "not authorized" otherwise); the
   * bridge hands it to the hub with the device's pipe (docs/protocol.md §4.7). A device without
   * a password may connect, and must then announce with a token. A live client id passes only
   * to a connection of the same principal. Give it the hub's authority. @default none
   */
  readonly tokens?: TokenAuthority;
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
  /** The token a connected device presented as its password (with `tokens`), for the bridge. */
  tokenOf(clientId: string): string | undefined;
  /** Serves one MQTT-over-WebSocket upgrade (the host routes them here). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
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

/** Starts aedes with the Switchyard topic rules. */
export async function startEmbeddedBroker(
  options: EmbeddedBrokerOptions = {},
): Promise<EmbeddedBroker> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const bridgeUsername = options.bridgeUsername ?? 'switchyard-bridge';
  const bridgePassword = options.bridgePassword ?? randomBytes(32).toString('hex');
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
  const policy = applyDevicePolicy(aedes, {
    prefix,
    bridgeUsername,
    secret: Buffer.from(bridgePassword),
    ...(options.authenticateDevice && { authenticateDevice: options.authenticateDevice }),
    ...(options.tokens && { tokens: options.tokens }),
  });
  const bridges = policy.bridges;

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
    tokenOf: policy.tokenOf,
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

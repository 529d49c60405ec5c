/**
 * The Switchyard server: one hub, one HTTP port, the chosen transports' server halves mounted on
 * it in one loop, health, metrics and structured logs.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger as Pino } from 'pino';
import { createHub, type Authenticate, type Hub, type HubOptions } from '@switchyard/hub';
import { createClusterNode, type ClusterNode } from '@switchyard/cluster';
import { createRedisBackplane, type RedisBackplane } from '@switchyard/cluster-redis';
import { serveTransports, type ServedTransports } from '@switchyard/http';
import { createJwtAuthority, type JwtAuthority, type JwtAuthorityOptions } from '@switchyard/auth';
import { CloseCode, type Logger, type TokenAuthority } from '@switchyard/protocol';
import type { SseServerHalf } from '@switchyard/transport-sse/server';
import { hubMetrics } from './metrics.ts';
import type { MqttMode } from './mqtt-mode.ts';
import { appRoutes } from './routes.ts';
import { sseOverCluster } from './sse-cluster.ts';
import { RateMeter, StatusAccess } from './status.ts';
import { TRANSPORT_NAMES, transportHalves, type TransportName } from './transports.ts';

/** Options of {@link startServer}. */
export interface StartOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 3000 */
  readonly port?: number;
  readonly hub?: HubOptions;
  /** Checks credentials on every announce (the hub's `authenticate` service). @default none */
  readonly authenticate?: Authenticate;
  /**
   * Require a JWT on every connection (docs/security.md): the key source and required claims.
   * Checked at startup; a configuration that cannot work throws `AuthConfigError`. @default none
   */
  readonly jwt?: JwtAuthorityOptions;
  /** Require tokens verified by this authority instead (takes precedence over `jwt`). */
  readonly tokens?: TokenAuthority;
  readonly allowedOrigins?: readonly string[];
  /** The transports to run. @default every one: ws, socket.io, sse, mqtt */
  readonly transports?: readonly TransportName[];
  /**
   * MQTT: `auto` bridges to a broker at 127.0.0.1:1883 or embeds one, `embedded` always embeds
   * (TCP on `mqttPort`, or a free port if taken, plus MQTT over WebSocket at `/mqtt`), a
   * `mqtt://host:port` URL bridges to that broker. The `switchyard` binary defaults to `auto`;
   * embedders opt in. @default 'off'
   */
  readonly mqtt?: MqttMode;
  /** TCP port of an embedded broker. @default 1883 */
  readonly mqttPort?: number;
  /** @default a pino logger at info on stdout */
  readonly logger?: Pino;
  /** The built demo served at `/demo/` (`npm run build` builds it). @default this package's dist/demo */
  readonly demoDir?: string;
  /**
   * With a token, the status page shows room names and peer ids only to callers that send it
   * (`Authorization: Bearer …`); without one, only to loopback callers. @default none
   */
  readonly adminToken?: string;
  /**
   * Join a cluster on Redis (docs/cluster.md): peers on every node of it share rooms.
   * @default none: this process is the whole service
   */
  readonly cluster?: ClusterOptions;
}

/** Where the cluster's Redis is and who this node is. */
export interface ClusterOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…`. */
  readonly url: string;
  /** Unique in the cluster. @default random */
  readonly nodeId?: string;
  /** Node leases (docs/cluster.md). @default 3000 and 1000 */
  readonly leaseMs?: number;
  readonly renewMs?: number;
}

/** A running server; `await using` closes it. */
export interface RunningServer extends AsyncDisposable {
  readonly hub: Hub;
  readonly http: Server;
  readonly port: number;
  /** `http://host:port`, for clients of every transport. */
  readonly url: string;
  /** The server halves it runs, by transport name. */
  readonly transports: ServedTransports;
  /** Graceful shutdown: 1001 to every client, then the port is released. */
  close(): Promise<void>;
}

/** The server's version, from its package.json. */
export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** A pino child as the one Logger shape the libraries take. */
function loggerFor(logger: Pino, component: string): Logger {
  const child = logger.child({ component });
  return (level, message, fields) => child[level](fields ?? {}, message);
}

function isJwtAuthority(tokens: TokenAuthority | undefined): tokens is JwtAuthority {
  return tokens !== undefined && 'stats' in tokens && 'describe' in tokens;
}

function jwtStats(tokens: TokenAuthority | undefined) {
  return isJwtAuthority(tokens) ? () => tokens.stats() : undefined;
}

/** What `/healthz` says about authentication. */
function describeAuth(tokens: TokenAuthority | undefined): string {
  if (!tokens) return 'none';
  return isJwtAuthority(tokens) ? `jwt: ${tokens.describe}` : 'tokens';
}

/** Connects to the cluster's Redis, or says clearly why it cannot. */
async function joinCluster(cluster: ClusterOptions, logger: Pino): Promise<RedisBackplane> {
  const shown = cluster.url.replace(/\/\/[^@/]*@/, '//***@');
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`cannot reach the cluster's Redis at ${shown} within 10 s`)),
      10_000,
    ).unref(),
  );
  const backplane = await Promise.race([
    createRedisBackplane({
      url: cluster.url,
      ...(cluster.nodeId !== undefined && { node: cluster.nodeId }),
      ...(cluster.leaseMs !== undefined && { leaseMs: cluster.leaseMs }),
      ...(cluster.renewMs !== undefined && { renewMs: cluster.renewMs }),
      log: loggerFor(logger, 'cluster'),
    }),
    timeout,
  ]);
  logger.info({ node: backplane.node, redis: shown }, 'joined the cluster');
  return backplane;
}

/** Starts the server and resolves once it listens. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ name: 'switchyard' });
  const tokens: TokenAuthority | undefined =
    options.tokens ?? (options.jwt && createJwtAuthority(options.jwt));
  const services = {
    log: loggerFor(logger, 'hub'),
    ...(options.authenticate && { authenticate: options.authenticate }),
    ...(tokens && { tokens }),
  };
  const backplane = options.cluster && (await joinCluster(options.cluster, logger));
  const node: ClusterNode | undefined =
    backplane && createClusterNode(backplane, options.hub, services);
  const hub = node?.hub ?? createHub(options.hub, services);
  // in a cluster, connections go to the node, which routes each to its room's home
  const accept = node?.accept ?? hub.accept;
  hub.on('room:created', (room) => logger.debug({ room }, 'room created'));
  hub.on('room:destroyed', (room) => logger.debug({ room }, 'room destroyed'));
  // debug, not info: at info every join and leave of a busy server is two log writes, 9 % of
  // the join path's CPU in the churn profile (docs/benchmarks.md)
  hub.on('peer:joined', (peer) => logger.debug(peer, 'peer joined'));
  hub.on('peer:left', (peer) => logger.debug(peer, 'peer left'));

  const host = options.host ?? '127.0.0.1';
  const sse = () => halves.find((half): half is SseServerHalf => half.transport === 'sse');
  const halves = transportHalves(options.transports ?? TRANSPORT_NAMES, {
    ...(options.allowedOrigins && { allowedOrigins: options.allowedOrigins }),
    ...(tokens && { tokens }),
    ...(node && { sseCluster: sseOverCluster(node, sse) }),
    mqtt: {
      mode: options.mqtt ?? 'off',
      host,
      ...(options.mqttPort !== undefined && { port: options.mqttPort }),
    },
  });
  const rates = new RateMeter(hub);
  // Node checks request deadlines (a slow POST body) every 30 s by default: check every second
  const http = createServer({ connectionsCheckingInterval: 1000 });
  const transports = await serveTransports(http, accept, halves, {
    log: (transport) => loggerFor(logger, transport),
    fallback: appRoutes({
      hub,
      halves,
      metrics: hubMetrics(hub, jwtStats(tokens), backplane && (() => backplane.stats())),
      ...(backplane && {
        cluster: () => ({
          node: backplane.node,
          nodes: backplane.nodes(),
          bus: backplane.up ? ('up' as const) : ('down' as const),
        }),
      }),
      version: VERSION,
      auth: describeAuth(tokens),
      rates,
      access: new StatusAccess(options.adminToken),
      startedAt: Date.now(),
      ...(options.demoDir !== undefined && { demoDir: options.demoDir }),
    }),
  });

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 3000, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    rates.stop();
    if (node) await node.close();
    else hub.close();
    await transports.close();
    throw error;
  }
  const address = http.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shown}:${address.port}`;
  logger.info(
    {
      url,
      port: address.port,
      transports: halves.map((half) => half.transport),
      served: halves.map((half) => half.describe()),
      auth: describeAuth(tokens),
      ...(backplane && { cluster: { node: backplane.node, nodes: backplane.nodes() } }),
    },
    'switchyard listening',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down');
      rates.stop();
      if (node) await node.close();
      else hub.close(CloseCode.goingAway, 'server shutting down');
      await transports.close(CloseCode.goingAway);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      logger.info('stopped');
    })());
  return {
    hub,
    http,
    port: address.port,
    url,
    transports,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The Switchyard server: one hub, one HTTP port, every transport's server half mounted on it,
 * health and structured logs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createHub, type Authenticate, type Hub, type HubOptions } from '@switchyard/hub';
import { CloseCode } from '@switchyard/protocol';
import { hubMetrics } from './metrics.ts';
import { attachSocketIo } from '@switchyard/transport-socketio/server';
import { startMqtt, type MqttMode, type MqttService } from '@switchyard/transport-mqtt/server';
import { createSseServer } from '@switchyard/transport-sse/server';
import { attachWebSocket } from '@switchyard/transport-ws/server';

/** Options of {@link startServer}. */
export interface StartOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 3000 */
  readonly port?: number;
  readonly hub?: HubOptions;
  /** Checks credentials on every announce (the hub's `authenticate` service). @default none */
  readonly authenticate?: Authenticate;
  readonly allowedOrigins?: readonly string[];
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
  readonly logger?: Logger;
}

/** A running server. */
export interface RunningServer {
  readonly hub: Hub;
  readonly http: Server;
  readonly port: number;
  /** `http://host:port`, for clients of every transport. */
  readonly url: string;
  /** What MQTT runs: off, a bridge to a broker, or an embedded broker (with its URL). */
  readonly mqtt: MqttService;
  /** Graceful shutdown: 1001 to every client, then the port is released. */
  close(): Promise<void>;
}

const VERSION = '0.1.0';

/** Starts the server and resolves once it listens. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ name: 'switchyard' });
  const hub = createHub(options.hub, {
    log: (level, message, fields) => logger[level]({ ...fields, component: 'hub' }, message),
    ...(options.authenticate && { authenticate: options.authenticate }),
  });
  hub.on('room:created', (room) => logger.debug({ room }, 'room created'));
  hub.on('room:destroyed', (room) => logger.debug({ room }, 'room destroyed'));
  hub.on('peer:joined', (peer) => logger.debug(peer, 'peer joined'));
  hub.on('peer:left', (peer) => logger.debug(peer, 'peer left'));

  const origins = options.allowedOrigins && { allowedOrigins: options.allowedOrigins };
  const sse = createSseServer(hub.accept, { ...origins });
  const metrics = hubMetrics(hub);
  const http = createServer((request, response) => {
    if (!sse.handle(request, response)) serveHttp(request, response, hub, metrics);
  });
  // WebSocket takes every upgrade path the other transports do not own
  const ws = attachWebSocket(http, hub.accept, {
    excludePaths: ['/socket.io/', '/sse', '/mqtt'],
    ...origins,
    onSocketError: (error) => logger.debug({ err: error }, 'websocket protocol error'),
  });
  // after createServer(handler): engine.io wraps the request listeners present now
  const socketIo = attachSocketIo(http, hub.accept, {
    ...origins,
    onConnectionError: (error) => logger.debug({ err: error }, 'socket.io connection error'),
  });
  const mqtt = await startMqtt(hub.accept, {
    mode: options.mqtt ?? 'off',
    httpServer: http,
    host: options.host ?? '127.0.0.1',
    ...(options.mqttPort !== undefined && { port: options.mqttPort }),
    log: (level, message, details) => logger[level]({ ...details, component: 'mqtt' }, message),
  });
  const transports = ['ws', 'socket.io', 'sse', ...(mqtt.mode === 'off' ? [] : ['mqtt'])];

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info(
    { url, port: address.port, transports, mqtt: mqtt.description },
    'switchyard listening',
  );

  let closing: Promise<void> | undefined;
  return {
    hub,
    http,
    port: address.port,
    url,
    mqtt,
    close() {
      closing ??= (async () => {
        logger.info('shutting down');
        hub.close(CloseCode.goingAway, 'server shutting down');
        await Promise.all([
          ws.close(CloseCode.goingAway),
          socketIo.close(CloseCode.goingAway),
          sse.close(CloseCode.goingAway),
          mqtt.close(),
        ]);
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        logger.info('stopped');
      })();
      return closing;
    },
  };
}

function serveHttp(
  request: IncomingMessage,
  response: ServerResponse,
  hub: Hub,
  metrics: Registry,
): void {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method === 'GET' && path === '/metrics') {
    metrics.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.contentType });
        response.end(text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`metrics failed: ${String(error)}\n`);
      },
    );
    return;
  }
  if (request.method === 'GET' && path === '/healthz') {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify({ status: 'ok', version: VERSION, ...hub.stats() }));
    return;
  }
  if (request.method === 'GET' && path === '/') {
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(
      `switchyard ${VERSION}: rtc-signaller signalling. WebSocket on any path, Socket.IO at ` +
        `/socket.io/ (event rtc-signal), SSE at GET /sse + POST /sse/<session>; GET /healthz, GET /metrics.\n`,
    );
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`not found: ${request.method} ${path}\n`);
}

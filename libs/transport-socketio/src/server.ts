/**
 * Server half of the Socket.IO transport: `socket.io` 4.8 on its own engine.io server, driven by
 * the shared HTTP host for requests and upgrades under `/socket.io`. Each socket is a `Pipe`;
 * each protocol message is the event `rtc-signal` with one string argument, in both directions,
 * so original `rtc-signaller-socket.io` clients work as is. Wire details: docs/transports/socketio.md.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as EngineServer } from 'engine.io';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import {
  CloseCode,
  originAllowed,
  silentLogger,
  type Accept,
  type Logger,
  type OriginPolicy,
} from '@switchyard/protocol';
import { refuseUpgrade, replyText, settleWithin, type HttpServerHalf } from '@switchyard/http';
import { SIGNAL_EVENT } from './events.ts';
import {
  contextOf,
  onAnyEvent,
  onDisconnect,
  onDrain,
  OPS,
  SocketOps,
  type Tagged,
} from './socket-pipe.ts';

/** Options of {@link socketIoServer}. */
export interface SocketIoServerOptions {
  /** Endpoint path. @default '/socket.io' */
  readonly path?: string;
  /**
   * Transport frame limit (engine.io `maxHttpBufferSize`): a larger message closes the
   * connection (1009 on WebSocket). Messages under it but over the hub's limit get the hub's
   * `/error frame-too-large` instead. It also bounds what an unfinished message can pin per
   * connection. @default 256 KiB (4 × the hub limit)
   */
  readonly maxHttpBufferSize?: number;
  /** engine.io heartbeat: the server pings this often. @default 25000 */
  readonly pingIntervalMs?: number;
  /** A ping unanswered for this long drops the connection (a hard disconnect). @default 20000 */
  readonly pingTimeoutMs?: number;
  /**
   * Allowed `Origin` values, or a predicate; handshakes without `Origin` (non-browsers) pass.
   * The same list answers long-polling CORS requests. @default all
   */
  readonly allowedOrigins?: OriginPolicy;
  /** engine.io transports accepted. @default ['polling', 'websocket'] */
  readonly transports?: readonly ('polling' | 'websocket')[];
  /**
   * Accept Engine.IO v3 clients: socket.io-client 2.x, which `rtc-signaller-socket.io` was
   * released with. @default true
   */
  readonly allowEIO3?: boolean;
}

/** The Socket.IO server half. */
export interface SocketIoServerHalf extends HttpServerHalf {
  readonly transport: 'socket.io';
}

/** The Socket.IO transport's server half; mount it with `serveTransports`. */
export function socketIoServer(options: SocketIoServerOptions = {}): SocketIoServerHalf {
  const allowed = options.allowedOrigins;
  const path = options.path ?? '/socket.io';
  const config: Partial<ServerOptions> = {
    path,
    serveClient: false,
    maxHttpBufferSize: options.maxHttpBufferSize ?? 256 * 1024,
    pingInterval: options.pingIntervalMs ?? 25_000,
    pingTimeout: options.pingTimeoutMs ?? 20_000,
    transports: [...(options.transports ?? ['polling', 'websocket'])],
    allowEIO3: options.allowEIO3 ?? true,
    perMessageDeflate: false,
    cors: {
      origin:
        allowed === undefined
          ? true
          : (origin, callback) => callback(null, originAllowed(origin, allowed)),
    },
    allowRequest: (request, callback) =>
      originAllowed(request.headers.origin, allowed)
        ? callback(null, true)
        : callback('Forbidden origin', false),
  };
  // an engine of our own, bound to socket.io: the host routes to it, nothing wraps the server
  const engine = new EngineServer(config);
  const io = new Server(config).bind(engine);
  let accept: Accept | undefined;
  let log: Logger = silentLogger;
  let closed = false;

  engine.on('connection_error', (error: { message: string }) =>
    log('debug', 'socket.io connection error', { error: error.message }),
  );
  io.on('connection', (socket) => {
    const ops = new SocketOps(socket);
    (socket as Tagged<Socket>)[OPS] = ops;
    (socket.conn as Tagged<Socket['conn']>)[OPS] = ops;
    socket.onAny(onAnyEvent);
    socket.on('disconnect', onDisconnect);
    socket.conn.on('drain', onDrain);
    accept!(ops.handle.pipe, contextOf(socket));
  });

  return {
    transport: 'socket.io',
    paths: [path],
    start(host) {
      accept = host.accept;
      log = host.log;
    },
    // engine.io checks `allowRequest` on handshakes only: every later request of a session is
    // checked here too, so a session opened without an Origin cannot be used from a foreign page
    handleRequest(request, response) {
      if (closed) return replyText(response, 503, 'server shutting down');
      if (!originAllowed(request.headers.origin, allowed))
        return replyText(response, 403, 'Forbidden origin');
      // JSONP (EIO3 `j=`) is read through <script>, which sends no Origin: never served
      if (isJsonp(request.url))
        return replyText(
          response,
          400,
          'JSONP polling is not served: use XHR polling or WebSocket',
        );
      engine.handleRequest(request, response);
    },
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      if (closed) return refuseUpgrade(socket, 503, 'server shutting down');
      if (!originAllowed(request.headers.origin, allowed))
        return refuseUpgrade(socket, 403, 'Forbidden origin');
      engine.handleUpgrade(request, socket, head);
    },
    get connections() {
      return io.of('/').sockets.size;
    },
    describe: () => `Socket.IO at ${path}/ (event ${SIGNAL_EVENT})`,
    async close(code = CloseCode.goingAway) {
      closed = true;
      const sockets = [...io.of('/').sockets.values()];
      const gone = sockets.map(({ conn }) =>
        conn.readyState === 'closed'
          ? Promise.resolve()
          : settleWithin(new Promise((resolve) => conn.once('close', resolve)), 2000),
      );
      for (const socket of sockets)
        (socket as Tagged<Socket>)[OPS].handle.pipe.close(code, 'server shutting down');
      await Promise.all(gone);
      // whatever is left (connections that never joined the namespace) is closed at once
      engine.close();
    },
  };
}

/** Whether a request asks for JSONP polling (`j=<index>` in the query). */
function isJsonp(url: string | undefined): boolean {
  if (!url?.includes('j=')) return false;
  return new URL(url, 'http://localhost').searchParams.has('j');
}

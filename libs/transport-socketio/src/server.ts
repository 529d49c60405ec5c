/**
 * Server half of the Socket.IO transport: `socket.io` 4.8 on its own engine.io server, driven by
 * the shared HTTP host for requests and upgrades under `/socket.io`. Each socket is a `Pipe`;
 * each protocol message is the event `rtc-signal` with one string argument, in both directions,
 * so original `rtc-signaller-socket.io` clients work as is. Wire details: docs/transports/socketio.md.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as EngineServer } from 'engine.io';
import { Server, type DisconnectReason, type ServerOptions, type Socket } from 'socket.io';
import {
  CloseCode,
  definePipe,
  originAllowed,
  silentLogger,
  type Accept,
  type CloseInfo,
  type ConnectionContext,
  type Logger,
  type OriginPolicy,
  type PipeHandle,
  type PipeOps,
} from '@switchyard/protocol';
import { refuseUpgrade, replyText, settleWithin, type HttpServerHalf } from '@switchyard/http';
import { CLOSE_EVENT, PROBE_EVENT, SIGNAL_EVENT } from './events.ts';

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

/** engine.io's packet writer, which its TypeScript types keep private. */
interface EnginePing {
  sendPacket(type: 'ping'): void;
}

/** How long a server-initiated close may wait for engine.io to flush what is queued. */
const CLOSE_FLUSH_MS = 1000;

// Server-side disconnect reasons mapped to the WebSocket close codes the hub reports.
const CLOSE_CODES: Partial<Record<DisconnectReason, number>> = {
  'client namespace disconnect': CloseCode.normal,
  'server shutting down': CloseCode.goingAway,
  'forced server close': CloseCode.goingAway,
  'parse error': CloseCode.protocolError,
};
const UNREADABLE = `events other than "${SIGNAL_EVENT}" with one string argument`;

const OPS = Symbol('switchyard.socket-io.ops');
type Tagged<T> = T & { [OPS]: SocketOps };

/** The pipe operations of one socket, as prototype methods: no closures per connection. */
class SocketOps implements PipeOps {
  readonly handle: PipeHandle;
  /** Characters emitted since engine.io last handed its write buffer to the transport. */
  queued = 0;
  closedWith: Partial<CloseInfo> = {};

  constructor(private readonly socket: Socket) {
    this.handle = definePipe('socket.io', this);
  }
  send(message: string): void {
    this.queued += message.length;
    this.socket.emit(SIGNAL_EVENT, message);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code: code ?? CloseCode.normal, ...(reason !== undefined && { reason }) };
    if (code !== undefined) this.socket.emit(CLOSE_EVENT, code, reason ?? '');
    // engine.io flushes what is queued (the close event included) before it closes the
    // transport: a peer that never reads would hold the connection until its ping timeout
    const conn = this.socket.conn;
    this.socket.disconnect(true);
    if (conn.readyState === 'closed') return;
    const deadline = setTimeout(() => conn.close(true), CLOSE_FLUSH_MS);
    deadline.unref();
    conn.once('close', () => clearTimeout(deadline));
  }
  bufferedAmount(): number {
    return this.queued;
  }
  /**
   * Alive on any evidence inside `timeoutMs`: an acknowledged `rtc-probe` (the client half), or
   * an Engine.IO heartbeat, which every client library sends by itself. On protocol 4 the probe
   * sends an extra Engine.IO ping, so original clients without an `rtc-probe` listener answer
   * too; protocol 3 clients ping on their own schedule, so for them a heartbeat rarely falls in
   * the window. "Dead" waits one more turn of I/O, so that a busy loop cannot outrun a pong.
   */
  isAlive(timeoutMs: number): Promise<boolean> {
    const conn = this.socket.conn;
    return new Promise((resolve) => {
      let settled = false;
      const done = (alive: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        conn.off('heartbeat', onHeartbeat);
        resolve(alive);
      };
      const onHeartbeat = () => done(true);
      const timer = setTimeout(() => setImmediate(() => done(false)), timeoutMs);
      conn.on('heartbeat', onHeartbeat);
      this.socket
        .timeout(timeoutMs)
        .emit(PROBE_EVENT, (error: Error | null) => error || done(true));
      if (conn.protocol !== 3) (conn as unknown as EnginePing).sendPacket('ping');
    });
  }
}

// Shared listeners; `this` is the socket (or its engine.io connection).
function onAnyEvent(this: Socket, event: unknown, ...args: unknown[]): void {
  const ops = (this as Tagged<Socket>)[OPS];
  const message = args[0];
  if (event === SIGNAL_EVENT && args.length === 1 && typeof message === 'string')
    ops.handle.receive(message);
  else ops.handle.unreadable(UNREADABLE);
}

function onDisconnect(this: Socket, reason: DisconnectReason): void {
  const ops = (this as Tagged<Socket>)[OPS];
  ops.handle.closed(
    reason === 'server namespace disconnect'
      ? ops.closedWith
      : { code: CLOSE_CODES[reason] ?? CloseCode.abnormal, reason },
  );
}

function onDrain(this: Socket['conn']): void {
  (this as Tagged<Socket['conn']>)[OPS].queued = 0;
}

function contextOf(socket: Socket): ConnectionContext {
  const { auth, query, address, headers } = socket.handshake;
  const token =
    typeof auth['token'] === 'string'
      ? auth['token']
      : typeof query['token'] === 'string'
        ? query['token']
        : undefined;
  return {
    transport: 'socket.io',
    ...(address && { remoteAddress: address }),
    ...(headers.origin !== undefined && { origin: headers.origin }),
    ...(token !== undefined && { credentials: { token } }),
  };
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

/**
 * Server half of the Socket.IO transport: `socket.io` 4.8 on a shared `http.Server` at
 * `/socket.io/`. Each socket is a `Pipe`; each protocol message is the event `rtc-signal` with one
 * string argument, in both directions, so original `rtc-signaller-socket.io` clients work as is.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type DisconnectReason, type ServerOptions, type Socket } from 'socket.io';
import {
  CloseCode,
  definePipe,
  errorMessage,
  originAllowed,
  type Accept,
  type CloseInfo,
  type ConnectionContext,
  type OriginPolicy,
  type PipeHandle,
  type PipeOps,
} from '@switchyard/protocol';
import { CLOSE_EVENT, PROBE_EVENT, SIGNAL_EVENT } from './events.ts';

/** Options of {@link attachSocketIo}. */
export interface SocketIoServerOptions {
  /**
   * Endpoint path. Give the WebSocket transport the same prefix with a trailing `/` in
   * `excludePaths`. @default '/socket.io'
   */
  readonly path?: string;
  /**
   * Transport frame limit (engine.io `maxHttpBufferSize`): a larger message closes the
   * connection (1009 on WebSocket). Messages under it but over the hub's limit get the hub's
   * `/error frame-too-large` instead. @default 1 MiB
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
  /** Called for refused or broken handshakes; they never crash the process. */
  readonly onConnectionError?: (error: Error) => void;
}

/** A running Socket.IO server half. */
export interface SocketIoServerHandle {
  /** Connected sockets. */
  readonly connections: number;
  /**
   * Closes every socket with `code` (default 1001), stops accepting and gives the `/socket.io/`
   * path back to the HTTP server's other listeners. The HTTP server itself stays up.
   */
  close(code?: number): Promise<void>;
}

// Server-side disconnect reasons mapped to the WebSocket close codes the hub reports.
const CLOSE_CODES: Partial<Record<DisconnectReason, number>> = {
  'client namespace disconnect': CloseCode.normal,
  'server shutting down': CloseCode.goingAway,
  'forced server close': CloseCode.goingAway,
  'parse error': CloseCode.protocolError,
};
const ABNORMAL_CLOSURE = 1006;
const MALFORMED = errorMessage(
  'malformed',
  `expected the event "${SIGNAL_EVENT}" with one string argument`,
);

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
    // engine.io flushes what is queued (the close event included) before it closes the transport
    this.socket.disconnect(true);
  }
  bufferedAmount(): number {
    return this.queued;
  }
  isAlive(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.socket.timeout(timeoutMs).emit(PROBE_EVENT, (error: Error | null) => resolve(!error));
    });
  }
}

// Shared listeners; `this` is the socket (or its engine.io connection).
function onAnyEvent(this: Socket, event: unknown, ...args: unknown[]): void {
  const ops = (this as Tagged<Socket>)[OPS];
  const message = args[0];
  if (event === SIGNAL_EVENT && args.length === 1 && typeof message === 'string')
    ops.handle.receive(message);
  else if (ops.handle.isOpen) ops.send(MALFORMED);
}

function onDisconnect(this: Socket, reason: DisconnectReason): void {
  const ops = (this as Tagged<Socket>)[OPS];
  ops.handle.closed(
    reason === 'server namespace disconnect'
      ? ops.closedWith
      : { code: CLOSE_CODES[reason] ?? ABNORMAL_CLOSURE, reason },
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

type ListenerSnapshot = Map<string, ReturnType<HttpServer['listeners']>>;
const SERVER_EVENTS = ['request', 'upgrade', 'close', 'listening'];
const snapshot = (server: HttpServer): ListenerSnapshot =>
  new Map(SERVER_EVENTS.map((event) => [event, server.listeners(event)]));

/** Mounts the Socket.IO transport on `server`, handing each socket to `accept` as a `Pipe`. */
export function attachSocketIo(
  server: HttpServer,
  accept: Accept,
  options: SocketIoServerOptions = {},
): SocketIoServerHandle {
  const allowed = options.allowedOrigins;
  const config: Partial<ServerOptions> = {
    path: options.path ?? '/socket.io',
    serveClient: false,
    // ws owns every other upgrade path on the shared server: never destroy upgrades we do not own
    destroyUpgrade: false,
    maxHttpBufferSize: options.maxHttpBufferSize ?? 1024 * 1024,
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

  // engine.io wraps the server's listeners and offers no detach: remember what it changed
  const before = snapshot(server);
  const io = new Server(server, config);
  const after = snapshot(server);

  io.engine.on('connection_error', (error: { message: string }) =>
    options.onConnectionError?.(new Error(error.message)),
  );
  io.on('connection', (socket) => {
    const ops = new SocketOps(socket);
    (socket as Tagged<Socket>)[OPS] = ops;
    (socket.conn as Tagged<Socket['conn']>)[OPS] = ops;
    socket.onAny(onAnyEvent);
    socket.on('disconnect', onDisconnect);
    socket.conn.on('drain', onDrain);
    accept(ops.handle.pipe, contextOf(socket));
  });

  function detach(): void {
    for (const [event, listeners] of after) {
      const original = before.get(event) ?? [];
      for (const listener of listeners)
        if (!original.includes(listener)) server.off(event, listener as () => void);
      for (const listener of original)
        if (!listeners.includes(listener)) server.on(event, listener as () => void);
    }
  }

  return {
    get connections() {
      return io.of('/').sockets.size;
    },
    async close(code = CloseCode.goingAway) {
      detach();
      const sockets = [...io.of('/').sockets.values()];
      const gone = sockets.map(
        ({ conn }) =>
          new Promise<void>((resolve) => {
            if (conn.readyState === 'closed') return resolve();
            conn.once('close', () => resolve());
            setTimeout(resolve, 2000).unref();
          }),
      );
      for (const socket of sockets)
        (socket as Tagged<Socket>)[OPS].handle.pipe.close(code, 'server shutting down');
      await Promise.all(gone);
      // whatever is left (connections that never joined the namespace) is closed at once
      io.engine.close();
    },
  };
}

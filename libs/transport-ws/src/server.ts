/**
 * Server half of the WebSocket transport: `ws` in noServer mode on a shared `http.Server`.
 * Any path not claimed by another transport is accepted (original clients use `/` and `/primus`).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CloseCode,
  definePipe,
  errorMessage,
  originAllowed,
  type Accept,
  type ConnectionContext,
  type OriginPolicy,
  type PipeHandle,
  type PipeOps,
} from '@switchyard/protocol';
import { closeSafely } from './close-code.ts';
import { coalesceWrites, utf8Once } from './write-batching.ts';

/** Options of {@link attachWebSocket}. */
export interface WebSocketServerOptions {
  /** Path prefixes that belong to other transports (e.g. `/socket.io/`, `/mqtt`). @default [] */
  readonly excludePaths?: readonly string[];
  /** Transport frame limit; a larger frame closes the socket with 1009. @default 1 MiB */
  readonly maxPayload?: number;
  /** Allowed `Origin` values, or a predicate. Requests without `Origin` (non-browsers) pass. @default all */
  readonly allowedOrigins?: OriginPolicy;
  /** Ping interval; a socket that missed the previous pong is terminated. @default 30000 */
  readonly pingIntervalMs?: number;
  /** Called for socket-level errors (protocol violations); they never crash the process. */
  readonly onSocketError?: (error: Error) => void;
}

/** A running WebSocket server half. */
export interface WebSocketServerHandle {
  /** Open sockets. */
  readonly connections: number;
  /** Stops accepting and closes every socket with `code` (default 1001). */
  close(code?: number): Promise<void>;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
  );
}

function contextOf(request: IncomingMessage): ConnectionContext {
  const token = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
  return {
    transport: 'ws',
    ...(request.socket.remoteAddress !== undefined && {
      remoteAddress: request.socket.remoteAddress,
    }),
    ...(request.headers.origin !== undefined && { origin: request.headers.origin }),
    ...(token !== null && { credentials: { token } }),
  };
}

const PIPE = Symbol('switchyard.pipe');
type TaggedSocket = WebSocket & { [PIPE]: PipeHandle };

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  if (isBinary) this.send(errorMessage('malformed', 'binary frames are not accepted; send text'));
  else (this as TaggedSocket)[PIPE].receive(data.toString());
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as TaggedSocket)[PIPE].closed({ code, reason: reason.toString() });
}

const TEXT_FRAME = { binary: false } as const;

/** The pipe operations of one socket, as prototype methods. */
class SocketOps implements PipeOps {
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
  ) {}
  send(message: string): void {
    coalesceWrites(this.socket);
    this.ws.send(utf8Once(message), TEXT_FRAME);
  }
  close(code?: number, reason?: string): void {
    closeSafely(this.ws, code, reason);
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  isAlive(timeoutMs: number): Promise<boolean> {
    return probe(this.ws, timeoutMs);
  }
}

/** Sends a ping and resolves whether a pong came back in time. */
function probe(ws: WebSocket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (ws.readyState !== ws.OPEN) return resolve(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    const onPong = () => done(true);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      ws.off('pong', onPong);
      resolve(alive);
    };
    ws.on('pong', onPong);
    ws.ping();
  });
}

/** Mounts the WebSocket transport on `server`, handing each socket to `accept` as a `Pipe`. */
export function attachWebSocket(
  server: Server,
  accept: Accept,
  options: WebSocketServerOptions = {},
): WebSocketServerHandle {
  const excluded = options.excludePaths ?? [];
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload ?? 1024 * 1024,
    perMessageDeflate: false,
  });
  const answered = new WeakSet<WebSocket>();

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (excluded.some((prefix) => path.startsWith(prefix))) return;
    socket.on('error', () => socket.destroy());
    if (!originAllowed(request.headers.origin, options.allowedOrigins))
      return refuse(socket, 403, 'Forbidden origin');
    // read what the hub needs now: a closure over `request` would keep it alive per socket
    const context = contextOf(request);
    wss.handleUpgrade(request, socket, head, (ws) => wire(ws, socket, context));
  };

  function wire(ws: WebSocket, socket: Duplex, context: ConnectionContext): void {
    answered.add(ws);
    const handle = definePipe('ws', new SocketOps(ws, socket));
    (ws as TaggedSocket)[PIPE] = handle;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onError);
    ws.on('close', onClose);
    accept(handle.pipe, context);
  }

  // Shared listeners (`this` is the socket): no closures per connection.
  function onPong(this: WebSocket): void {
    answered.add(this);
  }
  function onError(this: WebSocket, error: Error): void {
    options.onSocketError?.(error);
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!answered.has(ws)) {
        ws.terminate();
        continue;
      }
      answered.delete(ws);
      ws.ping();
    }
  }, options.pingIntervalMs ?? 30_000);
  heartbeat.unref();

  server.on('upgrade', onUpgrade);
  return {
    get connections() {
      return wss.clients.size;
    },
    async close(code = CloseCode.goingAway) {
      server.off('upgrade', onUpgrade);
      clearInterval(heartbeat);
      const closing = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            closeSafely(ws, code, 'server shutting down');
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 2000).unref();
          }),
      );
      await Promise.all(closing);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Server half of the WebSocket transport: `ws` in noServer mode behind the shared HTTP host. It
 * takes upgrades on every path no other transport claims (original clients use `/` and
 * `/primus`). Wire details: docs/transports/ws.md.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  BEARER_SUBPROTOCOL_PREFIX,
  bearerSubprotocolToken,
  SWITCHYARD_SUBPROTOCOL,
  CloseCode,
  definePipe,
  originAllowed,
  probeWithin,
  silentLogger,
  type Accept,
  type ConnectionContext,
  type Logger,
  type OriginPolicy,
  type PipeHandle,
  type PipeOps,
} from '@switchyard/protocol';
import {
  queryToken,
  refuseUpgrade,
  requestContext,
  settleWithin,
  type HttpServerHalf,
} from '@switchyard/http';
import { closeSafely } from './close-code.ts';
import { coalesceWrites, utf8Once } from './write-batching.ts';

/** Options of {@link webSocketServer}. */
export interface WebSocketServerOptions {
  /**
   * Transport frame limit; a larger frame closes the socket with 1009. It also bounds what an
   * unfinished fragmented message can pin per connection. @default 256 KiB (4 × the hub limit)
   */
  readonly maxPayload?: number;
  /** Allowed `Origin` values, or a predicate. Requests without `Origin` (non-browsers) pass. @default all */
  readonly allowedOrigins?: OriginPolicy;
  /** Ping interval; a socket that missed the previous pong is terminated. @default 30000 */
  readonly pingIntervalMs?: number;
}

/** The WebSocket server half. */
export interface WebSocketServerHalf extends HttpServerHalf {
  readonly transport: 'ws';
}

const PIPE = Symbol('switchyard.pipe');
type TaggedSocket = WebSocket & { [PIPE]: PipeHandle };

// Shared listeners (`this` is the socket): no closures per connection.
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const handle = (this as TaggedSocket)[PIPE];
  if (isBinary) handle.unreadable('binary frames');
  else handle.receive(data.toString());
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as TaggedSocket)[PIPE].closed({ code, reason: reason.toString() });
}

const TEXT_FRAME = { binary: false } as const;
/** How long a server-initiated close waits for the peer's close frame. */
const CLOSE_HANDSHAKE_MS = 1000;

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
    // a peer that does not answer the close frame (a slow reader: the frame waits behind its
    // unread backlog) would hold the socket for ws's 30 s close timeout
    const deadline = setTimeout(() => this.ws.terminate(), CLOSE_HANDSHAKE_MS);
    deadline.unref();
    this.ws.once('close', () => clearTimeout(deadline));
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  isAlive(timeoutMs: number): Promise<boolean> {
    return probe(this.ws, timeoutMs);
  }
}

/** Sends a ping; alive when the pong comes back in time (probeWithin decides). */
function probe(ws: WebSocket, timeoutMs: number): Promise<boolean> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve(false);
  return probeWithin(timeoutMs, (settle) => {
    const onPong = () => settle(true);
    ws.on('pong', onPong);
    ws.ping();
    return () => ws.off('pong', onPong);
  });
}

/** The WebSocket transport's server half; mount it with `serveTransports`. */
export function webSocketServer(options: WebSocketServerOptions = {}): WebSocketServerHalf {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload ?? 256 * 1024,
    perMessageDeflate: false,
    // a token offered as `bearer.<token>` (browsers cannot set headers) must never be echoed
    handleProtocols: (offered) =>
      offered.has(SWITCHYARD_SUBPROTOCOL)
        ? SWITCHYARD_SUBPROTOCOL
        : ([...offered].find((protocol) => !protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX)) ??
          false),
  });
  const answered = new WeakSet<WebSocket>();
  let accept: Accept | undefined;
  let log: Logger = silentLogger;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  function onPong(this: WebSocket): void {
    answered.add(this);
  }
  function onError(this: WebSocket, error: Error): void {
    log('debug', 'websocket protocol error', { error: error.message });
  }

  function wire(ws: WebSocket, socket: Duplex, context: ConnectionContext): void {
    answered.add(ws);
    const handle = definePipe('ws', new SocketOps(ws, socket));
    (ws as TaggedSocket)[PIPE] = handle;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onError);
    ws.on('close', onClose);
    accept!(handle.pipe, context);
  }

  return {
    transport: 'ws',
    paths: [],
    fallbackUpgrades: true,
    start(host) {
      accept = host.accept;
      log = host.log;
      heartbeat = setInterval(() => {
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
    },
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      if (closed || !accept) return refuseUpgrade(socket, 503, 'server shutting down');
      if (!originAllowed(request.headers.origin, options.allowedOrigins))
        return refuseUpgrade(socket, 403, 'Forbidden origin');
      socket.on('error', () => socket.destroy());
      // read what the hub needs now: a closure over `request` would keep it alive per socket
      const token =
        bearerSubprotocolToken(request.headers['sec-websocket-protocol']) ?? queryToken(request);
      const context = requestContext('ws', request, token);
      wss.handleUpgrade(request, socket, head, (ws) => wire(ws, socket, context));
    },
    get connections() {
      return wss.clients.size;
    },
    describe: () => 'WebSocket on every path no other transport claims',
    async close(code = CloseCode.goingAway) {
      closed = true;
      clearInterval(heartbeat);
      const closing = [...wss.clients].map((ws) => {
        const gone = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        closeSafely(ws, code, 'server shutting down');
        return settleWithin(gone, 2000).then(() => ws.terminate());
      });
      await Promise.all(closing);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

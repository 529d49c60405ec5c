/**
 * Composes server halves on one Node HTTP server: each request and upgrade goes to the half
 * that claims its path, upgrades on unclaimed paths to the fallback half (WebSocket), and
 * everything else is answered and, for upgrades, destroyed, so no socket is left hanging.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCode, debugLogger, type Accept, type Logger } from '@switchyard/protocol';
import { settleWithin } from './deadline.ts';
import { refuseUpgrade } from './refuse.ts';
import { replyText as plain } from './reply.ts';
import { pathMatches, pathOf, type HttpServerHalf } from './server-half.ts';

/** Options of {@link serveTransports}. */
export interface ServeOptions {
  /** Requests no half claims: the app's own routes. @default 404 */
  readonly fallback?: (request: IncomingMessage, response: ServerResponse) => void;
  /** The logger each half gets. @default debug namespace `switchyard:<transport>` */
  readonly log?: (transport: string) => Logger;
  /** How long each half may take to close. @default 5000 */
  readonly closeTimeoutMs?: number;
  /**
   * A connection that has not sent its first request's headers after this long is destroyed
   * (Node enforces `headersTimeout` only once a request has started; a silent socket would be
   * held forever). 0 disables. @default 10000
   */
  readonly headersTimeoutMs?: number;
  /**
   * Sets the server's `requestTimeout`: a request body (an SSE POST) must arrive within this
   * long, else 408. Node checks every `connectionsCheckingInterval` (create the server with a
   * short one, as the switchyard app does). @default 15000
   */
  readonly requestTimeoutMs?: number;
}

/** The halves being served. */
export interface ServedTransports {
  readonly halves: readonly HttpServerHalf[];
  /** Open connections over every half. */
  readonly connections: number;
  /** Closes every half with `code` (default 1001) and detaches from the HTTP server. */
  close(code?: number): Promise<void>;
}

/** Checks that the halves can share one server: unique names, disjoint paths, one fallback. */
export function checkHalves(halves: readonly HttpServerHalf[]): void {
  const names = new Set<string>();
  const claimed: [path: string, transport: string][] = [];
  for (const half of halves) {
    if (names.has(half.transport)) throw new TypeError(`two halves serve ${half.transport}`);
    names.add(half.transport);
    for (const path of half.paths) {
      if (!path.startsWith('/')) throw new TypeError(`${half.transport}: "${path}" is not a path`);
      const clash = claimed.find(([other]) => pathMatches(other, path) || pathMatches(path, other));
      if (clash) throw new TypeError(`${half.transport} and ${clash[1]} both claim ${path}`);
      claimed.push([path, half.transport]);
    }
  }
  if (halves.filter((half) => half.fallbackUpgrades).length > 1)
    throw new TypeError('only one half may take upgrades on unclaimed paths');
}

/** Starts `halves` on `http` and routes its requests and upgrades to them. */
export async function serveTransports(
  http: Server,
  accept: Accept,
  halves: readonly HttpServerHalf[],
  options: ServeOptions = {},
): Promise<ServedTransports> {
  checkHalves(halves);
  const logFor = options.log ?? ((transport) => debugLogger(`switchyard:${transport}`));
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000;
  const started: HttpServerHalf[] = [];
  const closeAll = (code: number) =>
    Promise.all(started.map((half) => settleWithin(half.close(code), closeTimeoutMs)));
  try {
    for (const half of halves) {
      await half.start({ http, accept, log: logFor(half.transport) });
      started.push(half);
    }
  } catch (error) {
    await closeAll(CloseCode.goingAway);
    throw error;
  }

  const claimant = (path: string) =>
    halves.find((half) => half.paths.some((prefix) => pathMatches(prefix, path)));
  const fallbackHalf = halves.find((half) => half.fallbackUpgrades && half.handleUpgrade);

  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const half = claimant(pathOf(request.url));
    try {
      if (half?.handleRequest) half.handleRequest(request, response);
      else if (half) plain(response, 426, `${half.transport} at this path takes upgrades only`);
      else if (options.fallback) options.fallback(request, response);
      else plain(response, 404, `not found: ${request.method ?? 'GET'} ${pathOf(request.url)}`);
    } catch (error) {
      logFor(half?.transport ?? 'http')('warn', 'request handler threw', { error: String(error) });
      if (!response.headersSent) plain(response, 500, 'internal error');
      else response.destroy();
    }
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(request.url);
    const half = claimant(path) ?? fallbackHalf;
    try {
      if (half?.handleUpgrade) half.handleUpgrade(request, socket, head);
      else if (half) refuseUpgrade(socket, 400, `${half.transport} at ${path} does not upgrade`);
      else refuseUpgrade(socket, 404, `no transport takes upgrades at ${path}`);
    } catch (error) {
      logFor(half?.transport ?? 'http')('warn', 'upgrade handler threw', { error: String(error) });
      socket.destroy();
    }
  };

  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const firstRequest = new WeakMap<Duplex, ReturnType<typeof setTimeout>>();
  const arrived = (socket: Duplex) => {
    clearTimeout(firstRequest.get(socket));
    firstRequest.delete(socket);
  };
  const onConnection = (socket: Socket) => {
    if (headersTimeoutMs <= 0) return;
    const timer = setTimeout(() => socket.destroy(), headersTimeoutMs);
    timer.unref();
    firstRequest.set(socket, timer);
    socket.once('close', () => arrived(socket));
  };
  const onRequestStart = (request: IncomingMessage) => arrived(request.socket);
  http.requestTimeout = options.requestTimeoutMs ?? 15_000;

  http.on('connection', onConnection);
  http.prependListener('request', onRequestStart);
  http.prependListener('upgrade', onRequestStart);
  http.on('request', onRequest);
  http.on('upgrade', onUpgrade);
  let closing: Promise<void> | undefined;
  return {
    halves,
    get connections() {
      return halves.reduce((sum, half) => sum + half.connections, 0);
    },
    close(code = CloseCode.goingAway) {
      closing ??= (async () => {
        http.off('connection', onConnection);
        http.off('request', onRequestStart);
        http.off('upgrade', onRequestStart);
        http.off('request', onRequest);
        http.off('upgrade', onUpgrade);
        await closeAll(code);
      })();
      return closing;
    },
  };
}

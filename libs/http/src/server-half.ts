/**
 * The server-half contract: what every transport's server side on a Node HTTP server is. The app
 * composes halves in one loop (`serveTransports`), so adding a transport, a demo page or a status
 * page is one entry in a list (docs/architecture.md, "Server halves").
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Accept, Logger, ServerHalf } from '@switchyard/protocol';

/** What a half is given when it starts. */
export interface ServerHalfHost {
  /** The shared server; most halves never touch it, the host routes to them. */
  readonly http: Server;
  /** Where pipes go: in practice `hub.accept`. */
  readonly accept: Accept;
  /** A logger for this half, namespaced by its transport. */
  readonly log: Logger;
}

/**
 * A transport's server half on a Node HTTP server. The host calls `handleRequest` and
 * `handleUpgrade` only for requests on the half's `paths`.
 */
export interface HttpServerHalf extends ServerHalf {
  /**
   * Paths it serves: a path matches itself and everything below it (`/sse` takes `/sse` and
   * `/sse/<session>`). No two halves may claim overlapping paths.
   */
  readonly paths: readonly string[];
  /**
   * Takes upgrades on every path no half claims: the WebSocket transport, because original
   * clients connect on `/`, `/primus` or any path. At most one half may.
   */
  readonly fallbackUpgrades?: boolean;
  /** Starts serving (listening on a port of its own, connecting to a broker…). */
  start(host: ServerHalfHost): void | Promise<void>;
  handleRequest?(request: IncomingMessage, response: ServerResponse): void;
  handleUpgrade?(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** One line for the start-up log and the index page: what runs and where. */
  describe(): string;
}

/** Whether `path` (without its query) falls under the claimed `prefix`. */
export function pathMatches(prefix: string, path: string): boolean {
  if (path === prefix) return true;
  return path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

/** The path of a request URL, without its query. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

/**
 * Client half of the WebSocket transport: the native `WebSocket` where the runtime has one
 * (browsers, Node ≥ 22), else `ws`. URLs map like messenger-ws: `http:` → `ws:`, `https:` → `wss:`.
 */
import {
  BEARER_SUBPROTOCOL_PREFIX,
  ConnectRefusedError,
  definePipe,
  openWithin,
  resolveToken,
  SWITCHYARD_SUBPROTOCOL,
  type Connector,
  type Pipe,
  type TokenSource,
} from '@switchyard/protocol';
import { loadWebSocket } from '#node-websocket';
import { closeSafely } from './close-code.ts';

/** The WHATWG WebSocket surface the client half uses. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
}

/** A WebSocket constructor (the global one, or `ws`). */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

/** Options of {@link webSocketConnector}. */
export interface WebSocketConnectorOptions {
  /**
   * A credential (docs/protocol.md §4.7): a string, or a function called before every
   * (re)connect so that each attempt carries a fresh token.
   */
  readonly token?: TokenSource;
  /**
   * Where the token goes: `protocol` offers the subprotocols `switchyard` and `bearer.<token>`
   * (kept out of URLs and access logs), `query` adds `?token=`. @default 'protocol'
   */
  readonly tokenIn?: 'protocol' | 'query';
  /** The WebSocket implementation. @default globalThis.WebSocket, else `ws` */
  readonly WebSocket?: WebSocketConstructor;
  /** Give up opening one endpoint after this long. @default 10000 */
  readonly openTimeoutMs?: number;
  /**
   * Paths tried in order, appended to the URL like messenger-ws does (`['/', '/primus']` for
   * servers of either generation). @default the URL as given
   */
  readonly endpoints?: readonly string[];
}

/** Maps `http(s)://` to `ws(s)://` and adds the token; other URLs are used as given. */
export function toWebSocketUrl(url: string, token?: string): string {
  const target = new URL(url.replace(/^http(s?):/i, 'ws$1:'));
  if (token !== undefined) target.searchParams.set('token', token);
  return target.toString();
}

function withoutToken(url: string): string {
  if (!url.includes('token=')) return url;
  const target = new URL(url);
  target.searchParams.delete('token');
  return target.toString();
}

async function resolveConstructor(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return given;
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return native ?? loadWebSocket();
}

/** URLs to try: each endpoint appended to the base without doubling the `/`, like messenger-ws. */
export function endpointUrls(url: string, endpoints?: readonly string[]): string[] {
  if (!endpoints || endpoints.length === 0) return [url];
  const base = url.endsWith('/') ? url.slice(0, -1) : url;
  return endpoints.map((endpoint) => base + (endpoint.startsWith('/') ? endpoint : `/${endpoint}`));
}

/** A `Connector` that opens one WebSocket per connection, trying each endpoint in turn. */
export function webSocketConnector(
  url: string,
  options: WebSocketConnectorOptions = {},
): Connector {
  const endpoints = endpointUrls(url, options.endpoints);
  const inQuery = options.tokenIn === 'query';
  return async ({ signal } = {}) => {
    const Ctor = await resolveConstructor(options.WebSocket);
    const token = await resolveToken(options.token);
    const protocols =
      token !== undefined && !inQuery
        ? [SWITCHYARD_SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX + token]
        : undefined;
    const failures: Error[] = [];
    for (const endpoint of endpoints) {
      signal?.throwIfAborted();
      const target = toWebSocketUrl(endpoint, inQuery ? token : undefined);
      try {
        return await open(Ctor, target, protocols, options.openTimeoutMs ?? 10_000, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        failures.push(error as Error);
      }
    }
    // one failure is thrown as it is (a ConnectTimeoutError stays one); several are summed up
    if (failures.length === 1) throw failures[0]!;
    const why = failures.map((failure) => failure.message).join('; ');
    throw new ConnectRefusedError(url, `every endpoint failed (${why})`, { cause: failures });
  };
}

function open(
  Ctor: WebSocketConstructor,
  target: string,
  protocols: string[] | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Pipe> {
  // errors name the URL without its token: messages end up in logs
  const label = withoutToken(target);
  return openWithin<Pipe>({ target: label, timeoutMs, signal }, (attempt) => {
    const socket = protocols ? new Ctor(target, protocols) : new Ctor(target);
    const handle = definePipe('ws', {
      send: (message) => socket.send(message),
      close: (code, reason) => closeSafely(socket, code, reason),
      bufferedAmount: () => socket.bufferedAmount,
    });
    let connected = false;
    socket.addEventListener('open', () => {
      if (attempt.settled) return;
      connected = true;
      attempt.resolve(handle.pipe);
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') handle.receive(event.data);
    });
    socket.addEventListener('error', () =>
      attempt.reject(new ConnectRefusedError(label, 'socket error')),
    );
    socket.addEventListener('close', (event) => {
      if (!connected)
        return attempt.reject(new ConnectRefusedError(label, `closed with ${event.code}`));
      handle.closed({ code: event.code, reason: event.reason });
    });
    return () => closeSafely(socket);
  });
}

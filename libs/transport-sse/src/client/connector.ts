/**
 * Client half of the SSE + POST transport: the native `EventSource` in browsers, the
 * `eventsource` package in Node; `fetch` for POSTs. A dropped stream is resumed by
 * `EventSource` itself (it resends the last event id as `Last-Event-ID`), so the pipe survives
 * network blips inside the server's resume window without losing or repeating a message.
 */
import {
  CloseCode,
  ConnectRefusedError,
  definePipe,
  openWithin,
  resolveToken,
  UnauthorizedError,
  type Connector,
  type OpenAttempt,
  type Pipe,
  type TokenSource,
} from '@switchyard/protocol';
import {
  HEARTBEAT_ACK,
  HEARTBEAT_QUERY,
  parseEventId,
  SseEvent,
  type CloseNotice,
  type SessionInfo,
} from '../shared/wire.ts';
import { loadEventSource } from '#node-eventsource';
import { Outbox, type FetchFunction } from './outbox.ts';

export type { FetchFunction } from './outbox.ts';

/** The WHATWG `EventSource` surface the client half uses. */
export interface EventSourceLike {
  readonly readyState: number;
  close(): void;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
}

/** An `EventSource` constructor (the global one, or the `eventsource` package's). */
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean; fetch?: FetchFunction },
) => EventSourceLike;

/** Options of {@link sseConnector}. */
export interface SseConnectorOptions {
  /**
   * A credential sent as the `token` query parameter of the stream (docs/protocol.md §4.7): a
   * string, or a function called before every (re)connect. A cookie works too, with
   * `withCredentials` across origins.
   */
  readonly token?: TokenSource;
  /** Path of the server's SSE endpoint, appended to the URL. @default '/sse' */
  readonly path?: string;
  /** Send cookies cross-origin (the server must list the page's origin). @default false */
  readonly withCredentials?: boolean;
  /** The EventSource implementation. @default globalThis.EventSource, else the `eventsource` package */
  readonly EventSource?: EventSourceConstructor;
  /** `fetch` for POSTs (and for the stream, with the `eventsource` package). @default globalThis.fetch */
  readonly fetch?: FetchFunction;
  /** Give up opening the stream after this long. @default 10000 */
  readonly openTimeoutMs?: number;
  /**
   * How long a dropped stream (or a failing POST) may take to recover before the pipe closes.
   * @default the server's resume window + 1000
   */
  readonly resumeTimeoutMs?: number;
  /** Acknowledge after this many received events when there is nothing to send. @default 16 */
  readonly ackEvery?: number;
}

const CLOSED = 2; // EventSource.CLOSED
/** How long a closed stream waits before the pipe closes: long enough for a `pagehide` /leave. */
const REFUSED_SETTLE_MS = 250;

/** `<url>/<path>` without doubling the `/`, plus the token. */
export function streamUrl(url: string, path = '/sse', token?: string): string {
  const target = new URL(url);
  target.pathname = target.pathname.replace(/\/$/, '') + (path.startsWith('/') ? path : `/${path}`);
  if (token !== undefined) target.searchParams.set('token', token);
  return target.toString();
}

async function resolveEventSource(given?: EventSourceConstructor): Promise<EventSourceConstructor> {
  if (given) return given;
  const native = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  return native ?? loadEventSource();
}

/** A `Connector` that opens one SSE session per connection. */
export function sseConnector(url: string, options: SseConnectorOptions = {}): Connector {
  // errors name the stream without its token: messages end up in logs
  const label = streamUrl(url, options.path);
  return async ({ signal } = {}) => {
    signal?.throwIfAborted();
    const Ctor = await resolveEventSource(options.EventSource);
    const target = new URL(streamUrl(url, options.path, await resolveToken(options.token)));
    // acknowledged heartbeats: the server can tell this client from a silent one
    target.searchParams.set(HEARTBEAT_QUERY, HEARTBEAT_ACK);
    const stream = target.toString();
    return openWithin<Pipe>(
      { target: label, timeoutMs: options.openTimeoutMs ?? 10_000, signal },
      (attempt) => open(Ctor, stream, label, options, attempt),
    );
  };
}

function open(
  Ctor: EventSourceConstructor,
  stream: string,
  label: string,
  options: SseConnectorOptions,
  attempt: OpenAttempt<Pipe>,
): () => void {
  const source = new Ctor(stream, {
    withCredentials: options.withCredentials ?? false,
    ...(options.fetch && { fetch: options.fetch }),
  });
  source.addEventListener(SseEvent.session, (event) => {
    if (attempt.settled) return;
    let info: SessionInfo;
    try {
      info = JSON.parse(String(event.data)) as SessionInfo;
    } catch {
      return attempt.reject(new ConnectRefusedError(label, 'the session event is not JSON'));
    }
    attempt.resolve(wire(source, stream, info, options));
  });
  source.addEventListener('error', (event) => {
    if (attempt.settled) return;
    const detail = event as unknown as { code?: number; message?: string };
    // a 401 is final: the same credentials would only be refused again (§4.7)
    if (detail.code === 401)
      return attempt.reject(new UnauthorizedError('the server refused the stream (HTTP 401)'));
    const why = detail.code ? `HTTP ${detail.code}` : (detail.message ?? 'stream error');
    attempt.reject(new ConnectRefusedError(label, why));
  });
  return () => source.close();
}

/** Wires an open session's stream and outbox to a pipe. */
function wire(
  source: EventSourceLike,
  stream: string,
  info: SessionInfo,
  options: SseConnectorOptions,
): Pipe {
  const resumeTimeoutMs = options.resumeTimeoutMs ?? info.resumeWindowMs + 1000;
  const postUrl = new URL(stream);
  postUrl.search = '';
  postUrl.pathname += `/${encodeURIComponent(info.session)}`;
  let resumeTimer: ReturnType<typeof setTimeout> | undefined;

  const fetchFn: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const credentials: RequestCredentials = options.withCredentials ? 'include' : 'same-origin';
  const outbox = new Outbox(postUrl.toString(), {
    fetch: fetchFn,
    credentials,
    retryForMs: resumeTimeoutMs,
    ackEvery: options.ackEvery ?? 16,
    onFatal: (reason) => finish({ code: CloseCode.abnormal, reason }),
  });
  const stopStream = () => {
    source.close();
    clearTimeout(resumeTimer);
  };
  const handle = definePipe('sse', {
    send: (message) => outbox.push(message),
    close: (code, reason) => {
      // Drop the stream, post what is queued (typically a /leave), then end the session at once
      // with DELETE, so the room does not wait for the resume window to notice the close.
      stopStream();
      outbox.end(() => {
        void fetchFn(postUrl.toString(), { method: 'DELETE', credentials, keepalive: true })
          .then((response) => response.text())
          .catch(() => undefined); // unreachable server: the resume window ends the session
      });
      handle.closed({
        ...(code !== undefined && { code }),
        ...(reason !== undefined && { reason }),
      });
    },
    bufferedAmount: () => outbox.bufferedAmount,
  });
  const finish = (notice: CloseNotice) => {
    stopStream();
    outbox.stop();
    handle.closed(notice);
  };

  const deliver = (event: MessageEvent, message: string) => {
    handle.receive(message);
    const seq = parseEventId(event.lastEventId)?.seq;
    if (seq !== undefined) outbox.received(seq);
  };
  source.addEventListener('message', (event) => deliver(event, String(event.data)));
  source.addEventListener(SseEvent.ping, (event) => {
    const seq = parseEventId(event.lastEventId)?.seq;
    if (seq !== undefined) outbox.acknowledge(seq);
  });
  source.addEventListener(SseEvent.json, (event) => {
    let message: unknown;
    try {
      message = JSON.parse(String(event.data));
    } catch {
      return; // not ours to guess at
    }
    if (typeof message === 'string') deliver(event, message);
  });
  source.addEventListener(SseEvent.close, (event) => {
    try {
      finish(JSON.parse(String(event.data)) as CloseNotice);
    } catch {
      finish({ code: CloseCode.abnormal, reason: 'the server closed the session' });
    }
  });
  source.addEventListener('open', () => {
    clearTimeout(resumeTimer);
    resumeTimer = undefined;
  });
  source.addEventListener('error', () => {
    // CLOSED: the resume was refused (the session expired), or the page is going away: Chromium
    // closes a page's EventSource just before `pagehide`, and finishing at once would close the
    // pipe before the signaller's /leave is posted. A refusal is as final a moment later.
    if (source.readyState === CLOSED) {
      clearTimeout(resumeTimer);
      resumeTimer = setTimeout(
        () => finish({ code: CloseCode.abnormal, reason: 'the stream was refused' }),
        REFUSED_SETTLE_MS,
      );
    } else
      resumeTimer ??= setTimeout(
        () => finish({ code: CloseCode.abnormal, reason: 'the stream did not come back' }),
        resumeTimeoutMs,
      );
  });
  return handle.pipe;
}

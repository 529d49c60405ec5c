/**
 * Server half of the SSE + POST transport, for networks that block WebSockets. The HTTP host
 * hands it every request under `<path>`:
 *
 * - `GET <path>` opens a `text/event-stream`; `Last-Event-ID: <session>.<seq>` resumes a session;
 * - `POST <path>/<session>[?ack=<seq>&seq=<n>]` with a `text/plain` body sends one message;
 * - `DELETE <path>/<session>` ends the session; `OPTIONS` answers CORS preflights.
 *
 * The wire format is documented in docs/transports/sse.md.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CloseCode,
  definePipe,
  errorMessage,
  LIMITS,
  silentLogger,
  verifyToken,
  type Accept,
  type ConnectionContext,
  type Logger,
  type TokenAuthority,
  type TokenVerdict,
  type OriginPolicy,
} from '@switchyard/protocol';
import {
  cookieValue,
  pathOf,
  replyText as reply,
  requestContext,
  type HttpServerHalf,
} from '@switchyard/http';
import {
  HEARTBEAT_ACK,
  HEARTBEAT_QUERY,
  parseEventId,
  parseSequence,
  sessionEvent,
} from '../shared/wire.ts';
import { answerPreflight, corsHeaders } from './cors.ts';
import { readBody } from './read-body.ts';
import { SseSession, type SessionHost } from './session.ts';

/** Options of {@link sseServer}. */
export interface SseServerOptions {
  /** Path of the stream; sessions live below it. @default '/sse' */
  readonly path?: string;
  /**
   * Allowed `Origin` values, or a predicate; a listed origin may send cookies. Requests without
   * `Origin` (non-browsers) pass. @default every origin, without credentials
   */
  readonly allowedOrigins?: OriginPolicy;
  /** Cookie read as the credential token when the stream URL has no `token` query. @default 'switchyard_token' */
  readonly cookieName?: string;
  /**
   * Verifies the stream's token (query or cookie) before a session opens: an invalid one gets
   * `401` (docs/protocol.md §4.7). Give it the hub's authority. @default none: the hub decides
   */
  readonly tokens?: TokenAuthority;
  /** Largest POST body in bytes; a larger one gets 413 and `/error frame-too-large`. @default 65536 */
  readonly maxBodyBytes?: number;
  /** Interval of the heartbeat comment on every stream. @default 15000 */
  readonly heartbeatMs?: number;
  /** Reconnection delay the server asks `EventSource` to use (`retry:`). @default 1000 */
  readonly retryMs?: number;
  /**
   * How long a session outlives its dropped stream, waiting for a resume. After it the session
   * closes (1006) and the hub's own `graceMs` starts: the room sees `/leave` after
   * `resumeWindowMs + graceMs` if the client never returns. @default 3000
   */
  readonly resumeWindowMs?: number;
  /** Unacknowledged messages a session may hold; one more closes it (4008). @default 1024 */
  readonly replayLimit?: number;
  /** Unacknowledged bytes a session may hold; more closes it (4008). @default 1 MiB */
  readonly replayMaxBytes?: number;
}

/** The SSE server half. */
export interface SseServerHalf extends HttpServerHalf {
  readonly transport: 'sse';
  /** Open sessions, with or without a stream attached. */
  readonly sessions: number;
}

type Cors = Record<string, string>;

/** What a new stream asked for, kept while its token is verified. */
interface Opening {
  readonly context: ConnectionContext;
  readonly acksHeartbeats: boolean;
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no', // nginx: do not buffer the stream
} as const;

/** The SSE transport's server half; mount it with `serveTransports`. */
export function sseServer(options: SseServerOptions = {}): SseServerHalf {
  const base = options.path ?? '/sse';
  const maxBodyBytes = options.maxBodyBytes ?? LIMITS.maxFrameBytes;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const retryMs = options.retryMs ?? 1000;
  const cookieName = options.cookieName ?? 'switchyard_token';
  const host: SessionHost = {
    sessions: new Map(),
    resumeWindowMs: options.resumeWindowMs ?? 3000,
    replayLimit: options.replayLimit ?? 1024,
    replayMaxBytes: options.replayMaxBytes ?? 1024 * 1024,
  };
  const sessions = host.sessions;
  let accept: Accept | undefined;
  let log: Logger = silentLogger;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  function startStream(request: IncomingMessage, response: ServerResponse, cors: Cors): void {
    response.writeHead(200, { ...STREAM_HEADERS, ...cors });
    response.flushHeaders();
    request.socket.setNoDelay(true);
    request.socket.setKeepAlive(true, heartbeatMs);
  }

  function openStream(
    request: IncomingMessage,
    response: ServerResponse,
    cors: Cors,
    query: URLSearchParams,
  ): void {
    const lastEventId = request.headers['last-event-id'];
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      const last = parseEventId(lastEventId);
      const session = last && sessions.get(last.session);
      if (!last || !session)
        return reply(
          response,
          404,
          'unknown or expired session: reconnect without Last-Event-ID',
          cors,
        );
      startStream(request, response, cors);
      return session.attach(response, last.seq);
    }
    // the token comes from the `token` query, else from the cookie
    const token = query.get('token') ?? cookieValue(request.headers.cookie, cookieName);
    const opening: Opening = {
      context: requestContext('sse', request, token),
      acksHeartbeats: query.get(HEARTBEAT_QUERY) === HEARTBEAT_ACK,
    };
    const verdict =
      token !== undefined && options.tokens ? verifyToken(options.tokens, token) : undefined;
    if (!(verdict instanceof Promise))
      return startSession(request, response, cors, opening, verdict);
    void verdict.then((settled) => startSession(request, response, cors, opening, settled));
  }

  function startSession(
    request: IncomingMessage,
    response: ServerResponse,
    cors: Cors,
    { context, acksHeartbeats }: Opening,
    verdict: TokenVerdict | undefined,
  ): void {
    if (verdict && !verdict.ok)
      return reply(response, 401, `unauthorized: ${verdict.reason}`, {
        ...cors,
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    if (closed || response.destroyed) return;
    const id = randomBytes(18).toString('base64url'); // 144 random bits
    const session = new SseSession(id, host, acksHeartbeats);
    session.handle = definePipe('sse', session);
    sessions.set(id, session);
    startStream(request, response, cors);
    const { resumeWindowMs } = host;
    const info = {
      session: id,
      resumeWindowMs,
      heartbeatMs,
      ...(acksHeartbeats && { heartbeatAck: true }),
    };
    response.write(sessionEvent(info, retryMs));
    session.attach(response, 0);
    accept!(session.handle.pipe, context);
  }

  async function post(
    request: IncomingMessage,
    response: ServerResponse,
    session: SseSession,
    cors: Cors,
    query: URLSearchParams,
  ): Promise<void> {
    const type = request.headers['content-type'];
    if (type !== undefined && !/^text\/plain\s*(;|$)/i.test(type))
      return reply(response, 415, 'send one message as a text/plain body', cors);
    const ackText = query.get('ack');
    const seqText = query.get('seq');
    const ack = parseSequence(ackText);
    const seq = parseSequence(seqText);
    if ((ackText !== null && ack === undefined) || (seqText !== null && seq === undefined))
      return reply(response, 400, 'ack and seq must be non-negative integers', cors);
    if (ack !== undefined) session.ack(ack);
    const body = await readBody(request, maxBodyBytes, maxBodyBytes * 16);
    if (body.kind === 'aborted') return;
    if (session.state === 'closed') return reply(response, 404, 'session closed', cors);
    if (body.kind === 'too-large') {
      // The hub never sees this body (it is not buffered past the cap), so the in-band answer
      // is sent here. It is what the hub's own size check would say, and that check runs before
      // the hub's rate limit too; an abuser pays a whole oversized upload per answer, and the
      // answers are bounded by the replay buffer (4008) like everything else on the stream.
      if (session.admit(seq))
        session.send(
          errorMessage('frame-too-large', `messages are limited to ${maxBodyBytes} bytes`, {
            limit: maxBodyBytes,
          }),
        );
      return reply(response, 413, `a message is limited to ${maxBodyBytes} bytes`, {
        ...cors,
        ...(!body.drained && { connection: 'close' }),
      });
    }
    if (body.kind === 'not-utf8') {
      // the hub answers /error malformed, inside its rate limit
      if (session.admit(seq)) session.handle.unreadable('bodies that are not UTF-8 text');
      return reply(response, 400, 'the body is not UTF-8 text', cors);
    }
    // an empty body carries only the ack; a retried duplicate is acknowledged, not delivered
    if (body.text !== '' && session.admit(seq)) session.handle.receive(body.text);
    response.writeHead(204, cors);
    response.end();
  }

  /** `<path>`: GET opens or resumes a stream. */
  function serveStream(
    request: IncomingMessage,
    response: ServerResponse,
    cors: Cors,
    query: string,
  ): void {
    const method = request.method ?? 'GET';
    if (method === 'GET') return openStream(request, response, cors, new URLSearchParams(query));
    if (method === 'OPTIONS') return answerPreflight(response, cors, 'GET, OPTIONS');
    reply(response, 405, `${method} not allowed: GET opens a stream`, {
      ...cors,
      allow: 'GET, OPTIONS',
    });
  }

  /** `<path>/<session>`: POST sends, DELETE ends. */
  function serveSession(
    request: IncomingMessage,
    response: ServerResponse,
    cors: Cors,
    id: string,
    query: string,
  ): void {
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS') return answerPreflight(response, cors, 'POST, DELETE, OPTIONS');
    if (method !== 'POST' && method !== 'DELETE')
      return reply(response, 405, `${method} not allowed: POST sends, DELETE ends the session`, {
        ...cors,
        allow: 'POST, DELETE, OPTIONS',
      });
    const session = sessions.get(id);
    if (!session || session.state === 'closed')
      return reply(response, 404, 'unknown or expired session', cors);
    if (method === 'DELETE') {
      session.end({ code: CloseCode.normal, reason: 'the client ended the session' }, false);
      response.writeHead(204, cors).end();
      return;
    }
    post(request, response, session, cors, new URLSearchParams(query)).catch((error: unknown) => {
      log('warn', 'POST handler failed', { error: String(error) });
      if (!response.headersSent) reply(response, 500, 'internal error', cors);
      else response.destroy();
    });
  }

  return {
    transport: 'sse',
    paths: [base],
    start(host) {
      accept = host.accept;
      log = host.log;
      heartbeat = setInterval(() => {
        for (const session of sessions.values()) session.heartbeat();
      }, heartbeatMs);
      heartbeat.unref();
    },
    handleRequest(request, response) {
      const url = request.url ?? '/';
      const path = pathOf(url);
      const q = url.indexOf('?');
      const query = q === -1 ? '' : url.slice(q + 1);
      const cors = corsHeaders(request, options.allowedOrigins);
      if (!cors) reply(response, 403, 'forbidden origin');
      else if (closed || !accept) reply(response, 503, 'server shutting down', cors);
      else if (path === base) serveStream(request, response, cors, query);
      else serveSession(request, response, cors, path.slice(base.length + 1), query);
    },
    get connections() {
      return sessions.size;
    },
    get sessions() {
      return sessions.size;
    },
    describe: () => `SSE at GET ${base} + POST ${base}/<session>`,
    async close(code = CloseCode.goingAway) {
      closed = true;
      clearInterval(heartbeat);
      for (const session of [...sessions.values()])
        if (session.state !== 'closed') session.handle.pipe.close(code, 'server shutting down');
      for (const session of [...sessions.values()]) session.discard();
    },
  };
}

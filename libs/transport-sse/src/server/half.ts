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
  /**
   * One server of many (docs/cluster.md, "SSE"): session ids name the node that holds the
   * stream, and a POST or DELETE that reaches another node is read there and handed to
   * `relay`, which delivers it to the holder's {@link SseServerHalf.deliver} and returns its
   * answer (`undefined`: the holder did not answer, 503). No sticky sessions needed.
   */
  readonly cluster?: SseCluster;
}

/** How an SSE half reaches the sessions of other nodes. */
export interface SseCluster {
  /** This node's id, unique in the cluster. */
  readonly node: string;
  relay(node: string, session: string, request: SessionRequest): Promise<SessionReply | undefined>;
}

/** A POST or DELETE for a session, as read off the HTTP request: what the session acts on. */
export interface SessionRequest {
  readonly method: 'POST' | 'DELETE';
  /** `?ack=`: the last message the client has read. */
  readonly ack?: number;
  /** `?seq=`: the POST's number, so a retried one is delivered once. */
  readonly seq?: number;
  /** The body of a POST, or why it was refused. */
  readonly body?: SessionBody;
}

/** A POST body: its text, or why it was refused before the hub could see it. */
export type SessionBody =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'not-utf8' };

/** The HTTP answer to a {@link SessionRequest}. */
export interface SessionReply {
  readonly status: 204 | 400 | 404 | 413;
  readonly text?: string;
}

/** The SSE server half. */
export interface SseServerHalf extends HttpServerHalf {
  readonly transport: 'sse';
  /** Open sessions, with or without a stream attached. */
  readonly sessions: number;
  /** Acts on a request for a session held here that reached another node (`cluster.relay`). */
  deliver(session: string, request: SessionRequest): SessionReply;
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
  const cluster = options.cluster;
  const nodePrefix = cluster ? `${Buffer.from(cluster.node).toString('base64url')}.` : '';
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
    // 144 random bits, after the holding node's name in a cluster
    const id = `${nodePrefix}${randomBytes(18).toString('base64url')}`;
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

  /** Reads a POST or DELETE off the wire; a string is why it is refused (400, 415). */
  async function readRequest(
    request: IncomingMessage,
    method: 'POST' | 'DELETE',
    query: URLSearchParams,
  ): Promise<
    | { readonly request: SessionRequest; readonly drained: boolean }
    | { readonly refused: number; readonly text: string }
    | undefined
  > {
    if (method === 'DELETE') return { request: { method }, drained: true };
    const type = request.headers['content-type'];
    if (type !== undefined && !/^text\/plain\s*(;|$)/i.test(type))
      return { refused: 415, text: 'send one message as a text/plain body' };
    const ackText = query.get('ack');
    const seqText = query.get('seq');
    const ack = parseSequence(ackText);
    const seq = parseSequence(seqText);
    if ((ackText !== null && ack === undefined) || (seqText !== null && seq === undefined))
      return { refused: 400, text: 'ack and seq must be non-negative integers' };
    const read = await readBody(request, maxBodyBytes, maxBodyBytes * 16);
    if (read.kind === 'aborted') return undefined;
    const body: SessionBody = read.kind === 'text' ? read : { kind: read.kind };
    return {
      request: {
        method,
        ...(ack !== undefined && { ack }),
        ...(seq !== undefined && { seq }),
        body,
      },
      drained: read.kind !== 'too-large' || read.drained,
    };
  }

  /** What a session held here does with a request, wherever it arrived. */
  function deliver(id: string, request: SessionRequest): SessionReply {
    const session = sessions.get(id);
    if (!session || session.state === 'closed')
      return { status: 404, text: 'unknown or expired session' };
    if (request.method === 'DELETE') {
      session.end({ code: CloseCode.normal, reason: 'the client ended the session' }, false);
      return { status: 204 };
    }
    if (request.ack !== undefined) session.ack(request.ack);
    const body = request.body ?? { kind: 'text', text: '' };
    if (body.kind === 'too-large') {
      // The hub never sees this body (it is not buffered past the cap), so the in-band answer
      // is sent here. It is what the hub's own size check would say, and that check runs before
      // the hub's rate limit too; an abuser pays a whole oversized upload per answer, and the
      // answers are bounded by the replay buffer (4008) like everything else on the stream.
      if (session.admit(request.seq))
        session.send(
          errorMessage('frame-too-large', `messages are limited to ${maxBodyBytes} bytes`, {
            limit: maxBodyBytes,
          }),
        );
      return { status: 413, text: `a message is limited to ${maxBodyBytes} bytes` };
    }
    if (body.kind === 'not-utf8') {
      // the hub answers /error malformed, inside its rate limit
      if (session.admit(request.seq)) session.handle.unreadable('bodies that are not UTF-8 text');
      return { status: 400, text: 'the body is not UTF-8 text' };
    }
    // an empty body carries only the ack; a retried duplicate is acknowledged, not delivered
    if (body.text !== '' && session.admit(request.seq)) session.handle.receive(body.text);
    return { status: 204 };
  }

  /** Reads the request, acts on it here or at the node holding the session, and answers. */
  async function answerSession(
    request: IncomingMessage,
    response: ServerResponse,
    method: 'POST' | 'DELETE',
    id: string,
    owner: string | undefined,
    cors: Cors,
    query: URLSearchParams,
  ): Promise<void> {
    const read = await readRequest(request, method, query);
    if (!read) return;
    if ('refused' in read) return reply(response, read.refused, read.text, cors);
    const answer =
      owner === undefined
        ? deliver(id, read.request)
        : ((await cluster!.relay(owner, id, read.request)) ?? {
            status: 503 as const,
            text: 'the node holding this session did not answer: retry',
          });
    if (response.destroyed) return;
    if (answer.status === 204) return void response.writeHead(204, cors).end();
    reply(response, answer.status, answer.text ?? '', {
      ...cors,
      ...(!read.drained && { connection: 'close' }),
    });
  }

  /** The node holding session `id` when it is another node's (a cluster), else undefined. */
  function ownerOf(id: string): string | undefined {
    if (!cluster || sessions.has(id)) return undefined;
    const dot = id.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const node = Buffer.from(id.slice(0, dot), 'base64url').toString('utf8');
    return node === cluster.node || node === '' ? undefined : node;
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
    const owner = ownerOf(id);
    const session = sessions.get(id);
    // refused before the body is read: a session that is neither here nor another node's
    if (owner === undefined && (!session || session.state === 'closed'))
      return reply(response, 404, 'unknown or expired session', cors);
    const params = new URLSearchParams(query);
    answerSession(request, response, method, id, owner, cors, params).catch((error: unknown) => {
      log('warn', `${method} handler failed`, { error: String(error) });
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
    deliver,
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

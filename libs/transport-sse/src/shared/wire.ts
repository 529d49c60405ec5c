/**
 * The SSE wire format (docs/transports/sse.md), shared by both halves. Pure: no Node imports, so
 * the client half stays browser-safe.
 */

/** Named events on the stream; protocol messages use the default `message` event. */
export const SseEvent = {
  /** First event of a stream: the session id and the server's timings (`SessionInfo`). */
  session: 'session',
  /** A protocol message containing CR or LF, as a JSON string (SSE data cannot carry CR). */
  json: 'json',
  /** The server closed the session (`CloseNotice`); do not reconnect. */
  close: 'close',
  /**
   * A heartbeat the client acknowledges (`?ack=` on an empty POST), sent instead of the comment
   * to sessions opened with `?heartbeat=ack`: a session that leaves two unacknowledged is
   * dropped, and the hub's liveness probe is one of these.
   */
  ping: 'ping',
} as const;

/** The stream query that asks for acknowledged heartbeats (`GET /sse?heartbeat=ack`). */
export const HEARTBEAT_QUERY = 'heartbeat';
export const HEARTBEAT_ACK = 'ack';

/** Data of the `session` event. */
export interface SessionInfo {
  /** The session id: `POST <path>/<session>` sends, `DELETE` ends it. */
  readonly session: string;
  /** How long the session waits for a dropped stream to come back. */
  readonly resumeWindowMs: number;
  /** Interval of the heartbeats. */
  readonly heartbeatMs: number;
  /** True when the server sends `ping` events and expects them acknowledged. */
  readonly heartbeatAck?: boolean;
}

/** Data of the `close` event: WebSocket close codes (docs/protocol.md §4.6). */
export interface CloseNotice {
  readonly code: number;
  readonly reason: string;
}

/** `<session>.<seq>`: the session travels in `Last-Event-ID`, so a plain reconnect resumes. */
export function eventId(session: string, seq: number): string {
  return `${session}.${seq}`;
}

/** Splits an event id; undefined when it is not `<session>.<non-negative integer>`. */
export function parseEventId(id: string): { session: string; seq: number } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const seq = parseSequence(id.slice(dot + 1));
  return seq === undefined ? undefined : { session: id.slice(0, dot), seq };
}

/** A non-negative safe integer written in plain decimal, else undefined. */
export function parseSequence(text: string | null | undefined): number | undefined {
  if (!text || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/** One protocol message as an event; a message with CR or LF travels as a JSON string. */
export function messageEvent(session: string, seq: number, message: string): string {
  const id = eventId(session, seq);
  if (message.indexOf('\n') === -1 && message.indexOf('\r') === -1)
    return `id: ${id}\ndata: ${message}\n\n`;
  return `event: ${SseEvent.json}\nid: ${id}\ndata: ${JSON.stringify(message)}\n\n`;
}

/** The first event of a new stream, with the reconnection delay for `EventSource`. */
export function sessionEvent(info: SessionInfo, retryMs: number): string {
  return `retry: ${retryMs}\nevent: ${SseEvent.session}\nid: ${eventId(info.session, 0)}\ndata: ${JSON.stringify(info)}\n\n`;
}

/** A heartbeat to acknowledge; sequenced like messages, so `?ack=` covers it. */
export function pingEvent(session: string, seq: number): string {
  return `event: ${SseEvent.ping}\nid: ${eventId(session, seq)}\ndata: \n\n`;
}

/** The last event of a closed session. */
export function closeEvent(notice: CloseNotice): string {
  return `event: ${SseEvent.close}\ndata: ${JSON.stringify(notice)}\n\n`;
}

/** A comment line: keeps proxies from timing the stream out; `EventSource` ignores it. */
export const HEARTBEAT = ': heartbeat\n\n';

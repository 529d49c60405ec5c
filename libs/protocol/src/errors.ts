/**
 * The `/error` codes (docs/protocol.md §3) as typed errors. The same code travels on the wire and in
 * `SignallingError.code`, so a client can `switch` on it.
 */

/** Every `/error` code a Switchyard server sends. */
export const ERROR_CODES = [
  'malformed',
  'not-a-command',
  'not-announced',
  'invalid-announce',
  'sender-mismatch',
  'id-taken',
  'unknown-target',
  'frame-too-large',
  'rate-limited',
  'unauthorized',
  'forbidden',
  'room-full',
] as const;

/** One `/error` code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Extra fields of an `/error` payload, e.g. `retryAfterMs` for `rate-limited`. */
export interface ErrorDetails {
  readonly retryAfterMs?: number;
  readonly [key: string]: unknown;
}

/** The payload of an `/error` message. */
export interface ErrorPayload extends ErrorDetails {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A protocol-level error with a stable wire `code`. */
export class SignallingError extends Error {
  override readonly name: string = 'SignallingError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }

  /** The payload to put on the wire. */
  toPayload(): ErrorPayload {
    return { ...this.details, code: this.code, message: this.message };
  }
}

/**
 * The server refused the credentials (docs/protocol.md §4.7): an `/error unauthorized`, close
 * code 4001, an SSE 401 or an MQTT CONNACK "not authorized". Reconnecting with the same token
 * would only repeat it.
 */
export class UnauthorizedError extends SignallingError {
  override readonly name: string = 'UnauthorizedError';
  declare readonly code: 'unauthorized';
  constructor(message: string, details: ErrorDetails = {}) {
    super('unauthorized', message, details);
  }
}

/** The token is valid but does not allow this room or id; the connection stays open (§4.7). */
export class ForbiddenError extends SignallingError {
  override readonly name: string = 'ForbiddenError';
  declare readonly code: 'forbidden';
  constructor(message: string, details: ErrorDetails = {}) {
    super('forbidden', message, details);
  }
}

/** Thrown by `Pipe.send` once the pipe is closed. */
export class PipeClosedError extends Error {
  override readonly name = 'PipeClosedError';
  constructor(message = 'pipe is closed') {
    super(message);
  }
}

/**
 * A connector gave up opening a pipe because it took longer than its `openTimeoutMs`. Named
 * `TimeoutError` like the DOM's, so `error.name === 'TimeoutError'` works for both.
 */
export class ConnectTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    super(`could not open ${target} within ${timeoutMs} ms`);
  }
}

/** A connector could not open a pipe: the server refused, or the network failed. */
export class ConnectRefusedError extends Error {
  override readonly name = 'ConnectRefusedError';
  constructor(
    readonly target: string,
    readonly why: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`could not open ${target}: ${why}`, options);
  }
}

/** Whether a string is one of the known error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Reads a decoded `/error` payload into a `SignallingError`. Unknown codes become `malformed`
 * with the original code kept in `details.receivedCode`.
 */
export function errorFromPayload(payload: unknown): SignallingError {
  if (payload === null || typeof payload !== 'object') {
    return new SignallingError('malformed', `server sent an unreadable /error: ${String(payload)}`);
  }
  const { code, message, ...details } = payload as Record<string, unknown>;
  const text = typeof message === 'string' ? message : 'server error';
  if (code === 'unauthorized') return new UnauthorizedError(text, details);
  if (code === 'forbidden') return new ForbiddenError(text, details);
  return isErrorCode(code)
    ? new SignallingError(code, text, details)
    : new SignallingError('malformed', text, { ...details, receivedCode: code });
}

/**
 * The signaller's own errors, one class per kind with a stable `code`, so listeners `switch` on
 * `error.code` (or use `instanceof`) instead of matching message text. The messages are kept
 * word for word from earlier releases because existing callers still match them.
 */
import type { ErrorCode } from '@switchyard/protocol';

/** The codes of the errors the signaller raises itself (server `/error`s keep their wire codes). */
export type SignallerErrorCode = 'offline-queue-full' | 'reconnect-stopped';

/** The offline queue reached `queueLimit`, so its oldest message was dropped to make room. */
export class OfflineQueueFullError extends Error {
  override readonly name = 'OfflineQueueFullError';
  readonly code = 'offline-queue-full' satisfies SignallerErrorCode;
  constructor(
    /** The `queueLimit` that was reached. */
    readonly limit: number,
    /** The frame that was dropped, exactly as it would have gone on the wire. */
    readonly dropped: string,
  ) {
    super(`offline queue full (${limit}): dropped the oldest message`);
  }
}

/** Why the server refused us in a way that reconnecting would only repeat. */
export interface ReconnectStopCause {
  /** The refusing close code (4001, 4003, 4009), when the close carried one. */
  readonly closeCode?: number;
  /** The reason that came with `closeCode`. */
  readonly reason?: string;
  /** The `/error` code (`id-taken`, `unauthorized`) that came before the close. */
  readonly refusal?: ErrorCode;
}

/**
 * The connection closed after a refusal (close code 4001/4003/4009, or an `id-taken` or
 * `unauthorized` `/error` on a transport without close codes), so the signaller stops
 * reconnecting on its own. A later `send`, `announce` or `connect()` still tries again.
 */
export class ReconnectStoppedError extends Error implements ReconnectStopCause {
  override readonly name = 'ReconnectStoppedError';
  readonly code = 'reconnect-stopped' satisfies SignallerErrorCode;
  readonly closeCode?: number;
  readonly reason?: string;
  readonly refusal?: ErrorCode;
  constructor(cause: ReconnectStopCause) {
    // the close code names the refusal better than the /error when both arrived
    const why =
      cause.closeCode !== undefined
        ? `${cause.closeCode} ${cause.reason ?? ''}`.trim()
        : (cause.refusal ?? 'refused');
    super(`server closed the connection (${why}); not reconnecting`);
    if (cause.closeCode !== undefined) this.closeCode = cause.closeCode;
    if (cause.reason !== undefined) this.reason = cause.reason;
    if (cause.refusal !== undefined) this.refusal = cause.refusal;
  }
}

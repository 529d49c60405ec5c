/**
 * The seam between transports and cores: a `Pipe` is one ordered, bidirectional channel of text
 * messages, one protocol message per transport message (docs/architecture.md, "The seam: Pipe").
 */

/** Why and by whom a pipe closed. */
export interface CloseInfo {
  /** True when this side called `close()`. */
  readonly local: boolean;
  readonly code?: number;
  readonly reason?: string;
  readonly error?: Error;
}

/** One ordered, bidirectional channel of text messages. */
export interface Pipe {
  /** `'ws' | 'socket.io' | 'sse' | 'mqtt' | 'datachannel' | 'memory'`, or a custom name. */
  readonly transport: string;
  /** Sends one message. @throws PipeClosedError once closed. */
  send(message: string): void;
  /** Closes the pipe; idempotent. */
  close(code?: number, reason?: string): void;
  /** Subscribes to inbound messages; returns the unsubscribe function. */
  onMessage(listener: (message: string) => void): () => void;
  /**
   * Subscribes to input the transport received but could not read as one text message (a binary
   * frame, a payload that is not UTF-8, an event of the wrong shape); `what` names it in the
   * plural (`'binary frames'`). The hub answers it like any bad message, inside the rate limit.
   */
  onUnreadable?(listener: (what: string) => void): () => void;
  /** Subscribes to the close, which fires exactly once (immediately if already closed). */
  onClose(listener: (info: CloseInfo) => void): () => void;
  /** Bytes queued for sending, for slow-consumer protection (0 when unknown). */
  readonly bufferedAmount: number;
  /** Liveness probe, where the transport has one: resolves true if the far end answered in time. */
  isAlive?(timeoutMs: number): Promise<boolean>;
}

/** Credentials a transport found on a connection (query `token`, cookie, auth header). */
export interface Credentials {
  readonly token?: string;
  readonly [key: string]: unknown;
}

/** What a server half knows about a connection when it hands the pipe over. */
export interface ConnectionContext {
  readonly transport: string;
  readonly remoteAddress?: string;
  readonly origin?: string;
  readonly credentials?: Credentials;
  /** The connection's key across a cluster, set by the node that linked it (docs/cluster.md). */
  readonly link?: string;
  /**
   * Set by a cluster node that links an already joined member again because its room's home
   * moved: taking over its member (in its grace window) is silent, no `/roominfo`, no relay.
   */
  readonly rejoin?: boolean;
}

/** What a server half hands its pipes to; in practice `hub.accept`. */
export type Accept = (pipe: Pipe, context: ConnectionContext) => void;

/**
 * A transport's server side, whatever it serves from (an HTTP server, data channels, memory):
 * it hands pipes to an `Accept` and can count and close them.
 */
export interface ServerHalf {
  /** The transport name its pipes carry (`'ws'`, `'sse'`, …). */
  readonly transport: string;
  /** Open connections. */
  readonly connections: number;
  /** Stops accepting and closes every connection with `code` (default 1001). */
  close(code?: number): Promise<void>;
}

/** Opens a client pipe; the signaller calls it once per (re)connection. */
export type Connector = (options: { readonly signal?: AbortSignal }) => Promise<Pipe>;

/** Close codes (docs/protocol.md §4.6), WebSocket numbering; other transports map them. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  /** No close frame: the connection was lost (WebSocket reports it, others map to it). */
  abnormal: 1006,
  frameTooLarge: 1009,
  /** The server is going away on purpose (a cluster node draining): reconnect at once. */
  serviceRestart: 1012,
  unauthorized: 4001,
  forbidden: 4003,
  policyViolation: 4008,
  idTaken: 4009,
} as const;

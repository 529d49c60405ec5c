/** The hub's records: one per connection, one per member (an id in a room), one per room. */
import type { ConnectionContext, Dialect, Pipe, TokenGrant } from '@switchyard/protocol';
import type { Frame, SenderStamp } from './frame.ts';
import type { RateLimiter } from './rate-limit.ts';

/** `idle` (connected, not announced) → `member` (announced into one room) → `closed`. */
export type ConnectionState = 'idle' | 'member' | 'closed';

/** One pipe the hub accepted. */
export interface Connection {
  readonly pipe: Pipe;
  readonly context: ConnectionContext;
  state: ConnectionState;
  /** Bound by the first successful announce; never changes afterwards. */
  id?: string;
  /** Fixed by the first successful announce. */
  dialect?: Dialect;
  principal?: string;
  /** What the connection's verified token allows (docs/protocol.md §4.7). */
  grant?: TokenGrant;
  /** Closes the connection when its token expires. */
  expiryTimer?: unknown;
  /** The last per-message token accepted, so repeating it costs a string compare. */
  senderToken?: { readonly token: string; readonly grant: TokenGrant };
  /** Signature checks left for new per-message tokens (credentials.ts). */
  tokenChecks?: { left: number; at: number };
  member?: Member;
  readonly limiter?: RateLimiter;
  lastRateErrorAt: number;
  /** Inbound messages held while an announce is in flight (keeps per-connection FIFO). */
  backlog?: string[];
  /** Set while the connection has no room and must announce (announce-deadline.ts). */
  announceTimer?: unknown;
}

/** An id in a room; it outlives its connection by the grace window. */
export interface Member {
  readonly id: string;
  room: Room;
  /** Undefined while the member is inside its grace window. */
  connection?: Connection;
  /** The transport of its latest connection, for operator events after it is gone. */
  transport: string;
  /** The principal of its latest connection: only the same principal may take it over. */
  principal?: string | undefined;
  /** The cluster key of its latest connection, for the directory (docs/cluster.md). */
  link?: string | undefined;
  readonly stamp: SenderStamp;
  /** Set while the member is inside its grace window. */
  graceTimer?: unknown;
  /** Frames for the member while it is inside its grace window. */
  pending: Frame[];
  /** Their total length in characters, bounded like a live recipient's buffer. */
  pendingChars: number;
}

/** A room exists while it has members. */
export interface Room {
  readonly name: string;
  readonly members: Set<Member>;
}

/** Where a member is before its first join: nothing is ever added to it. */
export const NO_ROOM: Room = { name: '', members: new Set() };

/** Hub configuration, events and statistics types. */
import type { ConnectionContext, ErrorCode } from '@switchyard/protocol';
import type { Clock } from './clock.ts';
import type { RateLimitOptions } from './rate-limit.ts';

/** What the `authenticate` hook sees when a connection announces. */
export interface AuthRequest {
  readonly context: ConnectionContext;
  /** The announce `token` attribute, if any (stripped before relaying). */
  readonly token?: string;
  readonly id: string;
  readonly room: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** The hook's decision: admit (optionally naming the principal) or refuse. */
export type AuthResult =
  | { readonly ok: true; readonly principal?: string }
  | { readonly ok: false; readonly code: 'unauthorized' | 'forbidden'; readonly message?: string };

/** Checks credentials on every announce. May be async. */
export type Authenticate = (request: AuthRequest) => AuthResult | Promise<AuthResult>;

/** Structured logging hook; the hub logs sparingly (debug for routine, warn for abuse). */
export type HubLogger = (
  level: 'debug' | 'info' | 'warn',
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** Hub options. Every limit has a default; `0` for `graceMs` disables the grace window. */
export interface HubOptions {
  /** Hard-disconnect grace window before the room gets `/leave`. @default 3000 */
  readonly graceMs?: number;
  /** Largest accepted message in UTF-8 bytes. @default 65536 */
  readonly maxFrameBytes?: number;
  /** Rate limit per connection, or `false` to disable. @default {perSecond:100,burst:200} */
  readonly rateLimit?: RateLimitOptions | false;
  /** A recipient whose transport buffers more bytes than this is closed (4008). @default 1 MiB */
  readonly highWaterMark?: number;
  /** Messages kept for a member inside its grace window. @default 256 */
  readonly pendingLimit?: number;
  /** Inbound messages held while an announce awaits auth or a liveness probe. @default 64 */
  readonly backlogLimit?: number;
  /** How long a liveness probe of an id's holder may take. @default 1500 */
  readonly livenessTimeoutMs?: number;
  /** Largest room; announcing into a full room gets `room-full`. @default Infinity */
  readonly maxRoomSize?: number;
  /** Extra keys for `/roominfo` (an extension original clients ignore). @default {} */
  readonly roomInfo?: Readonly<Record<string, unknown>>;
  readonly authenticate?: Authenticate;
  readonly clock?: Clock;
  readonly log?: HubLogger;
}

/** Why a peer left its room. */
export type LeaveReason = 'leave' | 'disconnect' | 'moved' | 'replaced' | 'shutdown';

/** A peer as operator events report it. */
export interface PeerEvent {
  readonly id: string;
  readonly room: string;
  readonly transport: string;
}

/** Operator events. */
export type HubEvents = {
  'room:created': (room: string) => void;
  'room:destroyed': (room: string) => void;
  'peer:joined': (peer: PeerEvent) => void;
  'peer:left': (peer: PeerEvent & { readonly reason: LeaveReason }) => void;
  'connection:opened': (context: ConnectionContext) => void;
  'connection:closed': (
    context: ConnectionContext & { readonly id?: string; readonly code?: number },
  ) => void;
};

/** Counters and gauges, cheap to read at any time. */
export interface HubStats {
  readonly connections: number;
  readonly members: number;
  readonly rooms: number;
  /** Members inside their grace window (disconnected, not yet gone). */
  readonly inGrace: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly errorsSent: Readonly<Partial<Record<ErrorCode, number>>>;
  readonly dropped: {
    readonly rateLimited: number;
    /** Messages for a member in its grace window that did not fit its queue. */
    readonly pendingOverflow: number;
    /** Messages still queued for a member when its grace window ended. */
    readonly graceExpired: number;
  };
  readonly closed: {
    readonly abusive: number;
    readonly slowConsumer: number;
    readonly idTaken: number;
  };
}

/**
 * Hub configuration (limits, with their defaults) and the services a hub is given (clock, logger,
 * the auth hook): two parameters of `createHub`, so that configuration stays plain data.
 */
import {
  LIMITS,
  debugLogger,
  systemClock,
  type Clock,
  type ConnectionContext,
  type LeaveReason,
  type Logger,
  type TokenAuthority,
} from '@switchyard/protocol';
import type { RateLimitOptions } from './rate-limit.ts';
import type { IdDirectory } from './directory.ts';

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

/** Hub limits. Every one has a default; `0` for `graceMs` disables the grace window. */
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
  /**
   * Characters (about bytes) kept for a member inside its grace window; past it messages are
   * dropped and counted, as a live recipient past `highWaterMark` is closed. @default 1 MiB
   */
  readonly pendingBytes?: number;
  /** Inbound messages held while an announce awaits auth or a liveness probe. @default 64 */
  readonly backlogLimit?: number;
  /** How long a liveness probe of an id's holder may take. @default 1500 */
  readonly livenessTimeoutMs?: number;
  /**
   * A connection without a room (new, or after its `/leave`) for this long gets
   * `/error not-announced` and is closed with 4008; 0 disables. @default 30000
   */
  readonly announceTimeoutMs?: number;
  /** Largest room; announcing into a full room gets `room-full`. @default Infinity */
  readonly maxRoomSize?: number;
  /** Extra keys for `/roominfo` (an extension original clients ignore). @default {} */
  readonly roomInfo?: Readonly<Record<string, unknown>>;
}

/** What a hub is given rather than configured with. */
export interface HubServices {
  /** Time for grace windows and rate limits. @default systemClock */
  readonly clock?: Clock;
  /** Where the hub logs (debug for routine, warn for abuse). @default debug namespace `switchyard:hub` */
  readonly log?: Logger;
  /** Checks credentials on every announce. @default none: every announce is admitted */
  readonly authenticate?: Authenticate;
  /**
   * Verifies tokens (docs/protocol.md §4.7). Given one, every connection must authenticate: at
   * connect time, or with a `token` in its announce. @default none: no token is required
   */
  readonly tokens?: TokenAuthority;
  /** Ids across a cluster (docs/cluster.md). @default none: this hub's ids are all there are */
  readonly directory?: IdDirectory;
}

/** Options with every default applied. */
export type ResolvedOptions = Required<Omit<HubOptions, 'rateLimit'>> & {
  readonly rateLimit: RateLimitOptions | false;
};

/** Services with every default applied. */
export interface ResolvedServices {
  readonly clock: Clock;
  readonly log: Logger;
  readonly authenticate?: Authenticate;
  readonly tokens?: TokenAuthority;
  readonly directory?: IdDirectory;
}

/** Applies the defaults. */
export function resolveOptions(options: HubOptions): ResolvedOptions {
  return {
    graceMs: options.graceMs ?? 3000,
    maxFrameBytes: options.maxFrameBytes ?? LIMITS.maxFrameBytes,
    rateLimit: options.rateLimit ?? {},
    highWaterMark: options.highWaterMark ?? 1024 * 1024,
    pendingLimit: options.pendingLimit ?? 256,
    pendingBytes: options.pendingBytes ?? 1024 * 1024,
    backlogLimit: options.backlogLimit ?? 64,
    livenessTimeoutMs: options.livenessTimeoutMs ?? 1500,
    maxRoomSize: options.maxRoomSize ?? Infinity,
    announceTimeoutMs: options.announceTimeoutMs ?? 30_000,
    roomInfo: options.roomInfo ?? {},
  };
}

/** Applies the defaults. */
export function resolveServices(services: HubServices): ResolvedServices {
  return {
    clock: services.clock ?? systemClock,
    log: services.log ?? debugLogger('switchyard:hub'),
    ...(services.authenticate && { authenticate: services.authenticate }),
    ...(services.tokens && { tokens: services.tokens }),
    ...(services.directory && { directory: services.directory }),
  };
}

/** Why a peer left its room: the reason its `/leave` carries too. */
export type { LeaveReason };

/** A peer as operator events report it. */
export interface PeerEvent {
  readonly id: string;
  readonly room: string;
  readonly transport: string;
  /** In a cluster, the connection's key (`ConnectionContext.link`). */
  readonly link?: string;
  /** Who the member is, when a token said (docs/protocol.md §4.7). */
  readonly principal?: string;
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

/** Public types of the signaller: options, services, peer records and the typed event map. */
import type {
  Clock,
  ConnectRefusedError,
  ConnectTimeoutError,
  Emitter,
  Logger,
  RoomInfo,
  SignallingError,
  TokenSource,
} from '@switchyard/protocol';
import type { OfflineQueueFullError, ReconnectStoppedError } from './errors.ts';

/**
 * Attributes a peer announces; `id` and `room` are set by the protocol, the rest is free. `id`
 * is always a string here, also when the peer announced a number (rtc-signaller allowed both).
 */
export interface PeerData {
  readonly id: string;
  readonly room?: string;
  readonly browser?: string;
  readonly browserVersion?: string;
  readonly agent?: string;
  readonly [key: string]: unknown;
}

/** What the signaller remembers of a peer (rtc-signaller's peer record). */
export interface PeerRecord {
  readonly id: string;
  /** 0 when the peer's id sorts first, 1 otherwise (`[peer, me].sort().indexOf(peer)`). */
  readonly roleIdx: number;
  data: PeerData;
}

/** `peer:filter` argument: set `allow` to false to ignore the peer. */
export type PeerFilter = PeerData & { allow: boolean };

/** The sender of a message that announced nothing (yet): only its id is known. */
export interface UnknownPeer {
  readonly id: string;
  readonly roleIdx?: undefined;
  readonly data?: undefined;
}

/**
 * The sender of a message as listeners see it: its peer record when it announced, else an
 * object with only its `id`, so `source.id` is always a string (rtc-signaller passed the bare id
 * for unknown senders). A message without a sender field has `id: ''`.
 */
export type MessageSource = PeerRecord | UnknownPeer;

/** @deprecated the rtc-signaller name of {@link MessageSource}. */
export type SourceState = MessageSource;

/**
 * Payload fields of an app's own commands, keyed by the command without its slash: with
 * `{ hello: [{ from: string }] }`, `send('/hello', { from })` is checked and
 * `on('message:hello', (payload, source) => …)` gets a typed `payload`.
 */
export type MessageMap = { readonly [command: string]: readonly unknown[] };

/** The message map of a signaller without custom commands. */
export type NoMessages = Record<never, never>;

/** The listener of `message:<command>`: the decoded payload fields, the sender, the raw frame. */
export type MessageListener<Payload extends readonly unknown[]> = (
  ...args: [...payload: Payload, source: MessageSource, raw: string]
) => void;

/**
 * What the `error` event carries. Narrow with `instanceof` or on `code`:
 * - `SignallingError`: an `/error` from the server, with its wire `code`; `unauthorized` and
 *   `forbidden` arrive as its subclasses `UnauthorizedError` and `ForbiddenError` (docs/protocol.md
 *   §4.7), and a connector rejects with `UnauthorizedError` for an SSE 401 or an MQTT refusal;
 * - `OfflineQueueFullError` (`'offline-queue-full'`) and `ReconnectStoppedError`
 *   (`'reconnect-stopped'`): raised by the signaller itself;
 * - anything else: the connector's failure as it rejected, unwrapped: usually a
 *   `ConnectTimeoutError` or `ConnectRefusedError`, or an `AbortError` `DOMException`.
 */
export type SignallerError =
  | SignallingError
  | OfflineQueueFullError
  | ReconnectStoppedError
  | ConnectTimeoutError
  | ConnectRefusedError
  | Error;

/** Where the connection is; `closed` is final (after `leave()`). */
export type ReadyState = 'disconnected' | 'connecting' | 'connected' | 'closed';

/**
 * Signaller events, named and shaped like rtc-signaller 6.x, plus the marked extensions.
 * `message:<command>` listeners of the commands in `Messages` are typed; any other
 * `message:<command>` gets `unknown` fields.
 */
export type SignallerEvents<Messages extends MessageMap = NoMessages> = BaseEvents & {
  [Command in keyof Messages & string as `message:${Command}`]: MessageListener<Messages[Command]>;
} & {
  [event: `message:${string}`]: (...args: unknown[]) => void;
};

/** The events every signaller has, whatever its message map. */
export type BaseEvents = {
  connected: () => void;
  disconnected: () => void;
  /** Connection failures, offline-queue overflow, refusals and server `/error`s: see {@link SignallerError}. */
  error: (error: SignallerError) => void;
  'local:announce': (attributes: PeerData) => void;
  'peer:filter': (id: string, filter: PeerFilter) => void;
  'peer:connected': (id: string, data: PeerData) => void;
  'peer:announce': (data: PeerData, peer: PeerRecord) => void;
  'peer:update': (data: PeerData, senderId: string) => void;
  /** [ext] A `/leave` arrived for a known peer, which is then forgotten. */
  'peer:leave': (id: string, peer: PeerRecord) => void;
  /** [ext] The server's `/roominfo`. */
  roominfo: (info: RoomInfo) => void;
  rawdata: (message: string) => void;
  data: (
    fields: unknown[],
    senderId: string | undefined,
    source: MessageSource,
    isDM: boolean,
  ) => void;
  /** [ext] A `/leave` for a known peer; `reason` is the server's (docs/protocol.md §4.2), if any. */
  'message:leave': (data: LeavePayload, source: MessageSource, raw: string) => void;
};

/** The payload of `/leave`: the id, and on the server's own `/leave` why the peer left. */
export interface LeavePayload {
  readonly id: string;
  /** `leave`, `disconnect`, `moved`, `shutdown`, …; absent on a peer's own `/leave`. */
  readonly reason?: string;
}

/** Options of {@link createSignaller}. */
export interface SignallerOptions {
  /**
   * This peer's id (a number is announced as given, as rtc-signaller did, and compared as its
   * string). @default a random 25-character id starting with `c`
   */
  readonly id?: string | number;
  /** How to write the sender field: `json` (`{"id":"A"}`) or `bare` (`A`, for rtc-switchboard 3.x). @default 'json' */
  readonly metadata?: 'json' | 'bare';
  /** Connect at creation. @default true */
  readonly autoconnect?: boolean;
  /** Reconnect after an unintended close. @default true */
  readonly reconnect?: boolean;
  /** Delay before reconnect attempt `attempt` (0-based). @default exponential from 100 ms to 10 s, with jitter */
  readonly reconnectDelay?: (attempt: number) => number;
  /** Announce calls within this window collapse into one message. @default 10 */
  readonly announceDelay?: number;
  /** Answer a new peer's broadcast announce with a `/to` announce. @default true */
  readonly autoreply?: boolean;
  /**
   * In a browser, `leave()` on `pagehide` (a tab closed or navigated away), so the room sees
   * `/leave` at once instead of after the server's grace window. @default true
   */
  readonly leaveOnPageHide?: boolean;
  /** Messages kept while offline; the oldest is dropped (with an `error` event) past it. @default 1000 */
  readonly queueLimit?: number;
  /**
   * A credential sent as the announce attribute `token` (docs/protocol.md §4.7; the hub strips
   * it before relaying). A function is called before every (re)connect and re-announce, and,
   * for a JWT with `exp`, again shortly before it expires, with a re-announce, so the
   * connection is never closed for an expired token. @default none
   */
  readonly token?: TokenSource;
}

/**
 * Services {@link createSignaller} runs on, injected apart from the configuration so that tests
 * and other runtimes can substitute them.
 */
export interface SignallerServices {
  /** Every timer (announce debounce, reconnect delay) runs on it. @default systemClock */
  readonly clock?: Clock;
  /** Connection lifecycle and dropped messages, at `debug`/`warn`. @default debugLogger('switchyard:signaller') */
  readonly log?: Logger;
}

/** The command a typed `send` takes: `/<command>` of the app's message map. */
type Command<Messages extends MessageMap> = `/${keyof Messages & string}`;
/** The payload fields of `/<command>`. */
type PayloadOf<Messages extends MessageMap, C extends string> = C extends `/${infer Name}`
  ? Messages[Name]
  : never;

/** Sends one command, typed for the commands of the message map. */
export interface Send<Messages extends MessageMap> {
  <C extends Command<Messages>>(command: C, ...args: PayloadOf<Messages, C>): void;
  /** Commands outside the map take any fields. */
  <C extends string>(command: C extends Command<Messages> ? never : C, ...args: unknown[]): void;
}

/**
 * The signaller: rtc-signaller 6.x API over any Switchyard `Connector`. `Messages` types the
 * app's own commands (see {@link MessageMap}).
 */
export interface Signaller<Messages extends MessageMap = NoMessages> extends Omit<
  Emitter<SignallerEvents<Messages>>,
  'emit'
> {
  /** This peer's id, as a string. */
  readonly id: string;
  readonly attributes: PeerData;
  readonly peers: Map<string, PeerRecord>;
  readonly readyState: ReadyState;
  /** Merge attributes (id cannot change) and announce them, debounced. */
  announce(data?: Record<string, unknown>): void;
  /** Broadcast `command|<me>|args…` to the room. */
  readonly send: Send<Messages>;
  /** Directed messages: `to(id).send('/sdp', offer)`. */
  to(target: string): { readonly send: Send<Messages> };
  /** Send `/leave`, close, and stop reconnecting. */
  leave(): void;
  /** Same as `leave()`. */
  close(): void;
  /** True when this peer is the master for `peerId` (its id sorts first); undefined for unknown peers. */
  isMaster(peerId: string): boolean | undefined;
  /** Connect now (after `autoconnect: false`, or to retry at once). */
  connect(): Promise<void>;
}

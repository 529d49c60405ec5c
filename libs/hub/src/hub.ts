/**
 * The hub: docs/protocol.md §4 over any set of pipes. It accepts pipes from server halves and
 * wires each to the inbound pipeline (inbound.ts); rooms, identity, presence, delivery and
 * counters are modules of their own (see docs/architecture.md, "Inside the hub").
 */
import { CloseCode, type ConnectionContext, type Pipe } from '@switchyard/protocol';
import { createCore, statsOf, type HubCore } from './core.ts';
import { Inbound } from './inbound.ts';
import { snapshotRooms, type HubSnapshot, type SnapshotLimits } from './inspect.ts';
import type { Connection } from './model.ts';
import type { HubEvents, HubOptions, HubServices, LeaveReason } from './options.ts';
import { createRateLimiter } from './rate-limit.ts';
import type { HubStats } from './stats.ts';

/** The transport-agnostic signalling server core. */
export interface Hub {
  /** Takes over a connection; a server half calls this for every pipe it opens. */
  accept(pipe: Pipe, context?: Partial<ConnectionContext>): void;
  on<E extends keyof HubEvents & string>(event: E, listener: HubEvents[E]): () => void;
  stats(): HubStats;
  /** Ids in a room, in join order (empty for an unknown room). */
  roomMembers(room: string): string[];
  /** Names of the rooms that have members. */
  rooms(): string[];
  /** The largest rooms with their members' transports and states, for operators. */
  snapshot(limits?: SnapshotLimits): HubSnapshot;
  /**
   * Closes the connection that holds `id` from the server side. Without a `/leave` this is a
   * hard disconnect: the grace window applies. Returns false when `id` is not connected.
   */
  disconnect(id: string, code?: number, reason?: string): boolean;
  /**
   * Ends `id`'s membership here because another hub of the cluster took the id over: the room
   * gets `/leave` with `reason`; a live connection gets `/error id-taken` and 4009. Returns
   * false when no member here holds `id`.
   */
  release(id: string, reason: LeaveReason): boolean;
  /**
   * Puts `id` into `room` inside its grace window, without a word to the room: a cluster node
   * that takes over a room whose home died restores its members so, and the room hears
   * `/leave` for those whose connection does not come back. False when `id` is held here.
   */
  restore(room: string, id: string, principal?: string): boolean;
  /** Whether `id`'s member here is connected and its transport answers in `timeoutMs`. */
  isAlive(id: string, timeoutMs: number): Promise<boolean>;
  /** Resolves once no announce is waiting for the auth hook or a liveness probe. */
  idle(): Promise<void>;
  /**
   * Closes every connection and ends every membership without a word to any room, then goes on
   * accepting: a cluster node the others declared dead (docs/cluster.md, "Fencing") drops what
   * the cluster has handed to other nodes meanwhile.
   */
  reset(code?: number, reason?: string): void;
  /** Closes every connection (default 1001) and stops all timers. */
  close(code?: number, reason?: string): void;
}

/**
 * Creates a hub: `options` are its limits, `services` what it is given (clock, logger, the
 * `authenticate` hook).
 */
export function createHub(options: HubOptions = {}, services: HubServices = {}): Hub {
  const core = createCore(options, services);
  const inbound = new Inbound(core);
  let closing = false;

  function closed(connection: Connection, code: number | undefined): void {
    if (connection.state === 'closed') return;
    const member = connection.member;
    connection.state = 'closed';
    connection.backlog = undefined;
    core.deadline.disarm(connection);
    core.credentials?.forget(connection);
    core.connections.delete(connection);
    core.events.emit('connection:closed', {
      ...withoutCredentials(connection.context),
      ...(connection.id !== undefined && { id: connection.id }),
      ...(code !== undefined && { code }),
    });
    if (!member || member.connection !== connection) return;
    if (closing) core.presence.forget(member, 'shutdown', false);
    else core.presence.disconnected(member);
  }

  return {
    accept(pipe, context = {}) {
      const full: ConnectionContext = {
        ...context,
        transport: context.transport ?? pipe.transport,
      };
      if (closing) return pipe.close(CloseCode.goingAway, 'server shutting down');
      const rateLimit = core.options.rateLimit;
      const connection: Connection = {
        pipe,
        context: full,
        state: 'idle',
        lastRateErrorAt: -Infinity,
        ...(rateLimit !== false && { limiter: createRateLimiter(rateLimit) }),
      };
      core.connections.add(connection);
      core.deadline.arm(connection);
      pipe.onMessage((message) => guard(core, () => inbound.handle(connection, message)));
      pipe.onUnreadable?.((what) => guard(core, () => inbound.unreadable(connection, what)));
      pipe.onClose((info) => closed(connection, info.code));
      core.events.emit('connection:opened', withoutCredentials(full));
      // a connect-time token is verified before anything the connection sends is read
      const verifying = core.credentials?.connect(connection);
      if (verifying) inbound.hold(connection, verifying);
    },
    on: (event, listener) => core.events.on(event, listener),
    stats: () => statsOf(core),
    roomMembers: (name) => [...(core.rooms.get(name)?.members ?? [])].map((member) => member.id),
    rooms: () => core.rooms.names(),
    snapshot: (limits) => snapshotRooms(core.rooms.all(), limits),
    disconnect(id, code = CloseCode.goingAway, reason = 'disconnected by the server') {
      const connection = core.identity.get(id)?.connection;
      if (!connection) return false;
      connection.pipe.close(code, reason);
      return true;
    },
    release(id, reason) {
      const member = core.identity.get(id);
      if (!member) return false;
      const connection = member.connection;
      core.presence.forget(member, reason, true);
      if (connection && connection.state !== 'closed')
        core.identity.evict(connection, id, 'elsewhere');
      return true;
    },
    restore(room, id, principal) {
      if (core.identity.get(id)) return false;
      const member = core.identity.restore(id, principal);
      core.rooms.join(member, room);
      core.presence.disconnected(member);
      return true;
    },
    async isAlive(id, timeoutMs) {
      const pipe = core.identity.get(id)?.connection?.pipe;
      if (!pipe) return false;
      // as for a claim here: a holder nothing can vouch for is not kept
      return pipe.isAlive ? pipe.isAlive(timeoutMs).catch(() => false) : false;
    },
    idle: () => inbound.idle(),
    reset(code = CloseCode.serviceRestart, reason = 'server restarting: reconnect') {
      if (closing) return;
      closing = true;
      dropAll(code, reason);
      closing = false;
    },
    close(code = CloseCode.goingAway, reason = 'server shutting down') {
      closing = true;
      dropAll(code, reason);
    },
  };

  /** Closes every connection and forgets every member, silently (a shutdown, a reset). */
  function dropAll(code: number, reason: string): void {
    for (const connection of [...core.connections]) connection.pipe.close(code, reason);
    for (const member of [...core.identity.members()])
      core.presence.forget(member, 'shutdown', false);
  }
}

/** A bug must cost one message, never the process. */
function guard(core: HubCore, handle: () => void): void {
  try {
    handle();
  } catch (error) {
    core.services.log('warn', 'message handler threw', { error: String(error) });
  }
}

/** A context for operator events: credentials (tokens) never reach listeners and their logs. */
function withoutCredentials(context: ConnectionContext): ConnectionContext {
  if (context.credentials === undefined) return context;
  const { credentials: _credentials, ...rest } = context;
  return rest;
}

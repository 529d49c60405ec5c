/** The parts of a hub, wired once: what the inbound pipeline and the public API share. */
import { createEmitter, type Emitter } from '@switchyard/protocol';
import { AnnounceDeadline } from './announce-deadline.ts';
import { Credentials } from './credentials.ts';
import { Identity } from './identity.ts';
import type { Connection } from './model.ts';
import {
  resolveOptions,
  resolveServices,
  type HubEvents,
  type HubOptions,
  type HubServices,
  type ResolvedOptions,
  type ResolvedServices,
} from './options.ts';
import { Outbound } from './outbound.ts';
import { Presence } from './presence.ts';
import { Rooms } from './rooms.ts';
import { HubCounters, type HubStats } from './stats.ts';

/** One hub's state and modules. */
export interface HubCore {
  readonly options: ResolvedOptions;
  readonly services: ResolvedServices;
  readonly events: Emitter<HubEvents>;
  readonly counters: HubCounters;
  readonly connections: Set<Connection>;
  readonly outbound: Outbound;
  readonly rooms: Rooms;
  readonly identity: Identity;
  readonly presence: Presence;
  readonly deadline: AnnounceDeadline;
  /** Present when the hub is given a `TokenAuthority`. */
  readonly credentials?: Credentials;
}

/** Builds the modules of a hub. */
export function createCore(options: HubOptions, services: HubServices): HubCore {
  const resolved = resolveOptions(options);
  const given = resolveServices(services);
  const { log } = given;
  const events = createEmitter<HubEvents>((error) =>
    log('warn', 'hub event listener threw', { error: String(error) }),
  );
  const counters = new HubCounters();
  const outbound = new Outbound(counters, resolved, log);
  const rooms = new Rooms(events, outbound);
  const identity = new Identity(outbound, counters, resolved.livenessTimeoutMs, given.directory);
  const deadline = new AnnounceDeadline(
    given.clock,
    resolved.announceTimeoutMs,
    outbound,
    counters,
  );
  const presence = new Presence(
    given.clock,
    resolved.graceMs,
    identity,
    rooms,
    counters,
    log,
    deadline,
  );
  return {
    options: resolved,
    services: given,
    events,
    counters,
    connections: new Set(),
    outbound,
    rooms,
    identity,
    presence,
    deadline,
    ...(given.tokens && {
      credentials: new Credentials(given.tokens, given.clock, outbound, counters),
    }),
  };
}

/** The `stats()` snapshot of a hub. */
export function statsOf(core: HubCore): HubStats {
  return core.counters.snapshot({
    connections: core.connections.size,
    members: core.identity.size,
    rooms: core.rooms.size,
    inGrace: core.presence.inGrace(),
  });
}

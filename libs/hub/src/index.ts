/**
 * `@switchyard/hub`: the transport-agnostic signalling server core (docs/protocol.md §4). Pure
 * TypeScript with an injected clock: it runs in Node, in a browser tab and under fake time.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { serveTransports } from '@switchyard/http';
 * import { webSocketServer } from '@switchyard/transport-ws/server';
 *
 * const hub = createHub({ graceMs: 3000 });
 * hub.on('room:created', (room) => console.log('room', room));
 * const http = createServer().listen(3000, '127.0.0.1');
 * await serveTransports(http, hub.accept, [webSocketServer()]);
 * ```
 */
export { createHub, type Hub } from './hub.ts';
export { parseAnnounce, type Announce, type AnnounceVerdict } from './announce.ts';
export {
  createRateLimiter,
  type RateLimitOptions,
  type RateLimiter,
  type RateVerdict,
} from './rate-limit.ts';
export { resolveOptions } from './options.ts';
export type {
  AuthRequest,
  AuthResult,
  Authenticate,
  HubOptions,
  HubServices,
  LeaveReason,
  PeerEvent,
  HubEvents,
} from './options.ts';
export type { HubStats } from './stats.ts';
export type { IdClaimant, IdDirectory, IdState, IdVerdict } from './directory.ts';
export type { HubSnapshot, MemberSnapshot, RoomSnapshot, SnapshotLimits } from './inspect.ts';

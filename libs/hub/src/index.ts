/**
 * `@switchyard/hub`: the transport-agnostic signalling server core (PROTOCOL §4). Pure
 * TypeScript with an injected clock: it runs in Node, in a browser tab and under fake time.
 *
 * @example
 * ```ts
 * import { createHub } from '@switchyard/hub';
 * import { attachWebSocket } from '@switchyard/transport-ws/server';
 *
 * const hub = createHub({ graceMs: 3000 });
 * hub.on('room:created', (room) => console.log('room', room));
 * attachWebSocket(httpServer, hub.accept);
 * ```
 */
export { createHub, type Hub } from './hub.ts';
export { systemClock, type Clock } from './clock.ts';
export {
  createRateLimiter,
  type RateLimitOptions,
  type RateLimiter,
  type RateVerdict,
} from './rate-limit.ts';
export type * from './options.ts';

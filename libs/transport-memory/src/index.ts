/**
 * `@switchyard/transport-memory`: in-process pipes, for tests and for peers in one process.
 *
 * @example
 * ```ts
 * import { createHub } from '@switchyard/hub';
 * import { createSignaller } from '@switchyard/signaller';
 * import { memoryServer } from '@switchyard/transport-memory/server';
 *
 * const hub = createHub();
 * const server = memoryServer(hub.accept);
 * const alice = createSignaller(server.connector);
 * alice.announce({ room: 'demo' });
 * ```
 */
export { createMemoryPair, type MemoryPairOptions } from './pair.ts';
export { memoryServer, type MemoryServer } from './server.ts';
export { memoryConnector } from './client.ts';

/**
 * `@switchyard/cluster`: many Switchyard hubs, one set of rooms (docs/cluster.md). Each room is
 * homed on one node; members on other nodes are linked to it over a {@link Backplane}, so every
 * rule of docs/protocol.md holds across nodes and clients cannot tell there is more than one.
 *
 * @example
 * ```ts
 * import { createClusterNode, createMemoryCluster } from '@switchyard/cluster';
 * import { memoryServer } from '@switchyard/transport-memory/server';
 *
 * const cluster = createMemoryCluster();
 * const one = createClusterNode(cluster.join('one'));
 * const two = createClusterNode(cluster.join('two'));
 * const atOne = memoryServer(one.accept); // clients of node one
 * const atTwo = memoryServer(two.accept); // clients of node two: same rooms
 * ```
 */
export { createClusterNode, type ClusterNode } from './node.ts';
export { createMemoryCluster, type MemoryCluster } from './memory.ts';
export type { Backplane, BackplaneStats, IdRecord, MirrorEntry } from './backplane.ts';
export { decodeBus, encodeBus, type BusFrame } from './wire.ts';

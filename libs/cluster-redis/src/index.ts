/**
 * `@switchyard/cluster-redis`: the Redis backplane for `@switchyard/cluster` (docs/cluster.md).
 *
 * @example
 * ```ts
 * import { createClusterNode } from '@switchyard/cluster';
 * import { createRedisBackplane } from '@switchyard/cluster-redis';
 *
 * const backplane = await createRedisBackplane({ url: 'redis://127.0.0.1:6379' });
 * const node = createClusterNode(backplane, { graceMs: 3000 });
 * // hand node.accept to the server halves instead of hub.accept
 * ```
 */
export {
  createRedisBackplane,
  type RedisBackplane,
  type RedisBackplaneOptions,
} from './redis-backplane.ts';

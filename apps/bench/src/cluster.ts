/**
 * Servers of many processes for the cluster benchmark (docs/benchmarks.md, "Cluster"):
 * `switchyard --cluster` nodes, or socket.io relays on `@socket.io/redis-adapter`, all on one
 * `redis-server` of the bench's own. Clients spread over the nodes in turn, so the two ends of a
 * pair sit on different nodes and every message crosses the bus once.
 */
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@switchyard/test-kit';
import { cpuSecondsOf } from './server-process.ts';
import {
  spawnServer,
  type ServerKind,
  type ServerProcess,
  type SpawnOptions,
} from './server-process.ts';

/** The bench's Redis: one for the whole run, emptied between groups. */
export interface BenchRedis {
  readonly url: string;
  /** CPU seconds redis-server has used so far. */
  cpuSeconds(): number;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const server: RedisServer = await startRedis();
  const pid = server.pid!;
  return {
    url: server.url,
    cpuSeconds: () => cpuSecondsOf(pid),
    async flush() {
      const client = new Redis(server.url);
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    stop: () => server.stop(),
  };
}

/** A cluster under test, seen by the scenarios as one server: CPU and memory are its nodes' sum. */
export interface ServerGroup extends ServerProcess {
  readonly nodes: readonly ServerProcess[];
}

/**
 * `nodes` processes of `kind` on `redis`; a group of one runs without a cluster (the single
 * node every ratio is taken against).
 */
export async function startGroup(
  kind: Extract<ServerKind, 'switchyard' | 'raw' | 'socket.io'>,
  nodes: number,
  redis: BenchRedis,
  options: SpawnOptions = {},
): Promise<ServerGroup> {
  await redis.flush();
  const argsOf = (n: number): string[] => {
    if (kind !== 'switchyard') return nodes > 1 ? [redis.url] : [];
    return nodes > 1 ? ['--cluster', redis.url, '--node-id', `bench-${n}`] : [];
  };
  const started = await Promise.all(
    Array.from({ length: nodes }, (_, n) =>
      spawnServer(kind, { ...options, serverArgs: [...(options.serverArgs ?? []), ...argsOf(n)] }),
    ),
  );
  // a node reads the live nodes once a renewal (1 s): let every node see every other first
  if (kind === 'switchyard' && nodes > 1) await new Promise((resolve) => setTimeout(resolve, 1500));
  const first = started[0]!;
  return {
    kind,
    label: nodes > 1 ? `${kind}×${nodes}` : kind,
    pid: first.pid,
    url: first.url,
    urls: started.map((node) => node.url),
    protocol: first.protocol,
    nodes: started,
    cpuSeconds: () => started.reduce((sum, node) => sum + node.cpuSeconds(), 0),
    ...(nodes > 1 && { busCpuSeconds: () => redis.cpuSeconds() }),
    rssBytes: () => started.reduce((sum, node) => sum + node.rssBytes(), 0),
    stop: async () => {
      await Promise.all(started.map((node) => node.stop()));
    },
  };
}

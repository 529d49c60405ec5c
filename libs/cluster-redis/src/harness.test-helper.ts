/** Clusters of nodes in one process on a Redis backplane, for the specs of this package. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { createClusterNode, type ClusterNode } from '@switchyard/cluster';
import {
  quietFor,
  rawClient,
  waitUntil,
  type MakeCluster,
  type RawClient,
} from '@switchyard/testing';
import { memoryServer, type MemoryServer } from '@switchyard/transport-memory/server';
import {
  createRedisBackplane,
  type RedisBackplane,
  type RedisBackplaneOptions,
} from './redis-backplane.ts';

export const GRACE_MS = 300;

/** The cluster conformance suite's clusters on the Redis at `url()` (read when one is made). */
export function redisClusters(url: () => string): MakeCluster {
  return async (size) => {
    // each cluster its own prefix: the tests share one Redis
    const prefix = `t${randomBytes(3).toString('hex')}`;
    const backplanes: RedisBackplane[] = [];
    const nodes: ClusterNode[] = [];
    const servers: MemoryServer[] = [];
    for (let n = 0; n < size; n++) {
      const backplane = await createRedisBackplane({
        url: url(),
        node: `n${n}`,
        prefix,
        leaseMs: 1000,
        renewMs: 250,
      });
      backplanes.push(backplane);
      const node = createClusterNode(backplane, { graceMs: GRACE_MS });
      nodes.push(node);
      servers.push(memoryServer(node.accept));
    }
    return {
      graceMs: GRACE_MS,
      connector: (index) => servers[index]!.connector,
      async kill(index) {
        backplanes[index]!.crash();
        await servers[index]!.close(1006);
      },
      async [Symbol.asyncDispose]() {
        for (const server of servers) await server.close();
        for (const node of nodes) await node.close();
      },
    };
  };
}

/** Two nodes ('one', 'two') on their own prefix, with memory clients for each. */
export async function twoNodes(
  url: string,
  options: Pick<RedisBackplaneOptions, 'outage' | 'sweepDelayMs'> = {},
) {
  const prefix = `p${randomBytes(3).toString('hex')}`;
  const make = (node: string) =>
    createRedisBackplane({ url, node, prefix, leaseMs: 1000, renewMs: 250, ...options });
  const backplanes = [await make('one'), await make('two')] as const;
  const nodes = backplanes.map((backplane) => createClusterNode(backplane, { graceMs: 3000 }));
  const servers = nodes.map((node) => memoryServer(node.accept));
  return {
    prefix,
    backplanes,
    connector: (index: number) => servers[index]!.connector,
    /** A crash: the node's Redis connections drop and its clients' transports break. */
    async kill(index: number) {
      backplanes[index]!.crash();
      await servers[index]!.close(1006);
    },
    async [Symbol.asyncDispose]() {
      for (const server of servers) await server.close();
      for (const node of nodes) await node.close();
    },
  };
}

type TwoNodes = Awaited<ReturnType<typeof twoNodes>>;

/**
 * B (on node two) sends A (on node one, the room's home) a `/to` every 10 ms while `disrupt`
 * runs, then checks what a disruption must not cost: all `total` arrive once and in order,
 * nobody hears `/leave` or `/error`, node two dropped nothing. `sent(n)` waits until n are out.
 */
export async function talkThrough(
  cluster: TwoNodes,
  room: string,
  disrupt: (sent: (count: number) => Promise<void>) => Promise<void>,
  total = 300,
): Promise<{ a: RawClient; b: RawClient }> {
  const a = await rawClient(cluster.connector(0), ['A', room]);
  const b = await rawClient(cluster.connector(1), ['B', room]);
  a.take();
  let count = 0;
  const sender = setInterval(() => {
    if (count < total) b.say(`/to|A|/seq|B|${count++}`);
  }, 10);
  try {
    await disrupt((n) =>
      waitUntil(() => count >= n, `${n} messages sent`, 10_000).then(() => undefined),
    );
    await waitUntil(() => count >= total, 'the rest of the traffic', 10_000);
  } finally {
    clearInterval(sender);
  }
  await a.next((m) => m.endsWith(`|${total - 1}`), 10_000);
  const got = a.received
    .filter((m) => m.startsWith('/to|A|/seq|B|'))
    .map((m) => Number(m.slice(m.lastIndexOf('|') + 1)));
  expect(got).toEqual(Array.from({ length: total }, (_, n) => n));
  await quietFor(300);
  expect(a.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
  expect(b.received.filter((m) => m.startsWith('/leave') || m.startsWith('/error'))).toEqual([]);
  expect(cluster.backplanes[1].stats().dropped).toMatchObject({ overflow: 0, expired: 0 });
  return { a, b };
}

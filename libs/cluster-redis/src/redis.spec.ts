import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClusterNode, type ClusterNode } from '@switchyard/cluster';
import {
  describeCluster,
  quietFor,
  rawClient,
  startRedis,
  waitUntil,
  type RedisServer,
} from '@switchyard/testing';
import { memoryServer, type MemoryServer } from '@switchyard/transport-memory/server';
import {
  createRedisBackplane,
  type RedisBackplane,
  type RedisBackplaneOptions,
} from './redis-backplane.ts';

const GRACE_MS = 300;
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
}, 15_000);
afterAll(() => redis?.stop());

describeCluster('Redis backplane, nodes in one process', async (size) => {
  // each cluster its own prefix: the tests share one redis-server
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const backplanes: RedisBackplane[] = [];
  const nodes: ClusterNode[] = [];
  const servers: MemoryServer[] = [];
  for (let n = 0; n < size; n++) {
    const backplane = await createRedisBackplane({
      url: redis.url,
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
});

/** Two nodes on their own prefix of the shared redis-server, with memory clients for each. */
async function twoNodes(outage?: RedisBackplaneOptions['outage']) {
  const prefix = `p${randomBytes(3).toString('hex')}`;
  const make = (node: string) =>
    createRedisBackplane({
      url: redis.url,
      node,
      prefix,
      leaseMs: 1000,
      renewMs: 250,
      ...(outage && { outage }),
    });
  const backplanes = [await make('one'), await make('two')] as const;
  const nodes = backplanes.map((backplane) => createClusterNode(backplane, { graceMs: 3000 }));
  const servers = nodes.map((node) => memoryServer(node.accept));
  return {
    backplanes,
    connector: (index: number) => servers[index]!.connector,
    async [Symbol.asyncDispose]() {
      for (const server of servers) await server.close();
      for (const node of nodes) await node.close();
    },
  };
}

describe('Redis going away', () => {
  it.each([
    [
      'kill -9 and a restart 700 ms later',
      async () => {
        await redis.kill();
        await quietFor(700);
        await redis.start();
      },
    ],
    [
      'CLIENT KILL TYPE pubsub (every inbox subscription cut)',
      async () => {
        const admin = new Redis(redis.url);
        await admin.client('KILL', 'TYPE', 'pubsub');
        await admin.quit();
      },
    ],
  ] as const)(
    '%s while two nodes talk every 10 ms: nothing lost, doubled or reordered, no /leave',
    async (_name, outage) => {
      await using cluster = await twoNodes();
      const two = cluster.backplanes[1];
      {
        const a = await rawClient(cluster.connector(0), ['A', 'talk']);
        const b = await rawClient(cluster.connector(1), ['B', 'talk']);
        a.take();
        const total = 300;
        let sent = 0;
        const sender = setInterval(() => {
          if (sent < total) b.say(`/to|A|/seq|B|${sent++}`);
        }, 10);
        await waitUntil(() => sent >= 80, 'traffic before the outage', 5000);
        await outage();
        await waitUntil(() => sent >= total, 'the rest of the traffic', 10_000);
        clearInterval(sender);
        await a.next((m) => m.endsWith(`|${total - 1}`), 10_000);
        const got = a.received
          .filter((m) => m.startsWith('/to|A|/seq|B|'))
          .map((m) => Number(m.slice(m.lastIndexOf('|') + 1)));
        expect(got).toEqual(Array.from({ length: total }, (_, n) => n));
        await quietFor(300);
        expect(a.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
        expect(b.received.filter((m) => m.startsWith('/leave') || m.startsWith('/error'))).toEqual(
          [],
        );
        expect(two.stats().dropped).toMatchObject({ overflow: 0, expired: 0 });
      }
    },
    30_000,
  );
});

describe('a long Redis outage', () => {
  it('10 s without Redis: bounded queues, drops counted, no /leave for connected peers, full recovery', async () => {
    await using cluster = await twoNodes({ maxFrames: 200, maxAgeMs: 5000 });
    const two = cluster.backplanes[1];
    {
      const a = await rawClient(cluster.connector(0), ['A', 'long']);
      const b = await rawClient(cluster.connector(1), ['B', 'long']);
      let sent = 0;
      const sender = setInterval(() => b.say(`/to|A|/seq|B|${sent++}`), 20);
      await quietFor(300);
      await redis.kill();
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, two.stats().queued)), 100);
      await quietFor(10_000);
      clearInterval(sampler);
      await redis.start();
      const last = await waitUntil(() => sent, 'traffic', 1000);
      // after recovery, what is sent arrives: the last message of the run, and its followers
      await a.next((m) => m === `/to|A|/seq|B|${last + 20}`, 10_000);
      clearInterval(sender);
      const got = a.received
        .filter((m) => m.startsWith('/to|A|/seq|B|'))
        .map((m) => Number(m.slice(m.lastIndexOf('|') + 1)));
      // nothing twice, nothing out of order; what was lost is counted
      expect(got).toEqual([...got].sort((x, y) => x - y));
      expect(new Set(got).size).toBe(got.length);
      const { dropped } = two.stats();
      expect((dropped['expired'] ?? 0) + (dropped['overflow'] ?? 0)).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(200 + 60); // the bound, plus one turn's worth not yet bounded
      expect(a.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
      expect(b.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
      expect(a.closeInfo).toBeUndefined();
      expect(b.closeInfo).toBeUndefined();
    }
  }, 40_000);
});

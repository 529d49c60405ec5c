import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  describeCluster,
  quietFor,
  rawClient,
  startRedis,
  waitUntil,
  type RedisServer,
} from '@switchyard/testing';
import { redisClusters, talkThrough, twoNodes } from './harness.test-helper.ts';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
}, 15_000);
afterAll(() => redis?.stop());

describeCluster(
  'Redis backplane, nodes in one process',
  redisClusters(() => redis.url),
);

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
      await using cluster = await twoNodes(redis.url);
      const { a, b } = await talkThrough(cluster, 'talk', async (sent) => {
        await sent(80);
        await outage();
      });
      a.pipe.close();
      b.pipe.close();
    },
    30_000,
  );
});

describe('a long Redis outage', () => {
  it('10 s without Redis: bounded queues, drops counted, no /leave for connected peers, full recovery', async () => {
    await using cluster = await twoNodes(redis.url, { outage: { maxFrames: 200, maxAgeMs: 5000 } });
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

describe('sweeping a dead node', () => {
  it('what the directory still holds of a crashed node goes after the sweep delay; what moved on stays', async () => {
    await using cluster = await twoNodes(redis.url, { sweepDelayMs: 300 });
    const two = cluster.backplanes[1];
    const x = await rawClient(cluster.connector(0), ['X', 'lonely']); // one homes it, alone
    const a = await rawClient(cluster.connector(0), ['A', 'shared']); // one homes it
    const b = await rawClient(cluster.connector(1), ['B', 'shared']);
    await a.next((m) => m.startsWith('/announce|B'));
    const admin = new Redis(redis.url);
    try {
      /** Every string key of this cluster and the node its value names first. */
      const directory = async () => {
        const keys = await admin.keys(`${cluster.prefix}:{[ir]:*}`);
        const named = new Map<string, string>();
        for (const key of keys) {
          if (key.endsWith(':m')) {
            named.set(key, 'mirror');
            continue;
          }
          const value = (await admin.get(key))!;
          named.set(key, value.startsWith('[') ? (JSON.parse(value) as string[])[0]! : value);
        }
        return named;
      };
      const before = await directory();
      expect([...before.values()].filter((n) => n === 'one').length).toBeGreaterThanOrEqual(4);
      expect(await admin.scard(`${cluster.prefix}:{c}:own:one`)).toBeGreaterThanOrEqual(4);

      await cluster.kill(0);
      // two buries one, takes the shared room over from the mirror, A's grace ends
      expect(await b.next((m) => m.startsWith('/leave'), 8000)).toBe(
        '/leave|A|{"id":"A","reason":"disconnect"}',
      );
      await waitUntil(() => (two.counters['swept'] ?? 0) >= 2, 'the sweep', 5000);
      await quietFor(300);
      const after = await directory();
      expect([...after.values()].filter((n) => n === 'one')).toEqual([]);
      // the lonely room and X's id are gone; B and the shared room stay, on two
      expect([...after.entries()].sort()).toEqual(
        [
          [`${cluster.prefix}:{i:${Buffer.from('B').toString('base64url')}}`, 'two'],
          [`${cluster.prefix}:{r:${Buffer.from('shared').toString('base64url')}}`, 'two'],
        ].sort(),
      );
      expect(await admin.exists(`${cluster.prefix}:{c}:own:one`)).toBe(0);
      expect(x.closeInfo?.code).toBe(1006);
      // the survivor's own entries are indexed for its own death
      expect(await admin.smembers(`${cluster.prefix}:{c}:own:two`)).toEqual(
        expect.arrayContaining(['r|shared']),
      );
    } finally {
      admin.disconnect();
    }
  }, 30_000);
});

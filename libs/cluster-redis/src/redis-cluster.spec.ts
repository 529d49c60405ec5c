/**
 * The Redis backplane on a 3-master Redis Cluster the test starts on free ports: every key and
 * script stays in one slot (hash tags), inboxes are sharded channels, and a slot that moves
 * while two nodes talk costs nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeCluster,
  rawClient,
  startRedisCluster,
  waitFor,
  type RedisCluster,
} from '@switchyard/testing';
import { redisClusters, talkThrough, twoNodes } from './harness.test-helper.ts';

let redis: RedisCluster;

beforeAll(async () => {
  redis = await startRedisCluster(3);
}, 30_000);
afterAll(() => redis?.stop());

describeCluster(
  'Redis Cluster backplane (3 masters, sharded inboxes)',
  redisClusters(() => redis.url),
);

describe('Redis Cluster slot migration', () => {
  it('moving the slots of an inbox and of the room while two nodes talk every 10 ms: nothing lost, doubled or reordered, no /leave', async () => {
    await using cluster = await twoNodes(redis.url);
    const { prefix } = cluster;
    // node one's inbox, a sharded channel: what node two sends to the room's home (node one)
    const channel = `${prefix}:{n:one}:in`;
    const { a, b } = await talkThrough(cluster, 'slots', async (sent) => {
      await sent(60);
      expect(await redis.shardSubscribers(channel)).toBe(1);
      const inbox = await redis.slotOf(channel);
      const target = ((await redis.ownerOf(inbox)) + 1) % 3;
      await redis.migrateSlot(inbox, target);
      expect(await redis.ownerOf(inbox)).toBe(target);
      await sent(160);
      // the room's home and mirror
      const room = await redis.slotOf(
        `${prefix}:{r:${Buffer.from('slots').toString('base64url')}}`,
      );
      await redis.migrateSlot(room, ((await redis.ownerOf(room)) + 1) % 3);
    });
    // node one subscribes again where its inbox's slot went
    await waitFor(
      async () => (await redis.shardSubscribers(channel)) === 1,
      'the inbox subscribed at its new owner',
      5000,
    );
    // a newcomer after the moves finds the room where it is: one home, an exact count
    const c = await rawClient(cluster.connector(1));
    c.say('/announce|C|{"id":"C","room":"slots"}');
    expect(await c.next()).toBe('/roominfo|{"memberCount":3}');
    for (const client of [a, b, c]) client.pipe.close();
  }, 40_000);
});

/**
 * A Redis Cluster of the test's own: `masters` redis-servers on free loopback ports, slots
 * spread by `redis-cli --cluster create`, nothing kept on disk. The test moves a slot from one
 * master to another while traffic flows (`migrateSlot`) and stops every process by PID.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, waitForPort } from './mosquitto.ts';

const run = promisify(execFile);

export interface RedisCluster extends AsyncDisposable {
  /** `redis-cluster://127.0.0.1:<port>,…`, the form `createRedisBackplane` takes. */
  readonly url: string;
  readonly ports: readonly number[];
  /** The slot of `key` (or channel). */
  slotOf(key: string): Promise<number>;
  /** The index of the master that owns `slot`. */
  ownerOf(slot: number): Promise<number>;
  /** Sharded subscribers of `channel` on the master that owns its slot (`PUBSUB SHARDNUMSUB`). */
  shardSubscribers(channel: string): Promise<number>;
  /** Moves `slot`, and every key in it, to master `to`, as `redis-cli --cluster reshard` does. */
  migrateSlot(slot: number, to: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.pid === undefined) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let n = 0; n < masters; n++) {
      const port = await freePort();
      ports.push(port);
      children.push(
        spawn(
          'redis-server',
          [
            ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
            ...['--cluster-enabled', 'yes', '--cluster-node-timeout', '3000'],
            ...['--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir],
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    await Promise.all(ports.map((port) => waitForPort(port, 5000)));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await untilEvery(ports, async (client) =>
      (await client.cluster('INFO')).includes('cluster_state:ok'),
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const client = (index: number) => new Redis(ports[index]!, '127.0.0.1', { lazyConnect: false });
  const withClient = async <T>(index: number, use: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = client(index);
    try {
      return await use(redis);
    } finally {
      redis.disconnect();
    }
  };
  const idOf = (index: number) =>
    withClient(index, (redis) => redis.cluster('MYID') as Promise<string>);

  const ownerOf = async (slot: number) => {
    const ranges = await withClient(0, (redis) => redis.cluster('SLOTS'));
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    return ports.indexOf(range![2]![1]);
  };

  return {
    url: `redis-cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    ports,
    slotOf: (key) => withClient(0, (redis) => redis.cluster('KEYSLOT', key) as Promise<number>),
    ownerOf,
    async shardSubscribers(channel) {
      const slot = (await withClient(0, (redis) => redis.cluster('KEYSLOT', channel))) as number;
      const owner = await ownerOf(slot);
      const answer = (await withClient(owner, (redis) =>
        redis.call('PUBSUB', 'SHARDNUMSUB', channel),
      )) as [string, number];
      return Number(answer[1]);
    },
    async migrateSlot(slot, to) {
      const from = await ownerOf(slot);
      if (from === to) return;
      const [fromId, toId] = [await idOf(from), await idOf(to)];
      await withClient(to, (redis) => redis.cluster('SETSLOT', slot, 'IMPORTING', fromId));
      await withClient(from, async (redis) => {
        await redis.cluster('SETSLOT', slot, 'MIGRATING', toId);
        for (;;) {
          const keys = (await redis.cluster('GETKEYSINSLOT', slot, 100)) as string[];
          if (keys.length === 0) break;
          await redis.migrate('127.0.0.1', ports[to]!, '', 0, 5000, 'KEYS', ...keys);
        }
      });
      // the new owner first, as redis-cli does, then everyone else
      for (const index of [to, from, ...ports.keys()].filter((i, at, all) => all.indexOf(i) === at))
        await withClient(index, (redis) => redis.cluster('SETSLOT', slot, 'NODE', toId));
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Waits up to 10 s until `check` holds on every master. */
async function untilEvery(
  ports: readonly number[],
  check: (client: Redis) => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (const port of ports) {
    const client = new Redis(port, '127.0.0.1');
    try {
      while (!(await check(client))) {
        if (Date.now() > deadline) throw new Error(`redis cluster on ${port} never became ok`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      client.disconnect();
    }
  }
}

/**
 * `switchyard --cluster`: real server processes joined through the test's own redis-server on a
 * free port, ended by PID. Peers on different processes meet in one room; a process killed with
 * SIGKILL costs its peers exactly one `/leave` each, after its lease and their grace window.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  errorCodeOf,
  nextEvent,
  quietFor,
  rawClient,
  startRedis,
  startRedisCluster,
  waitUntil,
  waitFor,
  type RawClient,
  type RedisServer,
} from '@switchyard/testing';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Connector } from '@switchyard/protocol';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { sseConnector } from '@switchyard/transport-sse/client';
import { ConfigError, parseConfig } from './config.ts';
import { killServers, runSwitchyard, type ServerProcess } from './server-process.test-helper.ts';

let redis: RedisServer;
/** Each test's cluster lives in a Redis database of its own: a killed node's lease is no other test's. */
let db = 0;
const clusterUrl = () => `${redis.url}/${db}`;
const clients: RawClient[] = [];
const signallers: Signaller[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 15_000);
beforeEach(() => {
  db += 1;
});
afterEach(() => {
  for (const signaller of signallers.splice(0)) signaller.leave();
  for (const client of clients.splice(0)) client.pipe.close();
  killServers();
});
afterAll(() => redis?.stop());

const node = (id: string, graceMs = 1000, transports = 'ws', url = clusterUrl()) =>
  runSwitchyard([
    '--cluster',
    url,
    '--node-id',
    id,
    '--transports',
    transports,
    '--grace-ms',
    String(graceMs),
  ]);

/**
 * A load balancer without affinity: each request goes to the next server in turn, so an SSE
 * stream and its session's POSTs land on different nodes. It answers the `hiccup`th POST with
 * 503 itself, as a balancer between deploys does.
 */
async function roundRobin(servers: readonly ServerProcess[], hiccup = 0) {
  let turn = 0;
  let posts = 0;
  const routed: Array<{ method: string; port: number }> = [];
  const proxy = createHttpServer((request, response) => {
    if (request.method === 'POST' && ++posts === hiccup) {
      request.resume();
      return void response.writeHead(503).end('no upstream right now');
    }
    const port = servers[turn++ % servers.length]!.port;
    routed.push({ method: request.method ?? 'GET', port });
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    routed,
    close: () => {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}

async function join(server: ServerProcess, id: string, room: string): Promise<RawClient> {
  const client = await rawClient(webSocketConnector(`http://127.0.0.1:${server.port}`), [id, room]);
  clients.push(client);
  return client;
}

async function health(server: ServerProcess) {
  const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
  return (await response.json()) as { cluster?: { node: string; nodes: string[]; bus: string } };
}

describe('switchyard --cluster', () => {
  it('peers on two processes meet in one room; /healthz and /metrics show the cluster', async () => {
    const [one, two] = await Promise.all([node('one'), node('two')]);
    const a = await join(one, 'A', 'r');
    const b = await rawClient(webSocketConnector(`http://127.0.0.1:${two.port}`));
    clients.push(b);
    b.say('/announce|B|{"id":"B","room":"r"}');
    expect(await b.next()).toBe('/roominfo|{"memberCount":2}');
    expect(await a.next()).toBe('/announce|B|{"id":"B","room":"r"}');
    b.say('/to|A|/offer|B|{"sdp":"x"}');
    expect(await a.next()).toBe('/to|A|/offer|B|{"sdp":"x"}');
    const thief = await rawClient(webSocketConnector(`http://127.0.0.1:${two.port}`));
    clients.push(thief);
    thief.say('/announce|A|{"id":"A","room":"elsewhere"}');
    expect(errorCodeOf(await thief.next())).toBe('id-taken');

    // each node reads the live nodes once a lease renewal (1 s): 'two' may be newer than that
    const seen = await waitFor(async () => {
      const status = await health(one);
      return status.cluster?.nodes.length === 2 ? status : undefined;
    }, 'both nodes in /healthz');
    expect(seen.cluster).toMatchObject({ node: 'one', bus: 'up' });
    expect([...seen.cluster!.nodes].sort()).toEqual(['one', 'two']);
    const metrics = await (await fetch(`http://127.0.0.1:${one.port}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_cluster_frames_total\{direction="published"\} [1-9]/);
    expect(metrics).toMatch(/switchyard_cluster_frames_total\{direction="received"\} [1-9]/);
  }, 30_000);

  it('kill -9 of a process: each of its peers leaves the room once, within lease + grace', async () => {
    const [one, two] = await Promise.all([node('k1'), node('k2')]);
    const a = await join(one, 'A', 'room');
    await join(two, 'B', 'room');
    await join(two, 'C', 'room');
    await a.next((m) => m.startsWith('/announce|C'));
    const killed = Date.now();
    two.child.kill('SIGKILL');
    // lease 3 s + a renewal tick + the 1 s grace window
    await a.next((m) => m.startsWith('/leave|C'), 8000);
    const after = Date.now() - killed;
    await quietFor(1500);
    const leaves = a.received.filter((m) => m.startsWith('/leave'));
    expect(leaves.sort()).toEqual([
      '/leave|B|{"id":"B","reason":"disconnect"}',
      '/leave|C|{"id":"C","reason":"disconnect"}',
    ]);
    expect(after).toBeLessThan(7000);
    expect((await health(one)).cluster?.nodes).toEqual(['k1']);
  }, 30_000);

  it('kill -9 of the room’s home: the others stay without a word, its peers leave once each', async () => {
    const [one, two] = await Promise.all([node('h1'), node('h2')]);
    const a = await join(one, 'A', 'room'); // the first announce makes h1 the room's home
    const b = await join(two, 'B', 'room');
    const c = await join(two, 'C', 'room');
    await join(one, 'D', 'room');
    await b.next((m) => m.startsWith('/announce|D'));
    await c.next((m) => m.startsWith('/announce|D'));
    const [fromB, fromC] = [b.received.length, c.received.length];
    const killed = Date.now();
    one.child.kill('SIGKILL');
    for (const peer of [b, c])
      for (let n = 0; n < 2; n++) await peer.next((m) => m.startsWith('/leave'), 8000);
    const after = Date.now() - killed;
    await quietFor(1000);
    const gone = [
      '/leave|A|{"id":"A","reason":"disconnect"}',
      '/leave|D|{"id":"D","reason":"disconnect"}',
    ];
    expect(b.received.slice(fromB).sort()).toEqual(gone);
    expect(c.received.slice(fromC).sort()).toEqual(gone);
    expect(after).toBeLessThan(7000);
    b.say('/to|C|/after|B');
    expect(await c.next()).toBe('/to|C|/after|B');
    expect(a.closeInfo).toBeDefined();
  }, 30_000);

  it.each([
    ['the room’s home', true, 'h'],
    ['an edge of the room', false, 'e'],
  ] as const)(
    'SIGTERM drains a node, %s: its client reconnects at once elsewhere; nothing lost either way, nobody hears /leave',
    async (_role, homesRoom, tag) => {
      // a node that holds a lease and never answers: the drain waits one request timeout for it
      const ghost = new Redis(clusterUrl());
      await ghost.zadd('sy:{c}:nodes', Date.now() + 30_000, 'ghost');
      const [one, two] = await Promise.all([node(`d1${tag}`, 3000), node(`d2${tag}`, 3000)]);
      const room = `drain-${tag}`;
      // the first announce into a room makes its node the home
      const early = homesRoom ? undefined : await join(two, 'B', room);
      const urlOf = (server: ServerProcess) => `http://127.0.0.1:${server.port}`;
      // a load balancer in one line: the first connection reaches d1, every later one d2
      let opened = 0;
      const balanced: Connector = (options) =>
        webSocketConnector(urlOf(opened++ === 0 ? one : two))(options);
      const a = createSignaller(balanced, { id: 'A' });
      signallers.push(a);
      const atA: string[] = [];
      a.on('message:seq', (...args: unknown[]) => atA.push(String(args.at(-1))));
      a.announce({ room });
      await nextEvent(a, 'roominfo');
      const b = early ?? (await join(two, 'B', room));
      const fromB = b.received.length;
      // both talk every 10 ms before, during and after the drain
      const total = 200;
      let sent = 0;
      const talk = setInterval(() => {
        if (sent >= total) return;
        b.say(`/to|A|/seq|B|${sent}`);
        a.to('B').send('/seq', sent);
        sent++;
      }, 10);
      try {
        await waitUntil(() => sent >= 50, 'traffic before the drain', 5000);
        const started = Date.now();
        one.child.kill('SIGTERM');
        await waitFor(async () => opened >= 2 && a.readyState === 'connected', 'A on d2', 5000);
        expect(Date.now() - started).toBeLessThan(2000);
        await waitUntil(() => sent >= total, 'the rest of the traffic', 10_000);
      } finally {
        clearInterval(talk);
      }
      // the sender is stamped in each receiver's dialect: the number is the last field
      const numbers = (frames: readonly string[], prefix: string) =>
        frames
          .filter((m) => m.startsWith(prefix))
          .map((m) => Number(m.slice(m.lastIndexOf('|') + 1)));

      const all = Array.from({ length: total }, (_, n) => n);
      await waitUntil(() => atA.length >= total, `${total} messages at A`, 10_000);
      expect(numbers(atA, '/to|A|/seq|')).toEqual(all);
      await waitUntil(
        () => numbers(b.received, '/to|B|/seq|A|').length >= total,
        `${total} messages at B`,
        10_000,
      );
      expect(numbers(b.received, '/to|B|/seq|A|')).toEqual(all);
      await quietFor(3500); // past the grace window
      expect(
        b.received.slice(fromB).filter((m) => m.startsWith('/leave') || m.startsWith('/error')),
      ).toEqual([]);
      await ghost.zrem('sy:{c}:nodes', 'ghost');
      ghost.disconnect();
    },
    40_000,
  );

  it('a paused node (SIGSTOP past its lease, then SIGCONT) is fenced: one home per room, its stale frames dropped and counted', async () => {
    const [one, two] = await Promise.all([node('p1'), node('p2')]);
    const a = await join(one, 'A', 'paused'); // p1 homes the room
    const b = await join(two, 'B', 'paused');
    await a.next((m) => m.startsWith('/announce|B'));
    await waitFor(async () => (await health(two)).cluster?.nodes.includes('p1'), 'p2 seeing p1');
    one.child.kill('SIGSTOP');
    // p2 buries p1 after its 3 s lease, takes the room over from the mirror, A's grace ends
    expect(await b.next((m) => m.startsWith('/leave'), 8000)).toBe(
      '/leave|A|{"id":"A","reason":"disconnect"}',
    );
    // what A says now waits in the paused process's socket, for a room it no longer homes
    a.say('/to|B|/stale|A');
    a.say('/chat|A|stale');
    await quietFor(200);
    one.child.kill('SIGCONT');
    expect((await a.closed(5000)).code).toBe(1012);
    const directory = new Redis(clusterUrl());
    try {
      const homeKey = `sy:{r:${Buffer.from('paused').toString('base64url')}}`;
      expect(await directory.get(homeKey)).toBe('p2');
    } finally {
      directory.disconnect();
    }
    // A comes back to the node it was on: one room, an exact count, both ways
    const back = await rawClient(webSocketConnector(`http://127.0.0.1:${one.port}`));
    clients.push(back);
    back.say('/announce|A|{"id":"A","room":"paused"}');
    expect(await back.next()).toBe('/roominfo|{"memberCount":2}');
    back.say('/to|B|/fresh|A');
    expect(await b.next((m) => m.startsWith('/to'))).toBe('/to|B|/fresh|A');
    b.say('/to|A|/reply|B');
    expect(await back.next((m) => m.startsWith('/to'))).toBe('/to|A|/reply|B');
    await quietFor(300);
    expect(b.received.filter((m) => m.includes('stale'))).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${one.port}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_cluster_fenced_total 1\b/);
    expect(metrics).toMatch(/switchyard_cluster_dropped_total\{reason="fenced"\} [1-9]/);
  }, 30_000);

  it('SSE needs no sticky sessions: POSTs and the DELETE that reach the other node are forwarded to the stream’s', async () => {
    const [one, two] = await Promise.all([node('s1', 1000, 'ws,sse'), node('s2', 1000, 'ws,sse')]);
    const balancer = await roundRobin([one, two], 5);
    try {
      const w = await join(two, 'W', 'sse-room');
      const s = createSignaller(sseConnector(balancer.url), { id: 'S' });
      signallers.push(s);
      s.announce({ room: 'sse-room' });
      await nextEvent(s, 'roominfo');
      await w.next((m) => m.startsWith('/announce|S'));
      // 30 directed messages, every other POST through the node without the stream, one of them
      // answered 503 by the balancer (sent again, delivered once)
      for (let n = 0; n < 30; n++) s.to('W').send('/n', n);
      for (let n = 0; n < 30; n++) expect(await w.next()).toBe(`/to|W|/n|S|${n}`);
      await quietFor(100);
      expect(w.take()).toEqual([]);
      w.say('/to|S|/back|W');
      expect(await nextEvent(s, 'message:back', undefined, 5000)).toBeDefined();
      const posts = balancer.routed.filter((r) => r.method === 'POST');
      expect(new Set(posts.map((r) => r.port))).toEqual(new Set([one.port, two.port]));
      // an unknown session that names a live node: that node's 404, through the other
      const stream = balancer.routed.find((r) => r.method === 'GET')!;
      const other = stream.port === one.port ? two : one;
      const ghost = `${Buffer.from(stream.port === one.port ? 's1' : 's2').toString('base64url')}.nope`;
      const answer = await fetch(`http://127.0.0.1:${other.port}/sse/${ghost}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '/x|S|y',
      });
      expect(answer.status).toBe(404);
      // leaving ends the session with a DELETE, wherever it lands: W hears the /leave
      s.leave();
      expect(await w.next((m) => m.startsWith('/leave'), 5000)).toBe(
        '/leave|S|{"id":"S","reason":"leave"}',
      );
    } finally {
      balancer.close();
    }
  }, 30_000);

  it('on a 3-master Redis Cluster (redis-cluster://): peers on two processes meet, and /healthz says the bus is up', async () => {
    await using shards = await startRedisCluster(3);
    const [one, two] = await Promise.all([
      node('c1', 1000, 'ws', shards.url),
      node('c2', 1000, 'ws', shards.url),
    ]);
    const a = await join(one, 'A', 'sharded');
    const b = await join(two, 'B', 'sharded');
    expect(b.received[0]).toBe('/roominfo|{"memberCount":2}');
    b.say('/to|A|/hello|B');
    expect(await a.next((m) => m.startsWith('/to'))).toBe('/to|A|/hello|B');
    a.say('/to|B|/back|A');
    expect(await b.next((m) => m.startsWith('/to'))).toBe('/to|B|/back|A');
    const seen = await waitFor(async () => {
      const status = await health(one);
      return status.cluster?.nodes.length === 2 ? status : undefined;
    }, 'both nodes in /healthz');
    expect(seen.cluster).toMatchObject({ node: 'c1', bus: 'up' });
  }, 40_000);

  it('--cluster takes redis:// and rediss:// URLs, from SWITCHYARD_CLUSTER too; --node-id is checked', () => {
    expect(parseConfig(['--cluster', 'redis://127.0.0.1:6379/2'], {}).cluster).toBe(
      'redis://127.0.0.1:6379/2',
    );
    expect(
      parseConfig([], { SWITCHYARD_CLUSTER: 'rediss://:pw@redis.internal:6380' }).cluster,
    ).toBe('rediss://:pw@redis.internal:6380');
    expect(() => parseConfig(['--cluster', 'http://x'], {})).toThrow(ConfigError);
    expect(
      parseConfig(['--cluster', 'redis-cluster://:pw@10.0.0.1:7000,10.0.0.2:7001'], {}).cluster,
    ).toBe('redis-cluster://:pw@10.0.0.1:7000,10.0.0.2:7001');
    expect(() => parseConfig(['--cluster', 'redis-cluster://no-port'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--cluster', 'mqtt://:secret@x'], {})).toThrow(/\/\/\*\*\*@x/);
    expect(parseConfig(['--node-id', 'eu-1'], {}).nodeId).toBe('eu-1');
    expect(() => parseConfig(['--node-id', 'a|b'], {})).toThrow(ConfigError);
  });
});

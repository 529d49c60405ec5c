import { describe, expect, it } from 'vitest';
import { memoryServer, type MemoryServer } from '@switchyard/transport-memory/server';
import { describeCluster, errorCodeOf, quietFor, rawClient, waitUntil } from '@switchyard/testing';
import { createMemoryCluster } from './memory.ts';
import { createClusterNode, type ClusterNode } from './node.ts';
import { decodeBus, encodeBus, type BusFrame } from './wire.ts';

const GRACE_MS = 300;

describeCluster('memory backplane', async (size) => {
  const cluster = createMemoryCluster();
  const nodes: ClusterNode[] = [];
  const servers: MemoryServer[] = [];
  for (let n = 0; n < size; n++) {
    const node = createClusterNode(cluster.join(`n${n}`), { graceMs: GRACE_MS });
    nodes.push(node);
    servers.push(memoryServer(node.accept));
  }
  return {
    graceMs: GRACE_MS,
    connector: (index) => servers[index]!.connector,
    async kill(index) {
      // the node's clients lose their connections with it, as when its process dies
      cluster.kill(`n${index}`);
      await servers[index]!.close(1006);
    },
    async [Symbol.asyncDispose]() {
      for (const server of servers) await server.close();
      for (const node of nodes) await node.close();
    },
  };
});

describe('fencing (docs/cluster.md, "Fencing")', () => {
  it('a paused home is fenced: one home per room remains, its stale frames go nowhere, its clients reconnect', async () => {
    const cluster = createMemoryCluster();
    const nodes = ['n0', 'n1'].map((id) => createClusterNode(cluster.join(id), { graceMs: 200 }));
    const servers = nodes.map((node) => memoryServer(node.accept));
    try {
      const a = await rawClient(servers[0]!.connector, ['A', 'r']); // n0 homes r
      const b = await rawClient(servers[1]!.connector, ['B', 'r']);
      await a.next((m) => m.startsWith('/announce|B'));
      cluster.pause('n0');
      // n1 takes r over from the mirror; A does not come back in its grace window
      expect(await b.next((m) => m.startsWith('/leave'), 2000)).toBe(
        '/leave|A|{"id":"A","reason":"disconnect"}',
      );
      expect(cluster.homeOf('r')).toBe('n1');
      // the paused node still believes it homes r: what A says there goes nowhere
      a.say('/to|B|/stale|A');
      a.say('/chat|A|stale');
      await quietFor(50);
      cluster.resume('n0');
      expect(nodes[0]!.fenced).toBe(1);
      expect((await a.closed()).code).toBe(1012);
      expect(nodes[0]!.hub.rooms()).toEqual([]);
      expect(cluster.homeOf('r')).toBe('n1');
      // A reconnects to the node it was on: one room, exact count, both ways
      const back = await rawClient(servers[0]!.connector, ['A', 'r']);
      expect(back.received[0]).toBe('/roominfo|{"memberCount":2}');
      back.say('/to|B|/fresh|A');
      expect(await b.next((m) => m.startsWith('/to'))).toBe('/to|B|/fresh|A');
      b.say('/to|A|/reply|B');
      expect(await back.next((m) => m.startsWith('/to'))).toBe('/to|A|/reply|B');
      expect(b.received.filter((m) => m.includes('stale'))).toEqual([]);
      back.pipe.close();
      b.pipe.close();
    } finally {
      for (const server of servers) await server.close();
      for (const node of nodes) await node.close();
    }
  });
});

describe('principals across a home’s death', () => {
  it('a member restored from the mirror keeps its principal: another principal cannot take its id in the window, its own can', async () => {
    const cluster = createMemoryCluster();
    // the announce token is the principal (docs/protocol.md §4.7)
    const authenticate = ({ token }: { token?: string }) =>
      ({ ok: true, ...(token !== undefined && { principal: token }) }) as const;
    const nodes = ['n0', 'n1', 'n2'].map((id) =>
      createClusterNode(cluster.join(id), { graceMs: 2000 }, { authenticate }),
    );
    const servers = nodes.map((node) => memoryServer(node.accept));
    try {
      const say = async (server: number, id: string, token: string) => {
        const client = await rawClient(servers[server]!.connector);
        client.say(`/announce|${id}|${JSON.stringify({ id, room: 'owned', token })}`);
        return client;
      };
      const x = await say(0, 'X', 'alice'); // n0 homes the room; X is alice's
      await x.next((m) => m.startsWith('/roominfo'));
      const y = await say(1, 'Y', 'bob');
      await y.next((m) => m.startsWith('/roominfo'));
      cluster.kill('n0');
      await servers[0]!.close(1006);
      // n1 takes the room over and restores X, still alice's, in its grace window
      await waitUntil(() => cluster.homeOf('owned') === 'n1', 'the room taken over', 2000);
      const thief = await say(2, 'X', 'mallory');
      expect(errorCodeOf(await thief.next())).toBe('id-taken');
      const back = await say(2, 'X', 'alice');
      expect(await back.next()).toBe('/roominfo|{"memberCount":2}');
      await quietFor(50);
      expect(y.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
      for (const client of [y, thief, back]) client.pipe.close();
    } finally {
      for (const server of servers) await server.close();
      for (const node of nodes) await node.close();
    }
  });
});

describe('bus frames', () => {
  it('round-trip with raw client frames last, room names with separators escaped', () => {
    const frames: BusFrame[] = [
      { kind: 'J', link: 'n1.4', room: 'a|b%7C', context: '{"transport":"ws"}' },
      { kind: 'M', link: 'n1.4', frame: '/to|B|/offer|A|{"sdp":"v=0\\u007c"}' },
      { kind: 'D', link: 'n1.4', frame: '/chat|A|x|y' },
      { kind: 'C', link: 'n1.4' },
      { kind: 'C', link: 'n1.4', code: 1006 },
      { kind: 'X', link: 'n1.4', code: 4009, reason: 'id taken | over' },
      { kind: 'Q', req: 'n2.9', request: 'release', arg: 'moved|A|B' },
      { kind: 'R', req: 'n2.9', answer: '1' },
    ];
    for (const frame of frames) expect(decodeBus(encodeBus(frame))).toEqual(frame);
    for (const junk of ['', 'J', 'Z|x', 'J|only-link', 'M'])
      expect(decodeBus(junk)).toBeUndefined();
  });
});

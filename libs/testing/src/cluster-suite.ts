/**
 * The cluster conformance suite: docs/protocol.md's rules with peers on different nodes, for any
 * backplane. `make` builds a cluster of `size` nodes; each node hands out client connectors.
 */
import { describe, expect, it } from 'vitest';
import type { Connector } from '@switchyard/protocol';
import { quietFor } from '@switchyard/test-kit';
import { errorCodeOf, rawClient, type RawClient } from './raw-client.ts';

/** A cluster under test. */
export interface TestCluster extends AsyncDisposable {
  /** A connector to node `index`. */
  connector(index: number): Connector;
  /** Node `index` dies without a word. */
  kill(index: number): Promise<void>;
  /** The grace window its hubs use. */
  readonly graceMs: number;
}

export type MakeCluster = (size: number) => Promise<TestCluster>;

const leaves = (client: RawClient) =>
  client.received.filter((message) => message.startsWith('/leave|'));

export function describeCluster(name: string, make: MakeCluster): void {
  const join = (cluster: TestCluster, node: number, id: string, room: string) =>
    rawClient(cluster.connector(node), [id, room]);

  describe(`cluster conformance: ${name}`, () => {
    it('peers on two nodes meet: memberCount counts both, announces relay byte-identical, /to both ways', async () => {
      await using cluster = await make(2);
      await using a = await join(cluster, 0, 'A', 'r');
      const b = await rawClient(cluster.connector(1));
      b.say('/announce|B|{"id":"B","room":"r","name":"bee"}');
      expect(await b.next()).toBe('/roominfo|{"memberCount":2}');
      expect(await a.next()).toBe('/announce|B|{"id":"B","room":"r","name":"bee"}');
      a.say('/to|B|/offer|A|{"sdp":"x"}');
      expect(await b.next()).toBe('/to|B|/offer|A|{"sdp":"x"}');
      b.say('/to|A|/answer|B|{"sdp":"y"}');
      expect(await a.next()).toBe('/to|A|/answer|B|{"sdp":"y"}');
      b.pipe.close();
    });

    it('memberCount is exact cluster-wide, and a broadcast reaches every other member once', async () => {
      await using cluster = await make(3);
      const members: RawClient[] = [];
      for (let n = 0; n < 6; n++) {
        const client = await rawClient(cluster.connector(n % 3));
        client.say(`/announce|P${n}|${JSON.stringify({ id: `P${n}`, room: 'big' })}`);
        expect(await client.next((m) => m.startsWith('/roominfo'))).toBe(
          `/roominfo|{"memberCount":${n + 1}}`,
        );
        members.push(client);
      }
      for (const member of members) member.take();
      members[4]!.say('/chat|P4|hello');
      for (const [n, member] of members.entries()) {
        if (n === 4) continue;
        expect(await member.next()).toBe('/chat|P4|hello');
      }
      await quietFor(50);
      for (const member of members) expect(member.take()).toEqual([]);
      for (const member of members) member.pipe.close();
    });

    it('/to reaches only a member of the sender’s room, and senders are checked', async () => {
      await using cluster = await make(2);
      await using a = await join(cluster, 0, 'A', 'one');
      await using c = await join(cluster, 1, 'C', 'other');
      a.say('/to|C|/hi|A');
      expect(errorCodeOf(await a.next())).toBe('unknown-target');
      await using b = await join(cluster, 1, 'B', 'one');
      a.take();
      b.say('/to|A|/hi|C');
      expect(errorCodeOf(await b.next())).toBe('sender-mismatch');
      await quietFor(30);
      expect(a.take()).toEqual([]);
      expect(c.take()).toEqual([]);
    });

    it('keeps each sender’s order across nodes: 150 mixed /to and broadcasts (inside the rate limit burst), each once, in order', async () => {
      await using cluster = await make(3);
      await using a = await join(cluster, 0, 'A', 'fifo');
      await using b = await join(cluster, 1, 'B', 'fifo');
      await using c = await join(cluster, 2, 'C', 'fifo');
      const [fromB, fromC] = [b.received.length, c.received.length];
      for (let n = 0; n < 150; n++) a.say(n % 3 === 0 ? `/chat|A|${n}` : `/to|B|/seq|A|${n}`);
      await b.next((m) => m.endsWith('|149'), 5000);
      const ours = (m: string) => m.startsWith('/to|B|/seq|A|') || m.startsWith('/chat|A|');
      const seen = b.received
        .slice(fromB)
        .filter(ours)
        .map((m) => Number(m.slice(m.lastIndexOf('|') + 1)));
      expect(seen).toEqual(Array.from({ length: 150 }, (_, n) => n));
      await c.next((m) => m === '/chat|A|147');
      const atC = c.received
        .slice(fromC)
        .filter(ours)
        .map((m) => Number(m.slice(m.lastIndexOf('|') + 1)));
      expect(atC).toEqual(Array.from({ length: 50 }, (_, n) => n * 3));
    });

    it('an id is unique cluster-wide: a live holder on another node keeps it', async () => {
      await using cluster = await make(2);
      await using a = await join(cluster, 0, 'A', 'one');
      const thief = await rawClient(cluster.connector(1));
      thief.say('/announce|A|{"id":"A","room":"two"}');
      expect(errorCodeOf(await thief.next())).toBe('id-taken');
      a.say('/chat|A|still here');
      thief.pipe.close();
      expect(a.closeInfo).toBeUndefined();
    });

    it('a hard disconnect on one node and a reconnect to another inside the grace window loses nothing', async () => {
      await using cluster = await make(3);
      const a = await join(cluster, 0, 'A', 'blip');
      await using b = await join(cluster, 1, 'B', 'blip');
      a.pipe.close(1006, 'network gone');
      await quietFor(20);
      for (let n = 0; n < 6; n++) b.say(`/to|A|/m|B|${n}`);
      await using back = await rawClient(cluster.connector(2));
      back.say('/announce|A|{"id":"A","room":"blip"}');
      expect(await back.next()).toBe('/roominfo|{"memberCount":2}');
      for (let n = 0; n < 6; n++) expect(await back.next()).toBe(`/to|A|/m|B|${n}`);
      await quietFor(cluster.graceMs + 100);
      expect(leaves(b)).toEqual([]);
      b.say('/to|A|/after|B');
      expect(await back.next()).toBe('/to|A|/after|B');
    });

    it('a re-announce into a room homed on another node moves the member: /leave "moved" in the old room', async () => {
      await using cluster = await make(2);
      await using a = await join(cluster, 0, 'A', 'first');
      await using b = await join(cluster, 0, 'B', 'first');
      await using c = await join(cluster, 1, 'C', 'second');
      b.take();
      a.say('/announce|A|{"id":"A","room":"second"}');
      expect(await a.next((m) => m.startsWith('/roominfo'))).toBe('/roominfo|{"memberCount":2}');
      expect(await b.next()).toBe('/leave|A|{"id":"A","reason":"moved"}');
      expect(await c.next()).toBe('/announce|A|{"id":"A","room":"second"}');
      a.say('/to|C|/hi|A');
      expect(await c.next()).toBe('/to|C|/hi|A');
    });

    it('a node that dies takes its peers with it: one /leave each after the grace window; the rest talk on', async () => {
      await using cluster = await make(3);
      await using a = await join(cluster, 0, 'A', 'r');
      const doomed = await join(cluster, 1, 'D', 'r');
      await using c = await join(cluster, 2, 'C', 'r');
      a.take();
      await cluster.kill(1);
      expect(await a.next((m) => m.startsWith('/leave'), cluster.graceMs + 3000)).toBe(
        '/leave|D|{"id":"D","reason":"disconnect"}',
      );
      await c.next((m) => m.startsWith('/leave'), 3000);
      await quietFor(100);
      expect(leaves(a)).toHaveLength(1);
      expect(leaves(c)).toHaveLength(1);
      a.say('/to|C|/still|A');
      expect(await c.next((m) => m.startsWith('/to'))).toBe('/to|C|/still|A');
      doomed.pipe.close();
    });

    it('a room whose home dies lives on: members elsewhere hear nothing but one /leave per peer of the dead node', async () => {
      await using cluster = await make(3);
      const a = await join(cluster, 0, 'A', 'home'); // the room's home is node 0
      await using b = await join(cluster, 1, 'B', 'home');
      await using c = await join(cluster, 2, 'C', 'home');
      const d = await join(cluster, 0, 'D', 'home');
      await b.next((m) => m.startsWith('/announce|D'));
      await c.next((m) => m.startsWith('/announce|D'));
      const [fromB, fromC] = [b.received.length, c.received.length];
      await cluster.kill(0);
      const gone = [
        '/leave|A|{"id":"A","reason":"disconnect"}',
        '/leave|D|{"id":"D","reason":"disconnect"}',
      ];
      for (const peer of [b, c])
        for (let n = 0; n < 2; n++)
          await peer.next((m) => m.startsWith('/leave'), cluster.graceMs + 8000);
      await quietFor(200);
      expect(b.received.slice(fromB).sort()).toEqual(gone);
      expect(c.received.slice(fromC).sort()).toEqual(gone);
      b.say('/to|C|/after|B');
      expect(await c.next()).toBe('/to|C|/after|B');
      c.say('/chat|C|still here');
      expect(await b.next()).toBe('/chat|C|still here');
      await using e = await rawClient(cluster.connector(1));
      e.say('/announce|E|{"id":"E","room":"home"}');
      expect(await e.next()).toBe('/roominfo|{"memberCount":3}');
      a.pipe.close();
      d.pipe.close();
    }, 30_000);
  });
}

import { describe, expect, it } from 'vitest';
import { memoryServer, type MemoryServer } from '@switchyard/transport-memory/server';
import { describeCluster } from '@switchyard/testing';
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

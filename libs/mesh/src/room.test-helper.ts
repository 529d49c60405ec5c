/**
 * Meshes over a real hub for Node tests: an in-process hub on the memory transport, real
 * WebRTC (`@roamhq/wrtc`) restricted to UDP host candidates on 127.0.0.1 (wrtc also gathers the
 * machine's other interfaces).
 */
import wrtc from '@roamhq/wrtc';
import { createHub, type Hub } from '@switchyard/hub';
import type { Connector } from '@switchyard/protocol';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { memoryServer } from '@switchyard/transport-memory';
import { createMesh } from './mesh.ts';
import type { Mesh, MeshOptions } from './types.ts';

export const loopbackOnly = (candidate: string) =>
  /^candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(candidate);

export interface Member {
  readonly signaller: Signaller;
  readonly mesh: Mesh;
}

export interface TestRoom extends AsyncDisposable {
  readonly hub: Hub;
  /** A new signaller with id `id` and a mesh on it in the room. */
  join(id: string, options?: Partial<MeshOptions>): Member;
  /** A signaller in the room without a mesh (to send hand-made signals). */
  signaller(id: string): Signaller;
  /** While closed, `id`'s signaller cannot connect (its reconnects fail). */
  gate(id: string, closed: boolean): void;
}

export function testRoom(room = 'mesh'): TestRoom {
  const hub = createHub({ graceMs: 3000 });
  const server = memoryServer(hub.accept);
  const members: Member[] = [];
  const signallers: Signaller[] = [];
  const gated = new Set<string>();
  const signaller = (id: string) => {
    const connector: Connector = async (open) => {
      if (gated.has(id)) throw new Error(`${id} is gated`);
      return server.connector(open);
    };
    const created = createSignaller(connector, { id, reconnectDelay: () => 20 });
    signallers.push(created);
    return created;
  };
  return {
    hub,
    signaller,
    gate: (id, closed) => void (closed ? gated.add(id) : gated.delete(id)),
    join(id, options = {}) {
      const member = {
        signaller: signaller(id),
        mesh: undefined as unknown as Mesh,
      };
      member.mesh = createMesh(member.signaller, {
        room,
        wrtc,
        filterCandidate: loopbackOnly,
        restart: { rebuildDelay: () => 50 },
        ...options,
      });
      members.push(member);
      return member;
    },
    async [Symbol.asyncDispose]() {
      for (const member of members) member.mesh.close();
      for (const created of signallers) created.leave();
      await server.close();
      hub.close();
    },
  };
}

/**
 * The mesh over real WebRTC in Node (`@roamhq/wrtc`, loopback only) and a real hub: full mesh,
 * channels, files, leave, ICE restart, rebuild, a signalling blip, stale and malformed signals.
 */
import { describe, expect, it } from 'vitest';
import { nextCall, quietFor, waitUntil } from '@switchyard/test-kit';
import { fileTransfer } from './files.ts';
import { testRoom, type Member } from './room.test-helper.ts';
import type { LeavePayload, MessageSource } from '@switchyard/signaller';
import type { MeshData, MeshPeer } from './types.ts';

const connectedTo = (member: Member, ...ids: string[]) =>
  ids.every((id) => member.mesh.peers.get(id)?.state === 'connected');

function received(member: Member) {
  const seen: string[] = [];
  member.mesh.on('peer:data', (peer, data) => seen.push(`${peer.id}:${String(data)}`));
  return seen;
}

const ufrag = (pc: RTCPeerConnection | undefined) =>
  /a=ice-ufrag:(\S+)/.exec(pc?.remoteDescription?.sdp ?? '')?.[1];

describe('createMesh over wrtc', () => {
  it('connects every pair of three, data both ways on the default channel and a named one', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    const c = room.join('c');
    await waitUntil(
      () => connectedTo(a, 'b', 'c') && connectedTo(b, 'a', 'c') && connectedTo(c, 'a', 'b'),
      'three connected pairs',
      10_000,
    );
    // the lower id offers: no glare, whatever the join order
    expect(a.mesh.peers.get('b')!.initiator).toBe(true);
    expect(b.mesh.peers.get('a')!.initiator).toBe(false);
    expect(a.mesh.peers.get('b')!.original).toBe(false);

    const atA = received(a);
    const atC = received(c);
    b.mesh.broadcast('hello from b');
    c.mesh.peers.get('a')!.send('direct from c');
    a.mesh.peers.get('c')!.send('\u0000starts with NUL');
    await waitUntil(() => atA.length === 2 && atC.length === 2, 'the default-channel messages');
    expect(atA.sort()).toEqual(['b:hello from b', 'c:direct from c']);
    expect(atC.sort()).toEqual(['a:\u0000starts with NUL', 'b:hello from b']);

    const chatAtB: string[] = [];
    b.mesh
      .channel('chat')
      .on('message', (peer, data) => chatAtB.push(`${peer.id}:${String(data)}`));
    const bytes: MeshData[] = [];
    b.mesh.channel('bin').on('message', (_peer, data) => bytes.push(data));
    a.mesh.channel('chat').send('hi on chat', 'b');
    c.mesh.channel('chat').send('chat to all');
    a.mesh.channel('bin').send(new Uint8Array([0, 1, 2, 255]), 'b');
    await waitUntil(() => chatAtB.length === 2 && bytes.length === 1, 'named-channel messages');
    expect(chatAtB.sort()).toEqual(['a:hi on chat', 'c:chat to all']);
    expect([...(bytes[0] as Uint8Array)]).toEqual([0, 1, 2, 255]);
    // nothing of the named channels leaked onto the default one
    expect(atA).toHaveLength(2);
    expect(a.mesh.stats()).toMatchObject({ staleSignals: 0, invalidSignals: 0, rebuilds: 0 });
  });

  it('sends a 1 MiB file in chunks with progress, intact', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b') && connectedTo(b, 'a'), 'a connected pair', 10_000);
    const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 7919) % 251);
    const incoming = fileTransfer(b.mesh);
    const progress: number[] = [];
    incoming.on('progress', (_peer, { done }) => progress.push(done));
    const file = nextCall<[MeshPeer, { name: string; bytes: Uint8Array }]>(
      (listener) => incoming.on('file', listener),
      'the file',
      () => true,
      15_000,
    );
    const sent: number[] = [];
    await fileTransfer(a.mesh).send('b', { name: 'blob.bin', bytes }, ({ done }) =>
      sent.push(done),
    );
    const [from, got] = await file;
    expect(from.id).toBe('a');
    expect(got.name).toBe('blob.bin');
    expect(Buffer.from(got.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(progress).toHaveLength(64);
    expect(sent.at(-1)).toBe(bytes.length);
  });

  it('a peer that leaves is gone within 2 s, and nobody rebuilds towards it', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b'), 'a connected pair', 10_000);
    const left = nextCall<[MeshPeer, string]>(
      (l) => a.mesh.on('peer:left', l),
      'peer:left',
      () => true,
      2000,
    );
    b.signaller.leave();
    const [peer, reason] = await left;
    expect([peer.id, reason, peer.state]).toEqual(['b', 'leave', 'closed']);
    expect(a.mesh.peers.size).toBe(0);
    expect(a.mesh.stats().rebuilds).toBe(0);
  });

  it('restarts ICE on request: the ufrag changes, the connection object and data stay', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b') && connectedTo(b, 'a'), 'a connected pair', 10_000);
    const pcAtB = b.mesh.peers.get('a')!.connection;
    const before = ufrag(pcAtB);
    // the non-initiator asks; the initiator restarts
    b.mesh.restartIce('a');
    await waitUntil(
      () => ufrag(pcAtB) !== before && connectedTo(b, 'a'),
      'a new remote ufrag',
      10_000,
    );
    expect(b.mesh.peers.get('a')!.connection).toBe(pcAtB);
    const atB = received(b);
    a.mesh.broadcast('after the restart');
    await waitUntil(() => atB.length === 1, 'data after the restart');
    expect(a.mesh.stats().iceRestarts).toBe(1);
    expect(b.mesh.stats().iceRestarts).toBe(1);
  });

  it('rebuilds a connection that closed, with fresh session ids on both sides', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b') && connectedTo(b, 'a'), 'a connected pair', 10_000);
    const old = a.mesh.peers.get('b')!.connection!;
    old.close();
    await waitUntil(
      () => a.mesh.peers.get('b')!.connection !== old && connectedTo(a, 'b') && connectedTo(b, 'a'),
      'the rebuilt connection',
      15_000,
    );
    const atB = received(b);
    a.mesh.broadcast('on the new connection');
    await waitUntil(() => atB.length === 1, 'data on the rebuilt connection');
    expect(a.mesh.stats().rebuilds).toBeGreaterThanOrEqual(1);
  });

  it('keeps the call through a signalling blip inside the grace window: same connection, no rebuild', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b') && connectedTo(b, 'a'), 'a connected pair', 10_000);
    const pcs = [a.mesh.peers.get('b')!.connection, b.mesh.peers.get('a')!.connection];
    const atA = received(a);
    const reannounced = nextCall((l) => a.signaller.on('peer:update', l), "b's re-announce");
    room.hub.disconnect('b');
    b.mesh.broadcast('while b is offline');
    await reannounced;
    b.mesh.broadcast('after b is back');
    await waitUntil(() => atA.length === 2, 'data across the blip');
    expect([a.mesh.peers.get('b')!.connection, b.mesh.peers.get('a')!.connection]).toEqual(pcs);
    expect(a.mesh.stats().rebuilds + b.mesh.stats().rebuilds).toBe(0);
  });

  it('keeps a live call when the hub reports a signalling disconnect after the grace window', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b') && connectedTo(b, 'a'), 'a connected pair', 10_000);
    const pc = a.mesh.peers.get('b')!.connection;
    const leave = nextCall<[LeavePayload, MessageSource, string]>(
      (l) => a.signaller.on('message:leave', l),
      "the hub's /leave",
      () => true,
      6000,
    );
    room.gate('b', true);
    room.hub.disconnect('b');
    const [payload] = await leave;
    expect(payload).toEqual({ id: 'b', reason: 'disconnect' });
    const atA = received(a);
    b.mesh.broadcast('over the call, with no signalling');
    await waitUntil(() => atA.length === 1, 'data with b out of the room');
    expect(a.mesh.peers.get('b')!.state).toBe('connected');
    const back = nextCall((l) => a.signaller.on('peer:announce', l), "b's announce");
    room.gate('b', false);
    await back;
    await quietFor(200);
    expect(a.mesh.peers.get('b')!.connection).toBe(pc);
    expect(a.mesh.stats().rebuilds).toBe(0);
  });

  it('drops stale and malformed signals, counted, and ignores /endofcandidates', async () => {
    await using room = testRoom();
    const a = room.join('a');
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b') && connectedTo(b, 'a'), 'a connected pair', 10_000);
    const pc = a.mesh.peers.get('b')!.connection;
    const toA = b.signaller.to('a');
    toA.send('/sdp', { type: 'offer', sdp: 'v=0\r\n', sid: 'an-old-session', to: 'an-old-one' });
    toA.send('/candidate', { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', to: 'x' });
    toA.send('/candidate', { candidate: 5 });
    toA.send('/sdp', { type: 'pranswer', sdp: 'v=0' });
    toA.send('/ready', 'no object');
    toA.send('/endofcandidates', {});
    await waitUntil(() => a.mesh.stats().invalidSignals === 3, 'the malformed signals counted');
    expect(a.mesh.stats().staleSignals).toBe(2);
    await quietFor(200);
    expect(a.mesh.peers.get('b')!.connection).toBe(pc);
    expect(a.mesh.peers.get('b')!.state).toBe('connected');
  });

  it('connects to at most maxPeers and takes the next peer when one leaves', async () => {
    await using room = testRoom();
    const a = room.join('a', { maxPeers: 1 });
    const b = room.join('b');
    await waitUntil(() => connectedTo(a, 'b'), 'a connected to b', 10_000);
    const c = room.join('c');
    await waitUntil(() => connectedTo(c, 'b'), 'c connected to b', 10_000);
    expect([...a.mesh.peers.keys()]).toEqual(['b']);
    b.signaller.leave();
    await waitUntil(() => connectedTo(a, 'c'), 'a connected to c after b left', 10_000);
  });
});

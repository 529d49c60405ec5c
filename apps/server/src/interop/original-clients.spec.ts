/**
 * Interop, direction 1: original rtc-signaller@6.3.0 clients, through the real
 * rtc-switchboard-messenger@2.0.4 / messenger-ws@3.0.1, against the Switchyard server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { quietFor, waitUntil } from '@switchyard/testing';
import {
  asObject,
  asRecord,
  createFleet,
  knowEachOther,
  newRoom,
  originalEvent,
  peerOf,
  recordEvents,
  type Original,
} from './interop.test-helper.ts';

const GRACE_MS = 500;

const fleet = createFleet();
afterEach(() => fleet.dispose());

/** Announces and resolves with the `/roominfo` the original received: [data, raw]. */
async function join(
  original: Original,
  room: string,
  data: Record<string, unknown> = {},
): Promise<[Record<string, unknown>, unknown]> {
  const info = originalEvent(original, 'message:roominfo');
  original.announce({ room, ...data });
  const [payload, raw] = await info;
  return [asObject(payload), raw];
}

describe('original clients → Switchyard server (WebSocket, rtc-switchboard-messenger)', () => {
  it('announce gets /roominfo with the member count, counting the announcer', async () => {
    const server = await fleet.server(GRACE_MS);
    const room = newRoom();
    const [alice, bob] = [fleet.original(), fleet.original()];
    const [first, firstRaw] = await join(alice, room);
    expect(first).toEqual({ memberCount: 1 });
    expect(firstRaw).toBe('/roominfo|{"memberCount":1}');
    const [second, secondRaw] = await join(bob, room);
    expect(second).toEqual({ memberCount: 2 });
    expect(secondRaw).toBe('/roominfo|{"memberCount":2}');
    const [other] = await join(fleet.original(), newRoom());
    expect(other).toEqual({ memberCount: 1 });
    expect(server.hub.roomMembers(room)).toEqual([alice.id, bob.id]);
    // let the announce and its auto-reply land before the clients leave (see knowEachOther)
    await knowEachOther([alice, bob]);
  });

  it('a newcomer is announced to the room, and the old member auto-replies with a /to announce', async () => {
    await fleet.server(GRACE_MS);
    const room = newRoom();
    const alice = fleet.original();
    const bob = fleet.original();
    await join(alice, room, { name: 'alice' });
    const atAlice = originalEvent(alice, 'peer:announce');
    const atBob = originalEvent(bob, 'peer:announce');
    const reply = originalEvent(bob, 'rawdata', (frame) =>
      String(frame).startsWith(`/to|${bob.id}|/announce|`),
    );
    await join(bob, room, { name: 'bob' });

    const [bobData, bobRecord] = await atAlice;
    expect(bobData).toMatchObject({
      id: bob.id,
      room,
      name: 'bob',
      agent: 'signaller@6.3.0',
      browser: 'node',
      browserVersion: expect.any(String),
    });
    expect(asRecord(bobRecord)).toMatchObject({ id: bob.id, data: { name: 'bob' } });

    // the reply travels as /to|<bob>|/announce|<alice>|… and is relayed untouched (bare dialect)
    const [frame] = await reply;
    const fields = String(frame).split('|');
    expect(fields.slice(0, 4)).toEqual(['/to', bob.id, '/announce', alice.id]);
    expect(JSON.parse(fields.slice(4).join('|'))).toMatchObject({ id: alice.id, name: 'alice' });
    const [aliceData, aliceRecord] = await atBob;
    expect(aliceData).toMatchObject({ id: alice.id, room, name: 'alice' });
    expect(asRecord(aliceRecord).id).toBe(alice.id);
    expect(alice.isMaster(bob.id)).toBe(alice.id < bob.id);
    expect(bob.isMaster(alice.id)).toBe(bob.id < alice.id);
  });

  it('a re-announce reaches the others as peer:update, never as a second peer:announce', async () => {
    await fleet.server(GRACE_MS);
    const room = newRoom();
    const alice = fleet.original();
    const bob = fleet.original();
    await join(alice, room);
    await join(bob, room);
    await knowEachOther([alice, bob]);
    const announces = recordEvents(bob, 'peer:announce');
    const update = originalEvent(bob, 'peer:update');
    const roominfo = originalEvent(alice, 'message:roominfo');
    alice.announce({ status: 'away' });
    const [data, senderId] = await update;
    expect(data).toMatchObject({ id: alice.id, status: 'away' });
    // docs/conformance.md Q29: peer:update's second argument is the sender id, not a record
    expect(senderId).toBe(alice.id);
    expect(asObject((await roominfo)[0])).toEqual({ memberCount: 2 });
    expect(peerOf(bob, alice.id)?.data).toMatchObject({ status: 'away' });
    await quietFor(100);
    expect(announces.calls).toEqual([]);
  });

  it('a broadcast reaches every other member of the room, with the sender record and the raw frame', async () => {
    await fleet.server(GRACE_MS);
    const room = newRoom();
    const [alice, bob, carol] = [fleet.original(), fleet.original(), fleet.original()];
    await join(alice, room);
    await join(bob, room);
    await join(carol, room);
    await knowEachOther([alice, bob, carol]);
    const echo = recordEvents(alice, 'message:chat');
    const atBob = originalEvent(bob, 'message:chat');
    const atCarol = originalEvent(carol, 'message:chat');
    alice.send('/chat', { text: 'hello everyone' });
    for (const [payload, source, raw] of [await atBob, await atCarol]) {
      expect(payload).toEqual({ text: 'hello everyone' });
      expect(asRecord(source)).toMatchObject({ id: alice.id, data: { id: alice.id, room } });
      expect(raw).toBe(`/chat|${alice.id}|{"text":"hello everyone"}`);
    }
    await quietFor(100);
    expect(echo.calls).toEqual([]);
  });

  it('/to reaches only its target', async () => {
    await fleet.server(GRACE_MS);
    const room = newRoom();
    const [alice, bob, carol] = [fleet.original(), fleet.original(), fleet.original()];
    await join(alice, room);
    await join(bob, room);
    await join(carol, room);
    await knowEachOther([alice, bob, carol]);
    const atCarol = recordEvents(carol, 'message:hello');
    const atBob = originalEvent(bob, 'message:hello');
    alice.to(bob.id).send('/hello', { a: 1 });
    const [payload, source, raw] = await atBob;
    expect(payload).toEqual({ a: 1 });
    expect(asRecord(source).id).toBe(alice.id);
    expect(raw).toBe(`/to|${bob.id}|/hello|${alice.id}|{"a":1}`);
    await quietFor(150);
    expect(atCarol.calls).toEqual([]);
  });

  it('rooms are isolated: announces, broadcasts and /to stay in their room', async () => {
    const server = await fleet.server(GRACE_MS);
    const [red, blue] = [newRoom(), newRoom()];
    const [alice, bob, dave] = [fleet.original(), fleet.original(), fleet.original()];
    const daveSaw = [
      recordEvents(dave, 'peer:announce'),
      recordEvents(dave, 'message:chat'),
      recordEvents(dave, 'message:hello'),
    ];
    await join(dave, blue);
    await join(alice, red);
    await join(bob, red);
    await knowEachOther([alice, bob]);
    alice.send('/chat', { text: 'red only' });
    // a /to across rooms is refused, not delivered (docs/protocol.md §4.2 step 7)
    const refused = originalEvent(alice, 'message:error');
    alice.to(dave.id).send('/hello', { cross: true });
    expect(asObject((await refused)[0])).toMatchObject({ code: 'unknown-target' });
    await quietFor(150);
    for (const seen of daveSaw) expect(seen.calls).toEqual([]);
    expect(server.hub.roomMembers(red).sort()).toEqual([alice.id, bob.id].sort());
    expect(server.hub.roomMembers(blue)).toEqual([dave.id]);
  });

  it('moving rooms: the old room gets /leave, the new room gets the announce', async () => {
    const server = await fleet.server(GRACE_MS);
    const [red, blue] = [newRoom(), newRoom()];
    const [alice, bob, dave] = [fleet.original(), fleet.original(), fleet.original()];
    await join(alice, red);
    await join(bob, red);
    await join(dave, blue);
    await knowEachOther([alice, bob]);
    const left = originalEvent(alice, 'message:leave');
    const arrived = originalEvent(dave, 'peer:announce');
    const [info] = await join(bob, blue);
    expect(info).toEqual({ memberCount: 2 });
    // docs/conformance.md Q3/E9: the original server told the old room nothing; we send /leave on a move
    const [leavePayload, leaveSource, leaveRaw] = await left;
    // the original reads `id`; `reason` is our extension (docs/protocol.md §4.2 step 8)
    expect(leavePayload).toEqual({ id: bob.id, reason: 'moved' });
    expect(asRecord(leaveSource).id).toBe(bob.id);
    expect(leaveRaw).toBe(`/leave|${bob.id}|{"id":"${bob.id}","reason":"moved"}`);
    expect((await arrived)[0]).toMatchObject({ id: bob.id, room: blue });
    expect(server.hub.roomMembers(red)).toEqual([alice.id]);
    expect(server.hub.roomMembers(blue).sort()).toEqual([dave.id, bob.id].sort());
  });

  it('leave(): the others get message:leave at once, the leaver disconnects and is no longer a member', async () => {
    const server = await fleet.server(GRACE_MS);
    const room = newRoom();
    const [alice, bob] = [fleet.original(), fleet.original()];
    await join(alice, room);
    await join(bob, room);
    await knowEachOther([alice, bob]);
    const atBob = originalEvent(bob, 'message:leave');
    const disconnected = originalEvent(alice, 'disconnected');
    alice.leave();
    const [payload, source, raw] = await atBob;
    expect(payload).toEqual({ id: alice.id, reason: 'leave' });
    expect(asRecord(source).id).toBe(alice.id);
    expect(raw).toBe(`/leave|${alice.id}|{"id":"${alice.id}","reason":"leave"}`);
    await disconnected;
    // docs/conformance.md Q4: the original server kept a /leave sender in the room; docs/protocol.md §4.2 removes it
    expect(server.hub.roomMembers(room)).toEqual([bob.id]);
  });

  it('hard disconnect (SIGKILL): the others get /leave as message:leave once the grace window has passed', async () => {
    const server = await fleet.server(GRACE_MS);
    const room = newRoom();
    const [alice, bob] = [fleet.original(), fleet.original()];
    await join(alice, room);
    await join(bob, room);
    await knowEachOther([alice, bob]);
    const discovered = originalEvent(alice, 'peer:announce');
    const peer = await fleet.child(room);
    expect(peer.memberCount).toBe(3);
    expect((await discovered)[0]).toMatchObject({ id: peer.id, name: 'child' });
    await waitUntil(() => peerOf(bob, peer.id), 'bob to know the child');

    const leaves = [recordEvents(alice, 'message:leave'), recordEvents(bob, 'message:leave')];
    const closed = new Promise<void>((resolve) =>
      server.hub.on('connection:closed', (context) => {
        if (context.id === peer.id) resolve();
      }),
    );
    const killedAt = Date.now();
    expect(peer.child.kill('SIGKILL')).toBe(true);
    await closed;
    // inside the window the peer is still a member and nobody has been told anything
    expect(server.hub.roomMembers(room)).toContain(peer.id);
    expect(leaves.flatMap((seen) => seen.calls)).toEqual([]);

    await waitUntil(
      () => leaves.every((seen) => seen.calls.length > 0),
      'message:leave at both peers',
      GRACE_MS + 3000,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS - 20);
    for (const seen of leaves) {
      expect(seen.calls).toHaveLength(1);
      const [payload, source, raw] = seen.calls[0]!;
      expect(payload).toEqual({ id: peer.id, reason: 'disconnect' });
      expect(asRecord(source).id).toBe(peer.id);
      expect(raw).toBe(`/leave|${peer.id}|{"id":"${peer.id}","reason":"disconnect"}`);
    }
    expect(server.hub.roomMembers(room).sort()).toEqual([alice.id, bob.id].sort());
  });

  it('a server-side drop with a reconnect inside the grace window: no message:leave, still a member', async () => {
    const server = await fleet.server(GRACE_MS);
    const room = newRoom();
    const [alice, bob] = [fleet.original(), fleet.original()];
    // the original default: reconnect 50 ms after the drop, then re-announce (docs/conformance.md §5.5)
    const carol = fleet.original({ reconnect: true });
    await join(alice, room);
    await join(bob, room);
    await join(carol, room);
    await knowEachOther([alice, bob, carol]);

    const leaves = [recordEvents(alice, 'message:leave'), recordEvents(bob, 'message:leave')];
    const announces = [recordEvents(alice, 'peer:announce'), recordEvents(bob, 'peer:announce')];
    const dropped = originalEvent(carol, 'disconnected');
    const reconnected = originalEvent(carol, 'connected');
    const back = originalEvent(carol, 'message:roominfo');
    const updated = originalEvent(
      alice,
      'peer:update',
      (data) => asObject(data)['id'] === carol.id,
    );
    expect(server.hub.disconnect(carol.id)).toBe(true);
    await dropped;
    await reconnected;
    // the re-announce lands in the same room, and the others see an update, not a newcomer
    expect(asObject((await back)[0])).toEqual({ memberCount: 3 });
    await updated;

    await quietFor(GRACE_MS + 300);
    expect(leaves.flatMap((seen) => seen.calls)).toEqual([]);
    expect(announces.flatMap((seen) => seen.calls)).toEqual([]);
    expect(server.hub.roomMembers(room)).toContain(carol.id);
    expect(server.hub.stats().inGrace).toBe(0);

    // and the returned connection carries traffic again
    const hello = originalEvent(alice, 'message:hello');
    carol.send('/hello', { back: true });
    expect((await hello)[0]).toEqual({ back: true });
  });

  it('twenty originals announcing concurrently each see exactly 19 peer:announce', async () => {
    await fleet.server(GRACE_MS);
    const room = newRoom();
    const originals = Array.from({ length: 20 }, () => fleet.original());
    await Promise.all(originals.map((original) => originalEvent(original, 'connected')));
    const seen = originals.map((original) => recordEvents(original, 'peer:announce'));
    for (const original of originals) original.announce({ room });
    await waitUntil(
      () => seen.every((record) => record.calls.length >= 19),
      'every peer:announce',
      10_000,
    );
    await quietFor(200);
    originals.forEach((original, i) => {
      const ids = seen[i]!.calls.map((args) => asObject(args[0])['id']);
      expect(ids).toHaveLength(19);
      expect(new Set(ids)).toEqual(
        new Set(originals.filter((o) => o !== original).map((o) => o.id)),
      );
    });
  });
});

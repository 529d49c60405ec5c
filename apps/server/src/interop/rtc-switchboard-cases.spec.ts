/**
 * The rtc-switchboard@3.2.0 test suite (reference Appendix A), ported case by case: real
 * rtc-signaller@6.3.0 clients through rtc-switchboard-messenger, against the Switchyard server.
 * Each `describe` is one original file; its `it`s run in order on shared state, like tape, so
 * the clients and the server live for the whole `describe` and are disposed in its `afterAll`.
 *
 * Board events map to hub events: `room:create` → `room:created`, `room:destroy` →
 * `room:destroyed`, `peer:connect`/`peer:disconnect` → `connection:opened`/`connection:closed`,
 * and the board `announce` event (payload, peer, sender, data) → `peer:joined` ({id, room}), which
 * fires for every join and room move, the only announces these cases wait on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '@switchyard/hub';
import { quietFor, waitUntil } from '@switchyard/testing';
import type { RunningServer } from '../server.ts';
import {
  asObject,
  createFleet,
  hubEvent,
  knowEachOther,
  newRoom,
  originalEvent,
  recordEvents,
  recordHubEvents,
  type Fleet,
  type Original,
} from './interop.test-helper.ts';

/** How long a "does not happen" case listens (the originals waited 100–500 ms). */
const QUIET_MS = 300;

/** One original file's shared state: a server, and the `clients` array of the original. */
function suite(graceMs = 300) {
  const fleet: Fleet = createFleet();
  const state = { server: undefined as RunningServer | undefined };
  beforeAll(async () => {
    state.server = await fleet.server(graceMs);
  });
  afterAll(() => fleet.dispose());
  const clients: Original[] = [];
  return {
    fleet,
    clients,
    get hub(): Hub {
      if (!state.server) throw new Error('no server');
      return state.server.hub;
    },
    /**
     * test/helpers/connect.js: a signaller with the original defaults (it reconnects), and its
     * `connected` event.
     */
    async connect(index: number) {
      const client = (clients[index] = fleet.original({ reconnect: true }));
      await originalEvent(client, 'connected');
    },
    /**
     * test/helpers/announce.js waited for the board `announce` event and then 500 ms "for the
     * client announce to come back"; here: the hub's `peer:joined` for that id, then the
     * client's own `/roominfo`.
     */
    async announce(index: number, data: { room: string }) {
      const client = clients[index]!;
      const joined = hubEvent(this.hub, 'peer:joined', (peer) => peer.id === client.id);
      const roominfo = originalEvent(client, 'message:roominfo');
      client.announce(data);
      expect((await joined)[0].id).toBe(client.id);
      await roominfo;
      await this.settle(data.room);
    },
    /**
     * Waits until the members of `room` know each other, i.e. every announce and auto-reply has
     * landed. The originals' fixed waits (100–500 ms) did this. It matters: an original that
     * receives an announce after `leave()` auto-replies, and that send reconnects it (its ready
     * state is already "disconnected") and re-announces it into the room it just left.
     */
    settle(room: string) {
      const ids = new Set(this.hub.roomMembers(room));
      return knowEachOther(clients.filter((client) => ids.has(client.id)));
    },
    /**
     * test/helpers/cleanup.js: every client leaves, and the board sees one `leave` per client;
     * here one `peer:left` with reason `leave` per client (docs/protocol.md §4.2 step 8).
     */
    async cleanup() {
      const left = recordHubEvents(this.hub, 'peer:left');
      for (const client of clients) client.leave();
      await waitUntil(
        () =>
          clients.every((client) =>
            left.calls.some(([peer]) => peer.id === client.id && peer.reason === 'leave'),
          ),
        'a leave for every client',
      );
      left.stop();
    },
  };
}

describe('rtc-switchboard test/disconnect-quick.js', () => {
  const s = suite();
  let sig: Original;

  it('create a signaller', async () => {
    sig = s.fleet.original({ reconnect: true });
    const connected = originalEvent(sig, 'connected');
    sig.announce({ name: 'Fred', room: newRoom() });
    await connected;
  });

  it('disconnect signaller', async () => {
    const disconnected = originalEvent(sig, 'disconnected');
    sig.leave();
    await disconnected;
  });
});

describe('rtc-switchboard test/room-isolation.js', () => {
  const s = suite();
  const { clients } = s;
  const roomId = newRoom();
  let zeroRepliedToOne: Promise<unknown[]>;

  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));
  it('connect 2', () => s.connect(2));

  it('announce 0', async () => {
    const joined = hubEvent(s.hub, 'peer:joined');
    clients[0]!.announce({ room: roomId });
    expect((await joined)[0]).toMatchObject({ id: clients[0]!.id, room: roomId });
  });

  it('announce 1 - in same room as 0', async () => {
    const joined = hubEvent(s.hub, 'peer:joined');
    const atZero = originalEvent(clients[0]!, 'peer:announce');
    // the reply is awaited by the next case, but must be listened for before it can arrive
    zeroRepliedToOne = originalEvent(clients[1]!, 'peer:announce');
    clients[1]!.announce({ room: roomId });
    expect((await joined)[0]).toMatchObject({ id: clients[1]!.id, room: roomId });
    expect((await atZero)[0]).toMatchObject({ id: clients[1]!.id, room: roomId });
  });

  it('check that peer 0 responds to peer 0', async () => {
    expect((await zeroRepliedToOne)[0]).toMatchObject({ id: clients[0]!.id, room: roomId });
  });

  it('announce 2 - in different room to 0 + 1', async () => {
    const newRoomId = newRoom();
    const seen = [
      recordEvents(clients[0]!, 'peer:announce'),
      recordEvents(clients[1]!, 'peer:announce'),
    ];
    const joined = hubEvent(s.hub, 'peer:joined');
    clients[2]!.announce({ room: newRoomId });
    expect((await joined)[0]).toMatchObject({ id: clients[2]!.id, room: newRoomId });
    await quietFor(QUIET_MS);
    expect(seen.flatMap((record) => record.calls)).toEqual([]);
  });

  it('close connections', () => s.cleanup());
});

describe('rtc-switchboard test/room-leave.js', () => {
  const s = suite();
  const { clients } = s;
  const roomId = newRoom();
  const room2 = newRoom();

  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));
  it('announce 0', () => s.announce(0, { room: roomId }));
  it('announce 1', () => s.announce(1, { room: roomId }));

  it('check 2 room members', () => {
    expect(s.hub.rooms()).toContain(roomId);
    expect(s.hub.roomMembers(roomId)).toHaveLength(2);
  });

  it('announce 1 in new room', () => s.announce(1, { room: room2 }));

  it('check 1 member in original room', () => {
    expect(s.hub.rooms()).toContain(roomId);
    expect(s.hub.roomMembers(roomId)).toEqual([clients[0]!.id]);
  });

  it('check 1 member in new room', () => {
    expect(s.hub.rooms()).toContain(room2);
    expect(s.hub.roomMembers(room2)).toEqual([clients[1]!.id]);
  });

  it('close connections', () => s.cleanup());

  // The original allowed 500 ms for room:destroy after the sockets closed. Here the room is gone
  // as soon as the /leave frames are handled (docs/conformance.md Q4: /leave removes membership).
  it('check room has been destroyed', () => {
    expect(s.hub.rooms()).not.toContain(roomId);
    expect(s.hub.rooms()).not.toContain(room2);
  });
});

describe('rtc-switchboard test/room-reuse.js', () => {
  const s = suite();
  const roomId = newRoom();

  it('connect 0', () => s.connect(0));
  it('announce 0', () => s.announce(0, { room: roomId }));
  it('close connections', () => s.cleanup());

  // the original's `board.rooms[roomId]` indexed a FastMap with [], so it always passed; this
  // checks the room list itself
  it('check room has been destroyed', () => {
    expect(s.hub.rooms()).not.toContain(roomId);
  });

  it('reuse room: connect 0', () => s.connect(0));
  it('reuse room: announce 0', () => s.announce(0, { room: roomId }));
  it('reuse room: close connections', () => s.cleanup());

  it('reuse room: check room has been destroyed', () => {
    expect(s.hub.rooms()).not.toContain(roomId);
  });
});

describe('rtc-switchboard test/room-info.js', () => {
  const s = suite();
  const { clients } = s;
  const roomId = newRoom();

  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));

  for (const [index, count] of [
    [0, 1],
    [1, 2],
  ] as const) {
    it(`announce ${index}`, async () => {
      const joined = hubEvent(s.hub, 'peer:joined');
      const roominfo = originalEvent(clients[index]!, 'message:roominfo');
      clients[index]!.announce({ room: roomId });
      expect((await joined)[0]).toMatchObject({ id: clients[index]!.id, room: roomId });
      const [data] = await roominfo;
      expect(asObject(data)['memberCount']).toBe(count);
      await s.settle(roomId);
    });
  }

  it('close connections', () => s.cleanup());
});

describe('rtc-switchboard test/room-changes.js', () => {
  const s = suite();
  const { clients } = s;
  const roomIds = [newRoom(), newRoom(), newRoom()] as const;

  /** Announces client `index` into `room` and checks the hub's join (the board `announce`). */
  async function announceInto(index: number, room: string) {
    const joined = hubEvent(s.hub, 'peer:joined', (peer) => peer.id === clients[index]!.id);
    clients[index]!.announce({ room });
    expect((await joined)[0]).toMatchObject({ id: clients[index]!.id, room });
    await s.settle(room);
  }

  /** client:2 sends /hello; `receiver` gets it, `bystander` does not. */
  async function hello(receiver: Original, bystander: Original) {
    const missed = recordEvents(bystander, 'message:hello');
    const got = originalEvent(receiver, 'message:hello');
    clients[2]!.send('/hello');
    await got;
    await quietFor(QUIET_MS);
    expect(missed.calls).toEqual([]);
    missed.stop();
  }

  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));
  it('connect 2', () => s.connect(2));

  it('client:0 announce (room:0)', () => announceInto(0, roomIds[0]));
  it('client:1 announce (room:1)', () => announceInto(1, roomIds[1]));

  it('client:2 announce (room:0)', async () => {
    const missed = recordEvents(clients[1]!, 'peer:announce');
    const atZero = originalEvent(clients[0]!, 'peer:announce');
    await announceInto(2, roomIds[0]);
    expect((await atZero)[0]).toMatchObject({ id: clients[2]!.id });
    await quietFor(QUIET_MS);
    expect(missed.calls).toEqual([]);
    missed.stop();
  });

  it('client:2 send hello, client:0 receives, client:1 does not', () =>
    hello(clients[0]!, clients[1]!));

  it('client:2 reannounce (room:1)', async () => {
    const atOne = originalEvent(clients[1]!, 'peer:announce');
    // docs/conformance.md Q3/E9: the original told the old room nothing; docs/protocol.md §4.2 step 4 sends /leave
    const leftZero = originalEvent(clients[0]!, 'message:leave');
    await announceInto(2, roomIds[1]);
    expect((await atOne)[0]).toMatchObject({ id: clients[2]!.id });
    expect((await leftZero)[0]).toEqual({ id: clients[2]!.id, reason: 'moved' });
  });

  it('client:2 send hello, client:1 receives, client:0 does not', () =>
    hello(clients[1]!, clients[0]!));

  it('client:0 reannounce (room:2)', async () => {
    const roominfo = originalEvent(clients[0]!, 'message:roominfo');
    await announceInto(0, roomIds[2]);
    expect(asObject((await roominfo)[0])['memberCount']).toBe(1);
  });

  it('client:2 reannounce (room:2)', async () => {
    const roominfo = originalEvent(clients[2]!, 'message:roominfo');
    // client:0 met client:2 in room:0 and originals never forget peers: an update, not an announce
    const update = originalEvent(clients[0]!, 'peer:update');
    await announceInto(2, roomIds[2]);
    expect(asObject((await roominfo)[0])['memberCount']).toBe(2);
    expect((await update)[0]).toMatchObject({ id: clients[2]!.id });
  });

  it('client:2 send hello, client:0 receives, client:1 does not', () =>
    hello(clients[0]!, clients[1]!));

  it('close connections', () => s.cleanup());
});

describe('rtc-switchboard test/room-events.js', () => {
  const s = suite();
  const { clients } = s;
  const roomId = newRoom();

  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));

  it('switchboard emits a room:create event when a new room is created', async () => {
    const created = hubEvent(s.hub, 'room:created');
    clients[0]!.announce({ room: roomId });
    expect((await created)[0]).toBe(roomId);
  });

  // the original destroyed the room when the socket closed; ours when the /leave arrives (docs/conformance.md Q4)
  it('client:0 close, room:destroy event fires', async () => {
    const destroyed = hubEvent(s.hub, 'room:destroyed');
    clients[0]!.leave();
    expect((await destroyed)[0]).toBe(roomId);
  });

  it('connect 0', () => s.connect(0));

  it('switchboard emits another room:create event when a new room is recreated', async () => {
    const created = hubEvent(s.hub, 'room:created');
    clients[0]!.announce({ room: roomId });
    expect((await created)[0]).toBe(roomId);
  });

  it('switchboard does not emit a room:create event when the client joins the room', async () => {
    const created = recordHubEvents(s.hub, 'room:created');
    const roominfo = originalEvent(clients[1]!, 'message:roominfo');
    clients[1]!.announce({ room: roomId });
    // the hub creates a room before it answers /roominfo, so the answer closes the window
    expect(asObject((await roominfo)[0])['memberCount']).toBe(2);
    expect(created.calls).toEqual([]);
    created.stop();
    await s.settle(roomId);
  });

  it('client:0 close, room:destroy does not fire', async () => {
    const destroyed = recordHubEvents(s.hub, 'room:destroyed');
    const left = hubEvent(s.hub, 'peer:left', (peer) => peer.id === clients[0]!.id);
    clients[0]!.leave();
    expect((await left)[0].reason).toBe('leave');
    // a room is destroyed in the same step as its last member leaves: nothing can follow later
    expect(destroyed.calls).toEqual([]);
    destroyed.stop();
  });

  it('client:1 close, room:destroy does fire', async () => {
    const destroyed = hubEvent(s.hub, 'room:destroyed');
    clients[1]!.leave();
    expect((await destroyed)[0]).toBe(roomId);
  });

  it('connect 0', () => s.connect(0));

  it('switchboard emits another room:create event when a new room is recreated', async () => {
    const created = hubEvent(s.hub, 'room:created');
    clients[0]!.announce({ room: roomId });
    expect((await created)[0]).toBe(roomId);
  });

  it('switchboard emits room:create and room:destroy events when a client changes room', async () => {
    const newRoomId = newRoom();
    const destroyed = hubEvent(s.hub, 'room:destroyed');
    const created = hubEvent(s.hub, 'room:created');
    clients[0]!.announce({ room: newRoomId });
    expect((await destroyed)[0]).toBe(roomId);
    expect((await created)[0]).toBe(newRoomId);
  });

  it('client:0 close', async () => {
    const destroyed = hubEvent(s.hub, 'room:destroyed');
    clients[0]!.leave();
    expect((await destroyed)[0]).not.toBe(roomId);
    expect(s.hub.rooms()).toEqual([]);
  });
});

describe('rtc-switchboard test/to-messaging.js', () => {
  const s = suite();
  const { clients } = s;
  const roomId = newRoom();

  // the original passed { autoreply: true } to a helper that ignored it; autoreply is the default
  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));
  it('connect 2', () => s.connect(2));
  it('announce 0', () => s.announce(0, { room: roomId }));
  it('announce 1', () => s.announce(1, { room: roomId }));
  it('announce 2', () => s.announce(2, { room: newRoom() }));

  it('send from 0 --> 1', async () => {
    const got = originalEvent(clients[1]!, 'message:hello');
    const notTwo = recordEvents(clients[2]!, 'message:hello');
    clients[0]!.to(clients[1]!.id).send('/hello', { a: 1 });
    expect(asObject((await got)[0])['a']).toBe(1);
    await quietFor(100);
    expect(notTwo.calls).toEqual([]);
  });

  it('close connections', () => s.cleanup());
});

describe('rtc-switchboard test/signaller-durability.js', () => {
  const s = suite();
  const { clients } = s;
  const roomId = newRoom();

  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));

  for (const [index, count] of [
    [0, 1],
    [1, 2],
  ] as const) {
    it(`announce ${index}`, async () => {
      const roominfo = originalEvent(clients[index]!, 'message:roominfo');
      clients[index]!.announce({ room: roomId });
      const data = asObject((await roominfo)[0]);
      expect(data['memberCount']).toBe(count);
      await s.settle(roomId);
    });
  }

  // The original idled 51 s. Our WebSocket heartbeat (ping every 30 s) is not configurable through
  // startServer, so this shortened port idles 2 s and only shows that nothing closes idle clients.
  it('signallers remain connected and do not timeout (shortened: 2 s instead of 50 s)', async () => {
    const drops = clients.map((client) => recordEvents(client, 'disconnected'));
    await quietFor(2000);
    expect(drops.flatMap((record) => record.calls)).toEqual([]);
    expect(s.hub.roomMembers(roomId)).toHaveLength(2);
    expect(s.hub.stats()).toMatchObject({ connections: 2, inGrace: 0 });
  });

  it('close connections', () => s.cleanup());
});

describe('rtc-switchboard test/peer-events.js', () => {
  const s = suite();
  const { clients } = s;

  it('peer:connect event is emitted when a new peer connects', async () => {
    const opened = hubEvent(s.hub, 'connection:opened', () => true, 1000);
    await s.connect(0);
    expect((await opened)[0].transport).toBe('ws');
  });

  it('peer:disconnect event is emitted when a peer packs up.', async () => {
    const closed = hubEvent(s.hub, 'connection:closed', () => true, 1000);
    clients[0]!.leave();
    expect((await closed)[0].transport).toBe('ws');
  });
});

describe('rtc-switchboard test/reset.js', () => {
  const s = suite();
  const { clients } = s;
  const roomId = newRoom();
  let zeroRepliedToOne: Promise<unknown[]>;
  let learnAboutTwo: Promise<unknown[]>[] = [];

  it('connect 0', () => s.connect(0));
  it('connect 1', () => s.connect(1));
  it('connect 2', () => s.connect(2));

  it('announce 0', async () => {
    const joined = hubEvent(s.hub, 'peer:joined');
    clients[0]!.announce({ room: roomId });
    expect((await joined)[0]).toMatchObject({ id: clients[0]!.id, room: roomId });
  });

  it('announce 1 - in same room as 0', async () => {
    const joined = hubEvent(s.hub, 'peer:joined');
    const atZero = originalEvent(clients[0]!, 'peer:announce');
    zeroRepliedToOne = originalEvent(clients[1]!, 'peer:announce');
    clients[1]!.announce({ room: roomId });
    expect((await joined)[0]).toMatchObject({ id: clients[1]!.id, room: roomId });
    expect((await atZero)[0]).toMatchObject({ id: clients[1]!.id, room: roomId });
  });

  it('check that peer 0 responds to peer 0', async () => {
    expect((await zeroRepliedToOne)[0]).toMatchObject({ id: clients[0]!.id, room: roomId });
  });

  // `board.reset()` closed every socket. The hub closes connections by id, so this resets the
  // announced ones (clients 0 and 1); client 2 has not announced and keeps its socket. The clients
  // reconnect after 50 ms inside the grace window and re-announce, so nobody gets /leave.
  it('a peer disconnect event is triggered when we reset the switchboard', async () => {
    const closed = hubEvent(s.hub, 'connection:closed');
    const leaves = clients.map((client) => recordEvents(client, 'message:leave'));
    const back = [clients[0]!, clients[1]!].map((client) =>
      originalEvent(client, 'message:roominfo'),
    );
    const members = s.hub.roomMembers(roomId);
    expect(members).toHaveLength(2);
    for (const id of members) expect(s.hub.disconnect(id)).toBe(true);
    await closed;
    for (const [data] of await Promise.all(back)) expect(asObject(data)['memberCount']).toBe(2);
    expect(leaves.flatMap((record) => record.calls)).toEqual([]);
    expect(s.hub.stats()).toMatchObject({ connections: 3, inGrace: 0 });
  });

  it('announce 2', async () => {
    learnAboutTwo = [clients[0]!, clients[1]!].map((client) =>
      originalEvent(client, 'peer:announce'),
    );
    const joined = hubEvent(s.hub, 'peer:joined');
    clients[2]!.announce({ room: roomId });
    expect((await joined)[0]).toMatchObject({ id: clients[2]!.id, room: roomId });
  });

  it('peer:0 and peer:1 successfully learn about peer:2', async () => {
    for (const [data] of await Promise.all(learnAboutTwo)) {
      expect(data).toMatchObject({ id: clients[2]!.id, room: roomId });
    }
    await s.settle(roomId);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@switchyard/test-kit';
import { createHub, type Hub } from './hub.ts';
import type { HubOptions, HubServices } from './options.ts';
import { connect, join } from './test-peer.test-helper.ts';

let clock: ManualClock;
let hub: Hub;
const make = (options: HubOptions = {}, services: HubServices = {}) =>
  (hub = createHub({ graceMs: 3000, ...options }, { clock, ...services }));
const settle = () => hub.idle();
const codeOf = (message: string | undefined) =>
  message ? (JSON.parse(message.slice(7)) as { code: string }).code : undefined;

beforeEach(() => {
  clock = new ManualClock();
  make();
});

describe('announce and rooms', () => {
  it('sends /roominfo to the announcer, then relays the announce byte-identical', async () => {
    const a = connect(hub);
    a.say('/announce|A|{"id":"A","room":"r"}');
    await settle();
    expect(a.take()).toEqual(['/roominfo|{"memberCount":1}']);
    const b = connect(hub);
    b.say('/announce|B|{"id":"B","room":"r","name":"bob"}');
    await settle();
    expect(b.take()).toEqual(['/roominfo|{"memberCount":2}']);
    expect(a.take()).toEqual(['/announce|B|{"id":"B","room":"r","name":"bob"}']);
    b.say('/announce|B|{"id":"B","room":"r","name":"bob2"}');
    await settle();
    expect(b.take()).toEqual(['/roominfo|{"memberCount":2}']);
    expect(a.take()).toEqual(['/announce|B|{"id":"B","room":"r","name":"bob2"}']);
  });

  it('accepts numeric ids as their decimal string', async () => {
    const one = connect(hub);
    one.say('/announce|1|{"id":1,"room":"r"}');
    const b = await join(hub, 'B', 'r');
    await settle();
    expect(hub.roomMembers('r')).toEqual(['1', 'B']);
    b.say('/to|1|/hi|B');
    expect(one.take().at(-1)).toBe('/to|1|/hi|B');
    const n = await join(hub, '123', 'r');
    b.say('/to|123|/hi|B|{}');
    expect(n.take()).toEqual(['/to|123|/hi|B|{}']);
  });

  it('moves rooms: the old room gets /leave, events fire, empty rooms are destroyed', async () => {
    const log: string[] = [];
    hub.on('room:created', (room) => log.push(`created ${room}`));
    hub.on('room:destroyed', (room) => log.push(`destroyed ${room}`));
    hub.on('peer:joined', (p) => log.push(`joined ${p.id}@${p.room}`));
    hub.on('peer:left', (p) => log.push(`left ${p.id}@${p.room} ${p.reason}`));
    const a = await join(hub, 'A', 'one');
    const b = await join(hub, 'B', 'one', 'json');
    a.take();
    a.say('/announce|A|{"id":"A","room":"two"}');
    await settle();
    expect(a.take()).toEqual(['/roominfo|{"memberCount":1}']);
    expect(b.take()).toEqual(['/leave|{"id":"A"}|{"id":"A","reason":"moved"}']);
    expect(hub.rooms().sort()).toEqual(['one', 'two']);
    b.say('/leave|{"id":"B"}|{"id":"B"}');
    expect(log).toEqual([
      'created one',
      'joined A@one',
      'joined B@one',
      'left A@one moved',
      'created two',
      'joined A@two',
      'left B@one leave',
      'destroyed one',
    ]);
  });

  it('rejects invalid announces with invalid-announce', async () => {
    const a = connect(hub);
    for (const frame of [
      '/announce|X',
      '/announce|X|',
      '/announce|X|null',
      '/announce|X|[1]',
      '/announce|X|{"room":"r"}',
      '/announce|X|{"id":"Y","room":"r"}',
      '/announce|X|{"id":"X"}',
      '/announce|X|{"id":"X","room":""}',
      '/announce|X|{"id":"X","room":7}',
      `/announce|X|{"id":"X","room":"${'r'.repeat(257)}"}`,
      '/announce|X|{"id":"X","room":"r","token":5}',
      '/announce|X|{"id":"X\\u0001","room":"r"}',
    ]) {
      a.say(frame);
      await settle();
    }
    expect(a.take().map(codeOf)).toEqual(Array(12).fill('invalid-announce'));
    expect(hub.stats().members).toBe(0);
  });
});

describe('routing', () => {
  it('stamps senders in each recipient dialect and strips json extras', async () => {
    const bare = await join(hub, 'A', 'r');
    const json = await join(hub, 'B', 'r', 'json');
    bare.take();
    bare.say('/chat|A|{"text":"x|y"}');
    expect(json.take()).toEqual(['/chat|{"id":"A"}|{"text":"x|y"}']);
    json.say('/chat|{"id":"B","token":"secret"}|{"t":1}|2');
    expect(bare.take()).toEqual(['/chat|B|{"t":1}|2']);
    json.say('/to|A|/sdp|{"id":"B"}|{"type":"offer"}');
    expect(bare.take()).toEqual(['/to|A|/sdp|B|{"type":"offer"}']);
    bare.say('/to|B|/sdp|A|{"type":"answer"}');
    expect(json.take()).toEqual(['/to|B|/sdp|{"id":"A"}|{"type":"answer"}']);
    expect(bare.take()).toEqual([]);
  });

  it('never echoes, keeps rooms apart and scopes /to to the room', async () => {
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    const c = await join(hub, 'C', 'other');
    a.take();
    a.say('/hello|A|{}');
    expect(a.take()).toEqual([]);
    expect(b.take()).toEqual(['/hello|A|{}']);
    expect(c.take()).toEqual([]);
    a.say('/to|C|/hello|A|{}');
    expect(codeOf(a.take()[0])).toBe('unknown-target');
    expect(c.take()).toEqual([]);
  });

  it('answers every kind of bad input with its /error and keeps the room working', async () => {
    make({ maxFrameBytes: 100 });
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    a.take();
    const cases: [string, string][] = [
      ['hello|A', 'not-a-command'],
      ['', 'not-a-command'],
      ['/chat', 'malformed'],
      ['/to|B', 'malformed'],
      ['/to|B|/x', 'malformed'],
      ['/error|{"code":"x"}', 'malformed'],
      ['/roominfo|{"memberCount":9}', 'malformed'],
      ['/chat|B|{}', 'sender-mismatch'],
      ['/chat|{"id":"B"}|{}', 'sender-mismatch'],
      ['/to|B|/x|B|{}', 'sender-mismatch'],
      ['/announce|Z|{"id":"Z","room":"r"}', 'sender-mismatch'],
      [`/chat|A|${'x'.repeat(200)}`, 'frame-too-large'],
      [`/chat|A|${'é'.repeat(60)}`, 'frame-too-large'],
      ['/to|nobody|/x|A', 'unknown-target'],
    ];
    for (const [frame] of cases) {
      a.say(frame);
      await settle();
    }
    expect(a.take().map(codeOf)).toEqual(cases.map(([, code]) => code));
    expect(b.take()).toEqual([]);
    a.say('/chat|A|ok');
    expect(b.take()).toEqual(['/chat|A|ok']);
    const idle = connect(hub);
    idle.say('/chat|X|{}');
    expect(codeOf(idle.take()[0])).toBe('not-announced');
    expect(hub.stats().errorsSent['sender-mismatch']).toBe(4);
  });

  it('/leave is relayed, then removes membership; the connection may announce again', async () => {
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    a.take();
    a.say('/leave|A|{"id":"A"}');
    // the hub's own /leave says why (an extension original clients ignore)
    expect(b.take()).toEqual(['/leave|A|{"id":"A","reason":"leave"}']);
    expect(hub.roomMembers('r')).toEqual(['B']);
    a.say('/chat|A|{}');
    expect(codeOf(a.take()[0])).toBe('not-announced');
    a.say('/announce|A|{"id":"A","room":"r"}');
    await settle();
    expect(a.take()).toEqual(['/roominfo|{"memberCount":2}']);
  });
});

describe('presence', () => {
  it('sends /leave in each dialect only after the grace window', async () => {
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r', 'json');
    const c = await join(hub, 'C', 'r');
    a.take();
    b.take();
    c.drop();
    clock.advance(2999);
    expect(a.take()).toEqual([]);
    clock.advance(1);
    expect(a.take()).toEqual(['/leave|C|{"id":"C","reason":"disconnect"}']);
    expect(b.take()).toEqual(['/leave|{"id":"C"}|{"id":"C","reason":"disconnect"}']);
    expect(hub.roomMembers('r')).toEqual(['A', 'B']);
  });

  it('a return inside the window loses nothing: queued messages follow /roominfo in order', async () => {
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    a.take();
    b.drop();
    expect(hub.stats().inGrace).toBe(1);
    a.say('/to|B|/one|A|1');
    a.say('/two|A|2');
    clock.advance(2000);
    const back = connect(hub);
    back.say('/announce|B|{"id":"B","room":"r"}');
    await settle();
    expect(back.take()).toEqual(['/roominfo|{"memberCount":2}', '/to|B|/one|A|1', '/two|A|2']);
    expect(a.take()).toEqual(['/announce|B|{"id":"B","room":"r"}']);
    clock.advance(5000);
    expect(a.take()).toEqual([]);
  });

  it('with graceMs 0 the /leave is immediate; queue overflow and expiry are counted', async () => {
    make({ graceMs: 0 });
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    a.take();
    b.drop();
    expect(a.take()).toEqual(['/leave|B|{"id":"B","reason":"disconnect"}']);
    make({ pendingLimit: 2 });
    const c = await join(hub, 'C', 'r');
    const d = await join(hub, 'D', 'r');
    d.drop();
    for (let i = 0; i < 5; i++) c.say(`/m|C|${i}`);
    clock.advance(3000);
    expect(hub.stats().dropped).toMatchObject({ pendingOverflow: 3, graceExpired: 2 });
  });
});

describe('identity', () => {
  it('refuses a newcomer while the holder answers the liveness probe', async () => {
    const a = await join(hub, 'A', 'r');
    const thief = connect(hub);
    thief.say('/announce|A|{"id":"A","room":"r"}');
    await settle();
    expect(codeOf(thief.take()[0])).toBe('id-taken');
    expect(a.closedWith).toBeUndefined();
    thief.say('/chat|A|{}');
    expect(codeOf(thief.take()[0])).toBe('not-announced');
  });

  it('replaces a holder that fails the probe: 4009 for the old, re-announce for the room', async () => {
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    a.take();
    a.alive = false;
    const again = connect(hub);
    again.say('/announce|A|{"id":"A","room":"r"}');
    await settle();
    expect(codeOf(a.take()[0])).toBe('id-taken');
    expect(a.closedWith).toBe(4009);
    expect(again.take()).toEqual(['/roominfo|{"memberCount":2}']);
    expect(b.take()).toEqual(['/announce|A|{"id":"A","room":"r"}']);
    clock.advance(10_000);
    expect(b.take()).toEqual([]);
  });

  it('lets the same principal take over at once', async () => {
    make(
      {},
      {
        authenticate: ({ token }) =>
          token ? { ok: true, principal: token } : { ok: false, code: 'unauthorized' },
      },
    );
    const first = connect(hub);
    first.say('/announce|A|{"id":"A","room":"r","token":"alice"}');
    await settle();
    const second = connect(hub);
    second.say('/announce|A|{"id":"A","room":"r","token":"alice"}');
    await settle();
    expect(first.closedWith).toBe(4009);
    expect(second.take()).toEqual(['/roominfo|{"memberCount":1}']);
    const stranger = connect(hub);
    stranger.say('/announce|A|{"id":"A","room":"r","token":"mallory"}');
    await settle();
    expect(codeOf(stranger.take()[0])).toBe('id-taken');
  });
});

describe('auth and limits', () => {
  it('checks credentials, strips the token and closes unauthorized connections with 4001', async () => {
    make(
      {},
      {
        authenticate: async ({ token, room, context }) => {
          if (token !== 'good' && context.credentials?.token !== 'good')
            return { ok: false, code: 'unauthorized' };
          return room === 'secret' ? { ok: false, code: 'forbidden' } : { ok: true };
        },
      },
    );
    const a = connect(hub);
    a.say('/announce|A|{"id":"A","room":"r","token":"good"}');
    a.say('/queued|A|{}');
    const b = connect(hub, { credentials: { token: 'good' } });
    b.say('/announce|B|{"id":"B","room":"r"}');
    await settle();
    expect(a.take()).toEqual(['/roominfo|{"memberCount":1}', '/announce|B|{"id":"B","room":"r"}']);
    const c = connect(hub);
    c.say('/announce|C|{"id":"C","room":"r","token":"bad"}');
    await settle();
    expect(codeOf(c.take()[0])).toBe('unauthorized');
    expect(c.closedWith).toBe(4001);
    b.say('/announce|B|{"id":"B","room":"secret"}');
    await settle();
    expect(codeOf(b.take().at(-1))).toBe('forbidden');
    expect(hub.roomMembers('r')).toEqual(['A', 'B']);
    const d = connect(hub);
    d.say('/announce|D|{"id":"D","room":"r","token":"good"}');
    await settle();
    expect(a.take()).toEqual(['/announce|D|{"id":"D","room":"r"}']);
  });

  it('rate-limits with retryAfterMs, one error per second, and closes sustained abuse with 4008', async () => {
    make({ rateLimit: { perSecond: 10, burst: 20, abuseFactor: 10, abuseWindowMs: 3000 } });
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    a.take();
    for (let i = 0; i < 30; i++) a.say(`/m|A|${i}`);
    expect(b.take()).toHaveLength(19); // burst 20 minus the announce
    const errors = a.take();
    expect(errors.map(codeOf)).toEqual(['rate-limited']);
    expect(JSON.parse(errors[0]!.slice(7))).toMatchObject({ retryAfterMs: 100 });
    clock.advance(1000);
    for (let i = 0; i < 15; i++) a.say(`/m|A|${i}`);
    expect(b.take()).toHaveLength(10);
    for (let s = 0; s < 4 && a.closedWith === undefined; s++) {
      clock.advance(1000);
      for (let i = 0; i < 200; i++) a.say(`/m|A|${i}`);
    }
    expect(a.closedWith).toBe(4008);
    expect(hub.stats().closed.abusive).toBe(1);
  });

  it('closes a slow consumer instead of buffering without bound', async () => {
    make({ highWaterMark: 1000 });
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    b.buffered = 5000;
    a.say('/m|A|{}');
    expect(b.closedWith).toBe(4008);
    expect(hub.stats().closed.slowConsumer).toBe(1);
  });

  it('refuses a full room', async () => {
    make({ maxRoomSize: 1 });
    await join(hub, 'A', 'r');
    const b = connect(hub);
    b.say('/announce|B|{"id":"B","room":"r"}');
    await settle();
    expect(codeOf(b.take()[0])).toBe('room-full');
  });

  it('counts traffic in stats() and closes everything on close()', async () => {
    const a = await join(hub, 'A', 'r');
    await join(hub, 'B', 'r');
    a.say('/m|A|1');
    expect(hub.stats()).toMatchObject({ connections: 2, members: 2, rooms: 1, messagesIn: 3 });
    hub.close();
    expect(a.closedWith).toBe(1001);
    expect(hub.stats()).toMatchObject({ connections: 0, members: 0, rooms: 0 });
  });

  it('reset() drops every connection and member without a word to the rooms, and goes on', async () => {
    const a = await join(hub, 'A', 'r');
    const b = await join(hub, 'B', 'r');
    b.drop(); // B is in its grace window
    a.take();
    hub.reset();
    expect(a.closedWith).toBe(1012);
    expect(a.take()).toEqual([]);
    expect(hub.stats()).toMatchObject({ connections: 0, members: 0, rooms: 0 });
    clock.advance(5000); // no grace timer left to say /leave
    const c = await join(hub, 'B', 'r');
    expect(c.take()).toEqual([]);
    expect(hub.roomMembers('r')).toEqual(['B']);
  });
});

describe('what transports report', () => {
  it('answers unreadable input with /error malformed inside the rate limit', async () => {
    make({ rateLimit: { perSecond: 10, burst: 5 } });
    const a = await join(hub, 'A', 'r');
    for (let i = 0; i < 50; i++) a.sayUnreadable('binary frames');
    const replies = a.take().map(codeOf);
    // 4 tokens left after the announce, then one rate-limited notice for the rest of the second
    expect(replies).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'rate-limited']);
    expect(hub.stats().dropped.rateLimited).toBe(46);
  });

  it('reports the transport of a departed peer on peer:left after its grace window', async () => {
    const left: string[] = [];
    hub.on('peer:left', (peer) => left.push(`${peer.id} ${peer.transport} ${peer.reason}`));
    const a = connect(hub, { transport: 'sse' });
    a.say('/announce|A|{"id":"A","room":"r"}');
    await hub.idle();
    a.drop();
    clock.advance(3000);
    expect(left).toEqual(['A sse disconnect']);
  });

  it('idle() waits for announces held by the auth hook', async () => {
    let admit!: () => void;
    make(
      {},
      { authenticate: () => new Promise((resolve) => (admit = () => resolve({ ok: true }))) },
    );
    const a = connect(hub);
    a.say('/announce|A|{"id":"A","room":"r"}');
    let idle = false;
    const waiting = hub.idle().then(() => (idle = true));
    await Promise.resolve();
    expect([idle, hub.roomMembers('r')]).toEqual([false, []]);
    admit();
    await waiting;
    expect(hub.roomMembers('r')).toEqual(['A']);
  });
});

describe('snapshot', () => {
  it('lists the largest rooms first with members, transports and grace state, bounded', async () => {
    await join(hub, 'A', 'small');
    const b = await join(hub, 'B', 'big');
    await join(hub, 'C', 'big');
    await join(hub, 'D', 'big');
    await join(hub, 'E', 'middle');
    await join(hub, 'F', 'middle');
    b.drop();
    const whole = hub.snapshot();
    expect(whole.moreRooms).toBe(0);
    expect(whole.rooms.map((room) => [room.name, room.size])).toEqual([
      ['big', 3],
      ['middle', 2],
      ['small', 1],
    ]);
    expect(whole.rooms[0]).toEqual({
      name: 'big',
      size: 3,
      transports: { test: 3 },
      members: [
        { id: 'B', transport: 'test', state: 'grace' },
        { id: 'C', transport: 'test', state: 'connected' },
        { id: 'D', transport: 'test', state: 'connected' },
      ],
    });
    const bounded = hub.snapshot({ maxRooms: 2, maxMembers: 1 });
    expect(bounded.moreRooms).toBe(1);
    expect(bounded.rooms.map((room) => [room.name, room.size, room.members.length])).toEqual([
      ['big', 3, 1],
      ['middle', 2, 1],
    ]);
    clock.advance(3000);
    expect(hub.snapshot().rooms[0]!.members.map((member) => member.id)).toEqual(['C', 'D']);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { createJwtAuthority } from '@switchyard/auth';
import { ManualClock, mintToken, TEST_JWT_SECRET } from '@switchyard/test-kit';
import type { JWTPayload } from 'jose';
import { createHub, type Hub } from './hub.ts';
import { connect, type TestPeer } from './test-peer.test-helper.ts';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const inSeconds = (s: number) => Math.floor(NOW / 1000) + s;
let clock: ManualClock;
let hub: Hub;
const codeOf = (message: string | undefined) =>
  message?.startsWith('/error|')
    ? (JSON.parse(message.slice(7)) as { code: string }).code
    : undefined;
const token = (claims: JWTPayload) => mintToken(claims);
const announce = (id: string, room: string, extra: Record<string, unknown> = {}) =>
  `/announce|${JSON.stringify({ id })}|${JSON.stringify({ id, room, ...extra })}`;

/** Connects (optionally with a connect-time token) and announces; returns the peer, inbox emptied. */
async function member(
  id: string,
  room: string,
  claims: JWTPayload,
  at: 'connect' | 'announce' = 'announce',
) {
  const jwt = await token(claims);
  const peer = connect(hub, at === 'connect' ? { credentials: { token: jwt } } : {});
  peer.say(announce(id, room, at === 'announce' ? { token: jwt } : {}));
  await hub.idle();
  expect(peer.take()).toEqual([`/roominfo|{"memberCount":${hub.roomMembers(room).length}}`]);
  return peer;
}

beforeEach(() => {
  clock = new ManualClock(NOW);
  const tokens = createJwtAuthority({ secret: TEST_JWT_SECRET, clock, clockToleranceSeconds: 0 });
  hub = createHub({ graceMs: 0 }, { clock, tokens });
});

describe('token authentication (§4.7)', () => {
  it('admits a connect-time token and keeps what was sent while it was verified, in order', async () => {
    const a = await member('A', 'r', { sub: 'alice' });
    const b = connect(hub, { credentials: { token: await token({ sub: 'bob' }) } });
    b.say(announce('B', 'r'));
    b.say('/chat|{"id":"B"}|1');
    b.say('/chat|{"id":"B"}|2');
    await hub.idle();
    expect(b.take()).toEqual(['/roominfo|{"memberCount":2}']);
    expect(a.take()).toEqual([announce('B', 'r'), '/chat|{"id":"B"}|1', '/chat|{"id":"B"}|2']);
  });

  it('refuses a missing or invalid token with /error unauthorized and 4001, and reads nothing else', async () => {
    const a = await member('A', 'r', { sub: 'alice' });
    const bad = connect(hub, { credentials: { token: 'not-a-jwt' } });
    bad.say(announce('B', 'r'));
    const none = connect(hub);
    none.say(announce('C', 'r'));
    const forged = connect(hub);
    forged.say(
      announce('D', 'r', { token: await mintToken({ sub: 'd' }, { secret: 'x'.repeat(40) }) }),
    );
    await hub.idle();
    for (const [peer, why] of [
      [bad, 'invalid token'],
      [none, 'a token is required'],
      [forged, 'bad signature'],
    ] as const) {
      const [error, ...rest] = peer.take();
      expect(codeOf(error)).toBe('unauthorized');
      expect(error).toContain(why);
      expect(rest).toEqual([]);
      expect(peer.closedWith).toBe(4001);
    }
    expect(a.take()).toEqual([]);
    expect(hub.roomMembers('r')).toEqual(['A']);
  });

  it('answers a room or id the token does not allow with forbidden; the connection stays', async () => {
    const jwt = await token({ sub: 'alice', rooms: ['lobby', 'team-*'], id: 'A' });
    const a = connect(hub, { credentials: { token: jwt } });
    a.say(announce('A', 'secret'));
    await hub.idle();
    expect(codeOf(a.take()[0])).toBe('forbidden');
    a.say(announce('A', 'team-blue'));
    await hub.idle();
    expect(a.take()).toEqual(['/roominfo|{"memberCount":1}']);
    const b = connect(hub, { credentials: { token: jwt } });
    b.say(announce('B', 'lobby'));
    await hub.idle();
    const [refusal] = b.take();
    expect(codeOf(refusal)).toBe('forbidden');
    expect(refusal).toContain('may only announce as');
    expect(b.closedWith).toBeUndefined();
  });

  it('refuses an announce token that names another principal than the connect-time one', async () => {
    const a = connect(hub, { credentials: { token: await token({ sub: 'alice' }) } });
    a.say(announce('A', 'r', { token: await token({ sub: 'bob' }) }));
    await hub.idle();
    expect(codeOf(a.take()[0])).toBe('unauthorized');
    expect(a.closedWith).toBe(4001);
  });

  it('closes with 4001 when the token expires, unless a re-announce brought a fresh one', async () => {
    const spy = await member('S', 'r', { sub: 'spy' });
    const a = await member('A', 'r', { sub: 'alice', exp: inSeconds(60) }, 'connect');
    const b = await member('B', 'r', { sub: 'bob', exp: inSeconds(60) });
    clock.advance(30_000);
    b.say(announce('B', 'r', { token: await token({ sub: 'bob', exp: inSeconds(120) }) }));
    await hub.idle();
    expect(b.take()).toEqual(['/roominfo|{"memberCount":3}']);
    clock.advance(30_000);
    expect(codeOf(a.take().at(-1))).toBe('unauthorized');
    expect(a.closedWith).toBe(4001);
    expect(b.closedWith).toBeUndefined();
    clock.advance(60_000);
    expect(b.closedWith).toBe(4001);
    expect(hub.stats().closed.tokenExpired).toBe(2);
    expect(spy.take().filter((m) => m.startsWith('/leave'))).toHaveLength(2);
  });

  it('checks per-message sender tokens: the principal must match, the token never reaches peers', async () => {
    const a = await member('A', 'r', { sub: 'alice' });
    const b = await member('B', 'r', { sub: 'bob' });
    a.take();
    const mine = await token({ sub: 'bob', n: 1 });
    const other = await token({ sub: 'mallory' });
    b.say(`/chat|${JSON.stringify({ id: 'B', token: mine })}|first`);
    b.say('/chat|{"id":"B"}|second');
    b.say(`/to|A|/chat|${JSON.stringify({ id: 'B', token: mine })}|third`);
    await hub.idle();
    expect(a.take()).toEqual([
      '/chat|{"id":"B"}|first',
      '/chat|{"id":"B"}|second',
      '/to|A|/chat|{"id":"B"}|third',
    ]);
    b.say(`/chat|${JSON.stringify({ id: 'B', token: other })}|forged`);
    b.say(`/chat|${JSON.stringify({ id: 'B', token: 'garbage' })}|garbage`);
    b.say(`/chat|${JSON.stringify({ id: 'B', token: 7 })}|number`);
    await hub.idle();
    expect(b.take().map(codeOf)).toEqual(['unauthorized', 'unauthorized', 'unauthorized']);
    expect(a.take()).toEqual([]);
    expect(b.closedWith).toBeUndefined();
  });

  it('checks a few new sender tokens per connection, then one a second: made-up tokens cost what bad frames do', async () => {
    const b = await member('B', 'r', { sub: 'bob' });
    const forged = (n: number) => mintToken({ sub: 'bob', n }, { secret: 'y'.repeat(40) });
    for (let n = 0; n < 8; n++)
      b.say(`/chat|${JSON.stringify({ id: 'B', token: await forged(n) })}|x`);
    await hub.idle();
    expect(b.take().map(codeOf)).toEqual([
      ...Array<string>(5).fill('unauthorized'),
      ...Array<string>(3).fill('rate-limited'),
    ]);
    clock.advance(1000);
    b.say(`/chat|${JSON.stringify({ id: 'B', token: await forged(9) })}|x`);
    await hub.idle();
    expect(b.take().map(codeOf)).toEqual(['unauthorized']);
    clock.advance(1000);
    const own = await token({ sub: 'bob', n: 10 });
    for (let n = 0; n < 20; n++) b.say(`/chat|${JSON.stringify({ id: 'B', token: own })}|${n}`);
    await hub.idle();
    expect(b.take()).toEqual([]); // one check, then the same token is a string compare
  });

  it('lets the same principal take over a live id at once; another principal must wait for the probe', async () => {
    const first = await member('A', 'r', { sub: 'alice' });
    const again = await member('A', 'r', { sub: 'alice' });
    expect(first.closedWith).toBe(4009);
    expect(again.probes).toBe(0);
    const stranger = connect(hub);
    stranger.say(announce('A', 'r', { token: await token({ sub: 'mallory' }) }));
    await hub.idle();
    expect(codeOf(stranger.take()[0])).toBe('id-taken');
    expect(again.probes).toBe(1);
  });

  it('checks a token in an announce sender field like a per-message token', async () => {
    const jwt = await token({ sub: 'dora', exp: inSeconds(10) });
    const d = connect(hub, { credentials: { token: jwt } });
    const foreign = await token({ sub: 'eve' });
    d.say(`/announce|${JSON.stringify({ id: 'D', token: foreign })}|{"id":"D","room":"r"}`);
    await hub.idle();
    expect(d.take().map(codeOf)).toEqual(['unauthorized']);
    expect(hub.roomMembers('r')).toEqual([]);
    d.say(`/announce|${JSON.stringify({ id: 'D', token: jwt })}|{"id":"D","room":"r"}`);
    await hub.idle();
    expect(d.take()).toEqual(['/roominfo|{"memberCount":1}']);
  });

  it('keeps a member in its grace window, and its queue, from another principal', async () => {
    const tokens = createJwtAuthority({ secret: TEST_JWT_SECRET, clock, clockToleranceSeconds: 0 });
    hub = createHub({ graceMs: 3000 }, { clock, tokens });
    const b = await member('B', 'r', { sub: 'bob' });
    const a = await member('A', 'r', { sub: 'alice' });
    b.take();
    a.drop(); // alice is in her grace window now
    b.say('/to|A|/sdp|B|for-alice');
    const mallory = connect(hub);
    mallory.say(announce('A', 'r', { token: await token({ sub: 'mallory' }) }));
    await hub.idle();
    expect(codeOf(mallory.take()[0])).toBe('id-taken');
    const back = connect(hub);
    back.say(announce('A', 'r', { token: await token({ sub: 'alice', n: 2 }) }));
    await hub.idle();
    expect(back.take()).toEqual(['/roominfo|{"memberCount":2}', '/to|A|/sdp|{"id":"B"}|for-alice']);
  });

  it('never relays a token, in either dialect', async () => {
    const spies: TestPeer[] = [await member('S', 'r', { sub: 'spy' })];
    const bare = connect(hub);
    const secret = await token({ sub: 'carol' });
    bare.say(`/announce|C|${JSON.stringify({ id: 'C', room: 'r', token: secret })}`);
    await hub.idle();
    bare.say(`/to|S|/announce|C|${JSON.stringify({ id: 'C', room: 'r', token: secret })}`);
    bare.say(`/chat|${JSON.stringify({ id: 'C', token: secret })}|hi`);
    await hub.idle();
    const seen = spies.flatMap((spy) => spy.take());
    expect(seen).toHaveLength(3);
    expect(seen.join('\n')).not.toContain(secret);
  });
});

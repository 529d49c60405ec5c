/** Every queue the hub keeps is bounded, and what it drops is counted (docs/protocol.md §4.1). */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@switchyard/test-kit';
import { createHub } from './hub.ts';
import { connect, join } from './test-peer.test-helper.ts';

const codeOf = (message: string) => (JSON.parse(message.slice(7)) as { code: string }).code;

describe('bounded queues', () => {
  it('a grace queue is bounded in characters as well as in messages', async () => {
    const clock = new ManualClock();
    const hub = createHub({ pendingLimit: 256, pendingBytes: 10_000 }, { clock });
    const sender = await join(hub, 'S', 'r');
    const away = await join(hub, 'A', 'r');
    away.drop();
    const big = 'x'.repeat(3_000);
    for (let i = 0; i < 5; i++) sender.say(`/m|S|${i}${big}`);
    expect(hub.stats().dropped.pendingOverflow).toBe(2);
    // a small message still fits under the limit; the returning member gets what was kept, in order
    sender.say('/m|S|small');
    const back = connect(hub);
    back.say('/announce|A|{"id":"A","room":"r"}');
    await hub.idle();
    expect(back.take().map((m) => m.slice(0, 9))).toEqual([
      '/roominfo',
      '/m|S|0xxx',
      '/m|S|1xxx',
      '/m|S|2xxx',
      '/m|S|smal',
    ]);
  });

  it('messages past a pending announce backlog are counted, rate-limited, answered once a second', async () => {
    const clock = new ManualClock();
    let admit!: () => void;
    const hub = createHub(
      { backlogLimit: 4, rateLimit: { perSecond: 100, burst: 200 } },
      {
        clock,
        authenticate: () => new Promise((resolve) => (admit = () => resolve({ ok: true }))),
      },
    );
    const peer = connect(hub);
    peer.say('/announce|P|{"id":"P","room":"r"}');
    for (let i = 0; i < 150; i++) peer.say(`/m|P|${i}`);
    const errors = peer.take();
    expect(errors.map(codeOf)).toEqual(['rate-limited']);
    expect(hub.stats().dropped.backlogOverflow).toBe(146);
    // past the burst, the flood is the rate limiter's: dropped and, sustained, closed as abusive
    for (let second = 0; second < 6 && peer.closedWith === undefined; second++) {
      for (let i = 0; i < 2_000; i++) peer.say(`/m|P|${i}`);
      clock.advance(1000);
    }
    expect(peer.closedWith).toBe(4008);
    expect(hub.stats().closed.abusive).toBe(1);
    admit();
    await hub.idle();
  });

  it('a connection must announce within announceTimeoutMs, after connecting or after its /leave', async () => {
    const clock = new ManualClock();
    let admit: (() => void) | undefined;
    const hub = createHub(
      { announceTimeoutMs: 30_000 },
      {
        clock,
        authenticate: ({ id }) =>
          id === 'slow'
            ? new Promise((resolve) => (admit = () => resolve({ ok: true })))
            : { ok: true },
      },
    );
    const silent = connect(hub);
    const member = await join(hub, 'M', 'r');
    const leaver = await join(hub, 'L', 'r');
    const slow = connect(hub);
    clock.advance(20_000);
    leaver.say('/leave|L|{"id":"L"}');
    slow.say('/announce|slow|{"id":"slow","room":"r"}');
    clock.advance(10_000);
    expect(silent.take().map(codeOf)).toEqual(['not-announced']);
    expect(silent.closedWith).toBe(4008);
    expect([member.closedWith, leaver.closedWith, slow.closedWith]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    clock.advance(20_000);
    expect(leaver.closedWith).toBe(4008);
    expect(slow.closedWith).toBeUndefined(); // still waiting for the auth hook
    admit!();
    await hub.idle();
    clock.advance(60_000);
    expect([member.closedWith, slow.closedWith]).toEqual([undefined, undefined]);
    expect(hub.stats().closed.announceTimeout).toBe(2);
    expect(hub.stats().connections).toBe(2);
  });

  it('a sender is limited in characters per second as well as in messages', async () => {
    const clock = new ManualClock();
    const hub = createHub({}, { clock });
    const big = await join(hub, 'B', 'r');
    const reader = await join(hub, 'R', 'r');
    big.take();
    const payload = 'x'.repeat(60 * 1024);
    // 30 large messages a second is 30 % of the message rate, but 1.8 MB/s
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < 30; i++) big.say(`/m|B|${payload}`);
      clock.advance(1000);
    }
    const delivered = reader.take().length;
    // the 512 Ki burst plus two seconds at 256 Ki, in whole messages: 17, not 90
    const size = `/m|B|${payload}`.length;
    expect(delivered).toBe(Math.floor((512 * 1024 + 2 * 256 * 1024) / size));
    const errors = big.take();
    expect(errors.map(codeOf)).toEqual(['rate-limited', 'rate-limited', 'rate-limited']);
    const { retryAfterMs } = JSON.parse(errors[0]!.slice(7)) as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(0);
    // small messages from the same sender pass once the character budget refills
    clock.advance(1000);
    big.say('/m|B|small');
    expect(reader.take()).toEqual(['/m|B|small']);
    expect(big.closedWith).toBeUndefined();
  });

  it('a sender field is bounded apart from the message, so it is never parsed at any size', async () => {
    const hub = createHub({ rateLimit: false }, { clock: new ManualClock() });
    const json = await join(hub, 'J', 'r', 'json');
    const reader = await join(hub, 'R', 'r');
    json.take();
    const padded = JSON.stringify({ id: 'J', pad: 'x'.repeat(5000) });
    json.say(`/m|${padded}|{}`);
    expect(json.take().map(codeOf)).toEqual(['malformed']);
    json.say(`/m|${JSON.stringify({ id: 'J', pad: 'x'.repeat(100) })}|{}`);
    expect(reader.take()).toEqual(['/m|J|{}']);
  });
});

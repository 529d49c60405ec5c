/** Identity under contention (docs/protocol.md §4.3): many claimants, one holder, one probe. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@switchyard/test-kit';
import { createHub } from './hub.ts';
import { connect, join } from './test-peer.test-helper.ts';

const codeOf = (message: string | undefined) =>
  message?.startsWith('/error|')
    ? (JSON.parse(message.slice(7)) as { code: string }).code
    : message;

describe('claims under contention', () => {
  it('many claimants of a live id: the holder is probed once and keeps it', async () => {
    const hub = createHub({}, { clock: new ManualClock() });
    const holder = await join(hub, 'A', 'r');
    const claimants = Array.from({ length: 200 }, () => connect(hub));
    for (const claimant of claimants) claimant.say('/announce|A|{"id":"A","room":"r"}');
    await hub.idle();
    expect(holder.probes).toBe(1);
    expect(holder.closedWith).toBeUndefined();
    expect(claimants.map((c) => codeOf(c.take()[0]))).toEqual(claimants.map(() => 'id-taken'));
    expect(hub.roomMembers('r')).toEqual(['A']);
  });

  it('many claimants of a dead holder: exactly one takes the id, the rest probe the new holder', async () => {
    const hub = createHub({}, { clock: new ManualClock() });
    const holder = await join(hub, 'A', 'r');
    const watcher = await join(hub, 'W', 'r');
    holder.alive = false;
    const claimants = Array.from({ length: 50 }, () => connect(hub));
    for (const claimant of claimants) claimant.say('/announce|A|{"id":"A","room":"r"}');
    await hub.idle();
    const outcomes = claimants.map((c) => c.take());
    const winners = outcomes.filter((received) => received[0] === '/roominfo|{"memberCount":2}');
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((received) => codeOf(received[0]) === 'id-taken')).toHaveLength(49);
    expect(holder.closedWith).toBe(4009);
    expect(hub.stats()).toMatchObject({ members: 2, closed: { idTaken: 1 } });
    // the room saw one re-announce of A, never two holders
    expect(watcher.take().filter((m) => m.startsWith('/announce|A|'))).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { probeWithin } from './probe.ts';

describe('probeWithin', () => {
  it('settles once on the first evidence and tears down', async () => {
    let teardowns = 0;
    const probe = probeWithin(1000, (settle) => {
      settle(true);
      settle(false);
      return () => (teardowns += 1);
    });
    await expect(probe).resolves.toBe(true);
    expect(teardowns).toBe(1);
  });

  it('reads dead after the deadline plus one task, so evidence queued meanwhile still counts', async () => {
    let teardowns = 0;
    let answer!: (alive: boolean) => void;
    const late = probeWithin(20, (settle) => {
      answer = settle;
      return () => (teardowns += 1);
    });
    // evidence handled just after the expired deadline, in the same turn (a busy loop) wins
    setTimeout(() => answer(true), 20);
    const silent = probeWithin(20, () => undefined);
    expect(await Promise.all([late, silent])).toEqual([true, false]);
    expect(teardowns).toBe(1);
  });
});

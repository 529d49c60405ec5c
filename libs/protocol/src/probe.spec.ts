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
    // evidence due after the deadline, both overdue once a stalled loop resumes (the busy wait
    // below): the deadline's timer runs first, the evidence in the same turn, and it still wins.
    // The stall makes the order independent of machine load.
    setTimeout(() => answer(true), 25);
    const silent = probeWithin(20, () => undefined);
    const until = Date.now() + 40;
    while (Date.now() < until);
    expect(await Promise.all([late, silent])).toEqual([true, false]);
    expect(teardowns).toBe(1);
  });
});

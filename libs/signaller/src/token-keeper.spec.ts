import { describe, expect, it } from 'vitest';
import { ManualClock } from '@switchyard/test-kit';
import { createTokenKeeper } from './token-keeper.ts';

const NOW = Date.UTC(2026, 11, 2);
/** An unsigned JWT-shaped token with `exp` (the keeper only reads it). */
const jwt = (expMs: number) =>
  `e30.${Buffer.from(JSON.stringify({ exp: Math.floor(expMs / 1000) })).toString('base64url')}.x`;

describe('createTokenKeeper', () => {
  it('renews a minute before exp, and plans past the 24.8-day timer limit without firing early', async () => {
    const clock = new ManualClock(NOW);
    let due = 0;
    const short = createTokenKeeper(
      () => jwt(NOW + 10 * 60_000),
      clock,
      () => (due += 1),
    );
    expect(await short.refresh()).toBe(true);
    clock.advance(9 * 60_000 - 1);
    expect(due).toBe(0);
    clock.advance(2);
    expect(due).toBe(1);

    let longDue = 0;
    const later = new ManualClock(NOW);
    const long = createTokenKeeper(
      () => jwt(NOW + 60 * 86_400_000),
      later,
      () => (longDue += 1),
    );
    await long.refresh();
    expect(await long.refresh()).toBe(false); // the same token again: nothing to re-announce
    later.advance(30 * 86_400_000);
    expect(longDue).toBe(0);
    later.advance(30 * 86_400_000 - 120_000);
    expect(longDue).toBe(0);
    later.advance(60_001);
    expect(longDue).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { LIMITS } from '@switchyard/protocol';
import { senderStamp } from './frame.ts';
import { checkSender } from './sender-check.ts';

const stamp = senderStamp('A');

describe('checkSender (docs/protocol.md §4.2 step 6)', () => {
  it('accepts the id in either dialect, and returns a json sender token for the hub to check', () => {
    expect(checkSender('A', '/chat', 'A', stamp)).toEqual({ ok: true });
    expect(checkSender('{"id":"A"}', '/chat', 'A', stamp)).toEqual({ ok: true });
    expect(checkSender('{"id":"A","name":"x"}', '/chat', 'A', stamp)).toEqual({ ok: true });
    expect(checkSender('{"token":"t","id":"A"}', '/chat', 'A', stamp)).toEqual({
      ok: true,
      token: 't',
    });
  });

  it('refuses a missing, oversized or foreign sender', () => {
    expect(checkSender(undefined, '/chat', 'A', stamp)).toMatchObject({ code: 'malformed' });
    const long = `{"id":"A","pad":"${'x'.repeat(LIMITS.maxSenderLength)}"}`;
    expect(checkSender(long, '/chat', 'A', stamp)).toMatchObject({ code: 'malformed' });
    expect(checkSender('B', '/chat', 'A', stamp)).toMatchObject({ code: 'sender-mismatch' });
    expect(checkSender('{"id":"B","token":"t"}', '/chat', 'A', stamp)).toMatchObject({
      code: 'sender-mismatch',
    });
  });
});

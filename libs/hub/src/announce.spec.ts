import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeader } from '@switchyard/protocol';
import { parseAnnounce } from './announce.ts';

const verdict = (message: string) => parseAnnounce(message, parseHeader(message));
const reasonOf = (message: string) => {
  const result = verdict(message);
  return result.ok ? undefined : result.reason;
};

describe('parseAnnounce', () => {
  it('accepts an announce and relays it byte-identical when it carries no token', () => {
    const message = '/announce|A|{"id":"A","room":"r","name":"bob"}';
    const result = verdict(message);
    expect(result).toMatchObject({
      ok: true,
      announce: { id: 'A', room: 'r', dialect: 'bare', attributes: { id: 'A', name: 'bob' } },
    });
    if (result.ok) expect(result.announce.relayText).toBe(message);
  });

  it('reads the json dialect and numeric ids, and strips the token from the relay', () => {
    const result = verdict('/announce|{"id":"7"}|{"id":7,"room":"r","token":"t|x"}');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { announce } = result;
    expect([announce.id, announce.dialect, announce.token]).toEqual(['7', 'json', 't|x']);
    expect(announce.relayText).toBe('/announce|{"id":"7"}|{"id":7,"room":"r"}');
    expect(announce.relayHeader.sender).toBe('{"id":"7"}');
  });

  it('names what is wrong', () => {
    expect(reasonOf('/announce')).toMatch(/expected \/announce\|<id>/);
    expect(reasonOf('/announce|X')).toMatch(/JSON object/);
    expect(reasonOf('/announce|X|[1]')).toMatch(/JSON object/);
    expect(reasonOf('/announce|X|{"id":"Y","room":"r"}')).toMatch(/differs from the sender/);
    expect(reasonOf('/announce|X|{"id":"X","room":""}')).toMatch(/"room" must be .*1\.\.256/);
    expect(reasonOf('/announce|X|{"id":"X","room":"r","token":1}')).toMatch(/"token"/);
    expect(reasonOf(`/announce|${'x'.repeat(257)}|{"id":"${'x'.repeat(257)}","room":"r"}`)).toMatch(
      /"id" must be 1\.\.256/,
    );
  });

  it('refuses ids that are not well-formed text, which bare recipients would see as U+FFFD', () => {
    expect(reasonOf('/announce|\ud800admin|{"id":"\\ud800admin","room":"r"}')).toMatch(
      /well-formed/,
    );
    expect(verdict('/announce|😀|{"id":"😀","room":"r"}').ok).toBe(true);
  });

  it('refuses a token announce nested too deeply to re-encode, instead of failing after the join', () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    // V8 parses this nesting but overflows the stack encoding it again
    expect(reasonOf(`/announce|A|{"id":"A","room":"r","token":"t","x":${deep}}`)).toBe(
      'the announce payload is nested too deeply',
    );
  });

  it('never throws, and a valid verdict always names the sender id and a room', () => {
    const field = fc.oneof(
      fc.string(),
      fc.json(),
      fc.constantFrom('A', '{"id":"A"}', '{"id":1}', '{"id":"A","room":"r"}'),
    );
    fc.assert(
      fc.property(field, field, fc.array(field, { maxLength: 3 }), (sender, payload, rest) => {
        const message = ['/announce', sender, payload, ...rest].join('|');
        const result = verdict(message);
        if (result.ok) {
          expect(result.announce.room.length).toBeGreaterThan(0);
          expect(result.announce.relayText.startsWith('/announce|')).toBe(true);
        } else expect(typeof result.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '@switchyard/test-kit';
import { parseHeader } from '@switchyard/protocol';
import { checkDirected } from './directed.ts';
import { createHub } from './hub.ts';
import { join } from './test-peer.test-helper.ts';

const codeOf = (message: string | undefined) =>
  message ? (JSON.parse(message.slice(7)) as { code: string }).code : undefined;

describe('what /to may carry (docs/protocol.md §4.2 step 7)', () => {
  it('refuses inner commands that speak for the server or for another peer; the target hears none', async () => {
    const hub = createHub({}, { clock: new ManualClock() });
    const mallory = await join(hub, 'M', 'r');
    const victim = await join(hub, 'V', 'r');
    const bystander = await join(hub, 'C', 'r', 'json');
    mallory.take();
    victim.take();
    const forged: [string, string][] = [
      ['/to|V|/error|M|{"code":"id-taken","message":"pick another id"}', 'malformed'],
      ['/to|V|/roominfo|M|{"memberCount":1}', 'malformed'],
      ['/to|V|/leave|M|{"id":"C"}', 'malformed'],
      ['/to|V|/to|M|/offer|M|{}', 'malformed'],
      ['/to|V|/announce|M|{"id":"C","room":"r","name":"evil"}', 'sender-mismatch'],
      ['/to|V|/announce|M|not json', 'invalid-announce'],
      ['/to|V|/announce|M|[1]', 'invalid-announce'],
      ['/to|M|/offer|M|{}', 'unknown-target'],
    ];
    for (const [frame] of forged) mallory.say(frame);
    expect(mallory.take().map(codeOf)).toEqual(forged.map(([, code]) => code));
    expect(victim.take()).toEqual([]);
    // the honest directed announce (a reply to a broadcast one) still passes, without its token
    mallory.say('/to|V|/announce|M|{"id":"M","room":"r","token":"secret"}');
    mallory.say('/to|V|/announce|M|{"id":"M","room":"r","name":"m"}');
    expect(victim.take()).toEqual([
      '/to|V|/announce|M|{"id":"M","room":"r"}',
      '/to|V|/announce|M|{"id":"M","room":"r","name":"m"}',
    ]);
    expect(bystander.take()).toEqual([]);
    expect(mallory.take()).toEqual([]);
  });

  it('a /leave reaches the room as the hub writes it, so it cannot name another peer', async () => {
    const hub = createHub({}, { clock: new ManualClock() });
    const mallory = await join(hub, 'M', 'r');
    const bare = await join(hub, 'B', 'r');
    const json = await join(hub, 'J', 'r', 'json');
    bare.take();
    mallory.say('/leave|M|{"id":"J","extra":1}');
    expect(bare.take()).toEqual(['/leave|M|{"id":"M","reason":"leave"}']);
    expect(json.take()).toEqual(['/leave|{"id":"M"}|{"id":"M","reason":"leave"}']);
    expect(hub.roomMembers('r')).toEqual(['B', 'J']);
  });

  it('checkDirected keeps other payloads as text and refuses unstringifiable nesting', () => {
    const chat = '/to|V|/chat|M|{"id":"C"}';
    expect(checkDirected(chat, parseHeader(chat), 'M')).toMatchObject({ ok: true, text: chat });
    const deep = `/to|V|/announce|M|{"id":"M","token":"t","x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const verdict = checkDirected(deep, parseHeader(deep), 'M');
    // V8 parses this nesting; stringify may overflow the stack: refused then, never thrown
    if (verdict.ok) expect(verdict.text).not.toContain('"token"');
    else expect(verdict.code).toBe('invalid-announce');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeader, payloadOf, replaceSender } from './header.ts';
import { readSender, senderField } from './sender.ts';
import { fitsInBytes, utf8ByteLength } from './limits.ts';
import { errorFromPayload, SignallingError } from './errors.ts';
import { errorMessage, leaveMessage, roomInfoMessage } from './builders.ts';

describe('parseHeader', () => {
  it('reads a broadcast header without touching the payload', () => {
    const message = '/chat|A|{"text":"x|y"}|2';
    const header = parseHeader(message);
    expect(header).toMatchObject({ command: '/chat', sender: 'A' });
    expect(payloadOf(message, header)).toBe('{"text":"x|y"}|2');
    expect(replaceSender(message, header, '{"id":"A"}')).toBe('/chat|{"id":"A"}|{"text":"x|y"}|2');
    expect(replaceSender(message, header, 'A')).toBe(message);
  });

  it('reads /to target, inner command and sender', () => {
    const message = '/to|B|/sdp|A|{"type":"offer"}';
    const header = parseHeader(message);
    expect(header).toMatchObject({
      command: '/to',
      target: 'B',
      innerCommand: '/sdp',
      sender: 'A',
    });
    expect(replaceSender(message, header, '{"id":"A"}')).toBe(
      '/to|B|/sdp|{"id":"A"}|{"type":"offer"}',
    );
    expect(parseHeader('/to|B|/ping|A')).toMatchObject({ sender: 'A' });
    expect(payloadOf('/to|B|/ping|A', parseHeader('/to|B|/ping|A'))).toBe('');
  });

  it('reports missing fields as undefined', () => {
    expect(parseHeader('/ping')).toEqual({ command: '/ping', senderStart: 5, senderEnd: 5 });
    expect(parseHeader('/to|B').sender).toBeUndefined();
    expect(parseHeader('/to|B|/x').sender).toBeUndefined();
    expect(parseHeader('').command).toBe('');
    expect(parseHeader('/m|ME|').sender).toBe('ME');
  });

  it('never throws and replaceSender keeps every other byte (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (message) => {
        const header = parseHeader(message);
        if (header.sender !== undefined) {
          const replaced = replaceSender(message, header, 'Z');
          expect(
            message.slice(0, header.senderStart) + header.sender + message.slice(header.senderEnd),
          ).toBe(message);
          expect(replaced.startsWith(message.slice(0, header.senderStart) + 'Z')).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('sender dialects', () => {
  it('accepts bare and json senders', () => {
    expect(readSender('A')).toEqual({ id: 'A', dialect: 'bare' });
    expect(readSender('{"id":"A"}')).toEqual({ id: 'A', dialect: 'json' });
    expect(readSender('{"id":1}')).toEqual({ id: '1', dialect: 'json' });
    expect(readSender('{"id":"A","token":"t"}')).toEqual({
      id: 'A',
      dialect: 'json',
      extra: { token: 't' },
    });
    expect(readSender('{"memberCount":1}')).toEqual({ id: '{"memberCount":1}', dialect: 'bare' });
    expect(readSender('{oops}').dialect).toBe('bare');
    expect(senderField('A', 'json')).toBe('{"id":"A"}');
    expect(readSender(senderField('x"y', 'json')).id).toBe('x"y');
  });

  it('builds server messages in each dialect', () => {
    expect(leaveMessage('A', 'bare')).toBe('/leave|A|{"id":"A"}');
    expect(leaveMessage('A', 'json')).toBe('/leave|{"id":"A"}|{"id":"A"}');
    expect(leaveMessage('A', 'bare', 'disconnect')).toBe(
      '/leave|A|{"id":"A","reason":"disconnect"}',
    );
    expect(roomInfoMessage({ memberCount: 2 })).toBe('/roominfo|{"memberCount":2}');
    expect(errorMessage('rate-limited', 'slow down', { retryAfterMs: 10 })).toBe(
      '/error|{"retryAfterMs":10,"code":"rate-limited","message":"slow down"}',
    );
  });
});

describe('errors and limits', () => {
  it('maps wire payloads to typed errors', () => {
    const error = errorFromPayload({ code: 'id-taken', message: 'taken', id: 'A' });
    expect(error).toBeInstanceOf(SignallingError);
    expect(error.code).toBe('id-taken');
    expect(error.details).toEqual({ id: 'A' });
    expect(errorFromPayload({ code: 'weird' }).code).toBe('malformed');
    expect(errorFromPayload('x').code).toBe('malformed');
  });

  it('counts UTF-8 bytes like TextEncoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).length);
        expect(fitsInBytes(text, 10)).toBe(new TextEncoder().encode(text).length <= 10);
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeField,
  encodeField,
  encodeMessage,
  FieldEncodingError,
  splitFields,
} from './codec.ts';

describe('encodeField', () => {
  it('encodes values the way rtc-signal prepare does', () => {
    expect(encodeMessage(['/obj', 'ME', { a: 1, b: [1, 2] }, 'str', 3.5, true])).toBe(
      '/obj|ME|{"a":1,"b":[1,2]}|str|3.5|true',
    );
    expect(encodeMessage(['/n', 'ME', null])).toBe('/n|ME|null');
    expect(encodeMessage(['/u', 'ME', undefined])).toBe('/u|ME|');
    expect(encodeMessage(['/f', 'ME', () => 1])).toBe('/f|ME|');
    expect(encodeMessage(['/value', 'ME', 0])).toBe('/value|ME|0');
    expect(encodeMessage(['/message', 'ME', ''])).toBe('/message|ME|');
    expect(encodeField(new String('boxed'))).toBe('boxed');
    expect(encodeMessage(['/hi', 'ME'])).toBe('/hi|ME');
  });

  it('escapes | inside JSON and refuses it in raw strings', () => {
    expect(encodeField({ text: 'a|b' })).toBe('{"text":"a\\u007cb"}');
    expect(encodeField({ 'k|': '\\|' })).toBe('{"k\\u007c":"\\\\\\u007c"}');
    expect(() => encodeField('c|d')).toThrow(FieldEncodingError);
  });
});

describe('decodeField', () => {
  it('follows cog/jsonparse', () => {
    expect(decodeField('true')).toBe(true);
    expect(decodeField('false')).toBe(false);
    expect(decodeField('null')).toBe(null);
    expect(decodeField('7')).toBe(7);
    expect(decodeField('007')).toBe(7);
    expect(decodeField('1.')).toBe(1);
    expect(decodeField('-2.5')).toBe(-2.5);
    expect(decodeField('1e3')).toBe('1e3');
    expect(decodeField('.5')).toBe('.5');
    expect(decodeField('12abc')).toBe('12abc');
    expect(decodeField('')).toBe('');
    expect(decodeField('"5"')).toBe('5');
    expect(decodeField('{broken')).toBe('{broken');
    expect(decodeField('{broken}')).toBe('{broken}');
    expect(decodeField('"')).toBe('"');
  });
});

describe('round trips (property)', () => {
  it('any JSON object survives encode → split → decode, with | inside', () => {
    const json = fc.dictionary(fc.string(), fc.jsonValue());
    fc.assert(
      fc.property(json, fc.array(json, { maxLength: 3 }), (first, rest) => {
        const message = encodeMessage(['/cmd', 'sender', first, ...rest]);
        const fields = splitFields(message);
        expect(fields).toHaveLength(3 + rest.length);
        // JSON round trips lose -0 and undefined-valued keys, exactly like JSON.parse(JSON.stringify(v)).
        expect(fields.slice(2).map(decodeField)).toEqual(
          [first, ...rest].map((v) => JSON.parse(JSON.stringify(v)) as unknown),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('strings without | and without JSON/number shapes survive unchanged', () => {
    const plain = fc
      .string({ minLength: 1 })
      .filter(
        (s) => !s.includes('|') && typeof decodeField(s) === 'string' && decodeField(s) === s,
      );
    fc.assert(
      fc.property(plain, (text) => {
        expect(decodeField(splitFields(encodeMessage(['/c', 'me', text]))[2]!)).toBe(text);
      }),
    );
  });

  it('decodeField never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => void decodeField(text)),
      {
        numRuns: 2000,
      },
    );
  });
});

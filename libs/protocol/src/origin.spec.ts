import { describe, expect, it } from 'vitest';
import { originAllowed } from './origin.ts';

describe('originAllowed', () => {
  it('lets non-browser requests through and applies lists and predicates to the rest', () => {
    expect(originAllowed(undefined, ['https://a.test'])).toBe(true);
    expect(originAllowed('https://evil.test', undefined)).toBe(true);
    expect(originAllowed('https://a.test', ['https://a.test'])).toBe(true);
    expect(originAllowed('https://evil.test', ['https://a.test'])).toBe(false);
    expect(originAllowed('https://b.a.test', (origin) => origin.endsWith('.a.test'))).toBe(true);
    expect(originAllowed('https://evil.test', (origin) => origin.endsWith('.a.test'))).toBe(false);
  });
});

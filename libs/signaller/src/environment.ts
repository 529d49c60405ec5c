/** What a signaller announces about its runtime, and its default id. */

/** The package version; signaller.spec.ts checks it against package.json. */
const VERSION = '0.1.0';

interface RuntimeGlobals {
  process?: { versions?: { node?: string } };
  navigator?: { userAgent?: string };
}

const BROWSERS: [name: string, pattern: RegExp][] = [
  ['edge', /Edg\/([\d.]+)/],
  ['opera', /OPR\/([\d.]+)/],
  ['chrome', /(?:Chrome|Chromium|CriOS)\/([\d.]+)/],
  ['firefox', /(?:Firefox|FxiOS)\/([\d.]+)/],
  ['safari', /Version\/([\d.]+).*Safari/],
];

/**
 * `browser`, `browserVersion` and `agent`, as rtc-signaller sends them (rtc-quickconnect reads
 * `browser` and `browserVersion` to pick SDP semantics).
 */
export function defaultAttributes(): { browser: string; browserVersion: string; agent: string } {
  const runtime = globalThis as RuntimeGlobals;
  const agent = `switchyard@${VERSION}`;
  const node = runtime.process?.versions?.node;
  if (node) return { browser: 'node', browserVersion: node, agent };
  const userAgent = runtime.navigator?.userAgent ?? '';
  for (const [browser, pattern] of BROWSERS) {
    const match = pattern.exec(userAgent);
    if (match) return { browser, browserVersion: match[1]!, agent };
  }
  return { browser: 'unknown', browserVersion: '0.0.0', agent };
}

/** A cuid-like id: 25 characters, starting with `c`, so ids never prefix each other. */
export function generateId(): string {
  const random = new Uint8Array(16);
  globalThis.crypto.getRandomValues(random);
  let tail = '';
  for (const byte of random) tail += (byte % 36).toString(36);
  return `c${Date.now().toString(36).padStart(8, '0').slice(-8)}${tail}`;
}

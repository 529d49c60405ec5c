import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  describeConformance,
  quietFor,
  rawClient,
  sharedBrowserBridge,
  waitUntil,
} from '@switchyard/testing';
import { sseConnector } from './client.ts';
import { startSse } from './fixture.test-helper.ts';
import { sseSetup } from './setup.test-helper.ts';

// one Chromium for the whole file; each test opens its own pipes from the page (another origin)
const browserBridge = sharedBrowserBridge(
  fileURLToPath(new URL('./bridge-entry.test-helper.ts', import.meta.url)),
);

describeConformance(
  'sse, client half in Chromium',
  sseSetup({ connector: async (url) => (await browserBridge()).connector(url) }),
);

describe('sse resume in Chromium', () => {
  it("the browser's EventSource resumes a cut stream with Last-Event-ID; nothing lost or repeated", async () => {
    await using f = await startSse({ sse: { retryMs: 50 } });
    await using receiver = await rawClient((await browserBridge()).connector(f.url), ['R', 'r']);
    await using sender = await rawClient(sseConnector(f.url), ['S', 'r']);
    const received = () => receiver.received.filter((m) => m.startsWith('/to|R|/n|'));
    for (let i = 0; i < 100; i++) sender.say(`/to|R|/n|S|${i}`);
    await waitUntil(() => received().length >= 20, 'the first messages');
    f.streams[0]!.socket.destroy();
    await waitUntil(() => f.streams.length === 3, 'the browser to resume');
    expect(f.streams[2]!.headers['last-event-id']).toMatch(/^[\w-]{24}\.\d+$/);
    for (let i = 100; i < 120; i++) sender.say(`/to|R|/n|S|${i}`);
    await waitUntil(() => received().length >= 120, 'all 120 messages');
    await quietFor(400); // past the hub's grace window: a departure would show now
    expect(received()).toEqual(Array.from({ length: 120 }, (_, i) => `/to|R|/n|S|${i}`));
    expect(sender.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
    expect(receiver.closeInfo).toBeUndefined();
  });
});

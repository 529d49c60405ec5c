import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createSignaller } from '@switchyard/signaller';
import {
  bundleForBrowser,
  mintToken,
  nextEvent,
  openBrowserPage,
  TEST_JWT_SECRET,
  type BrowserPage,
} from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { startServer, type RunningServer } from './server.ts';

let server: RunningServer;
let browser: BrowserPage;

beforeAll(async () => {
  server = await startServer({ port: 0, logger: pino({ level: 'silent' }) });
  const bundle = await bundleForBrowser(
    fileURLToPath(new URL('./browser/ws-entry.ts', import.meta.url)),
  );
  browser = await openBrowserPage(bundle);
}, 60_000);

afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  await server?.close();
});

describe('in headless Chromium', () => {
  it('a browser peer (native WebSocket) and a Node peer meet in one room and exchange /to messages', async () => {
    const node = createSignaller(webSocketConnector(server.url), { id: 'node-peer' });
    try {
      await new Promise<void>((resolve) => {
        node.once('roominfo', () => resolve());
        node.announce({ room: 'browser-room' });
      });
      const browserAnnounce = nextEvent(
        node,
        'peer:announce',
        (data) => data.id === 'browser-peer',
        15_000,
      );
      const browserGot = browser.page.evaluate(async (url) => {
        const { createSignaller: create, webSocketConnector: connector } = (
          globalThis as unknown as {
            switchyard: {
              createSignaller: typeof createSignaller;
              webSocketConnector: typeof webSocketConnector;
            };
          }
        ).switchyard;
        const peer = create(connector(url), { id: 'browser-peer' });
        const got = new Promise<unknown>((resolve) =>
          peer.on('message:from-node', (payload) => resolve(payload)),
        );
        peer.on('peer:announce', (data) =>
          peer.to(data.id).send('/from-browser', { agent: navigator.userAgent, seen: data.id }),
        );
        peer.announce({ room: 'browser-room' });
        const payload = await got;
        return { payload, attributes: peer.attributes };
      }, server.url);
      const [announced] = await browserAnnounce;
      expect(announced).toMatchObject({
        id: 'browser-peer',
        browser: 'chrome',
        room: 'browser-room',
      });
      const fromBrowser = await nextEvent(node, 'message:from-browser', () => true, 15_000);
      expect(fromBrowser[0]).toMatchObject({
        seen: 'node-peer',
        agent: expect.stringContaining('Chrome'),
      });
      node.to('browser-peer').send('/from-node', { hello: 'browser' });
      const result = await browserGot;
      expect(result.payload).toEqual({ hello: 'browser' });
      expect(server.hub.roomMembers('browser-room').sort()).toEqual(['browser-peer', 'node-peer']);
    } catch (error) {
      throw new Error(`${String(error)}\nbrowser console:\n${browser.console.join('\n')}`);
    } finally {
      node.leave();
    }
  });

  it('a browser sends its JWT as a WebSocket subprotocol (kept out of the URL), fetched by a token function; a bad one is an UnauthorizedError', async () => {
    await using secured = await startServer({
      port: 0,
      logger: pino({ level: 'silent' }),
      transports: ['ws'],
      jwt: { secret: TEST_JWT_SECRET },
    });
    const good = await mintToken({ sub: 'browser-user', rooms: ['secure-*'] });
    const outcome = await browser.page.evaluate(
      async ({ url, good }) => {
        const { createSignaller: create, webSocketConnector: connector } = (
          globalThis as unknown as {
            switchyard: {
              createSignaller: typeof createSignaller;
              webSocketConnector: typeof webSocketConnector;
            };
          }
        ).switchyard;
        let calls = 0;
        const peer = create(
          connector(url, {
            token: async () => {
              calls += 1;
              return good;
            },
          }),
          { id: 'secure-browser' },
        );
        const joined = new Promise<number>((resolve) =>
          peer.once('roominfo', (info) => resolve(info.memberCount)),
        );
        peer.announce({ room: 'secure-room' });
        const memberCount = await joined;
        const refused = create(connector(url, { token: 'forged' }), { id: 'forged-browser' });
        const error = await new Promise<string>((resolve) =>
          refused.once('error', (e) => resolve(`${e.name} ${(e as { code?: string }).code}`)),
        );
        refused.leave();
        return { memberCount, calls, error };
      },
      { url: secured.url, good },
    );
    expect(outcome).toEqual({ memberCount: 1, calls: 1, error: 'UnauthorizedError unauthorized' });
    expect(secured.hub.roomMembers('secure-room')).toEqual(['secure-browser']);
  });

  it('a tab that navigates away says /leave on pagehide: the room hears it at once, not after the grace window', async () => {
    const left = nextEvent(server.hub, 'peer:left', (peer) => peer.id === 'tab-peer', 10_000);
    await browser.page.evaluate(async (url) => {
      const { createSignaller: create, webSocketConnector: connector } = (
        globalThis as unknown as {
          switchyard: {
            createSignaller: typeof createSignaller;
            webSocketConnector: typeof webSocketConnector;
          };
        }
      ).switchyard;
      const peer = create(connector(url), { id: 'tab-peer' });
      await new Promise<void>((resolve) => {
        peer.once('roominfo', () => resolve());
        peer.announce({ room: 'tabs' });
      });
    }, server.url);
    expect(server.hub.roomMembers('tabs')).toEqual(['tab-peer']);
    await browser.page.goto('about:blank');
    const [event] = await left;
    expect(event.reason).toBe('leave'); // a hard disconnect would say 'disconnect', 3 s later
    await browser.page.goto(browser.origin);
  });
});

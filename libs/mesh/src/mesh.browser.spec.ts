/**
 * Chromium pages (separate contexts, one browser) meet over a real hub and WebSocket server on
 * 127.0.0.1: two `createMesh` pages (data and video both ways, a closed page seen as
 * `peer:left` within 1 s through the signaller's `/leave` on `pagehide`), and a mesh page with
 * an original rtc-quickconnect 8.0.0 page, in both roles.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import {
  bundleForBrowser,
  launchChromium,
  serveHalves,
  waitFor,
  WEBRTC_FLAGS,
  type ServedFixture,
} from '@switchyard/testing';
import { webSocketServer } from '@switchyard/transport-ws/server';

interface MeshPageApi {
  start(url: string, id: string, room: string, video: boolean): Promise<void>;
  framesDecoded(peerId: string): Promise<number>;
  log(): string[];
  broadcast(text: string): void;
}
declare const meshPage: MeshPageApi;
interface QuickconnectPageApi {
  start(url: string, id: string, room: string): Promise<void>;
  log(): string[];
  send(text: string): void;
  videoWidth(peerId: string): number;
}
declare const qcPage: QuickconnectPageApi;

/** The original quickconnect, bundled as its era's browserify would: Node shims, no `ws`. */
async function quickconnectBundle(): Promise<string> {
  const here = (file: string) => fileURLToPath(new URL(`./browser/${file}`, import.meta.url));
  const result = await build({
    entryPoints: [here('quickconnect-page.test-helper.mjs')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    inject: [here('node-shims.test-helper.mjs')],
    define: { global: 'globalThis' },
    alias: { ws: here('empty.test-helper.mjs') },
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

let served: ServedFixture;
let pages: Server;
let origin: string;
let browser: Browser;
const hub = createHub({ graceMs: 3000 });

beforeAll(async () => {
  served = await serveHalves(hub.accept, [webSocketServer()]);
  const bundles: Record<string, string> = {
    '/mesh.js': await bundleForBrowser(
      fileURLToPath(new URL('./browser/mesh-page.test-helper.ts', import.meta.url)),
    ),
    '/qc.js': await quickconnectBundle(),
  };
  // pages of their own origin (a secure context on 127.0.0.1), apart from the signalling server
  pages = createServer((request, response) => {
    const script = bundles[request.url ?? ''];
    if (script) {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      return;
    }
    const kind = request.url === '/qc.html' ? 'qc' : 'mesh';
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        `<!doctype html><meta charset="utf-8"><title>${kind}</title><script src="/${kind}.js"></script>`,
      );
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  browser = await launchChromium(WEBRTC_FLAGS);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  pages?.closeAllConnections();
  await new Promise((resolve) => pages?.close(resolve));
  await served?.close();
  hub.close();
});

async function openPage(id: string, room: string, kind: 'mesh' | 'qc' = 'mesh'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${origin}/${kind}.html`);
  const args = [served.url(), id, room] as const;
  if (kind === 'mesh') {
    await page.evaluate(([url, peerId, name]) => meshPage.start(url, peerId, name, true), args);
  } else {
    await page.evaluate(([url, peerId, name]) => qcPage.start(url, peerId, name), args);
  }
  expect(errors).toEqual([]);
  return page;
}

const logOf = (page: Page) => page.evaluate(() => meshPage.log());
const qcLogOf = (page: Page) => page.evaluate(() => qcPage.log());

/** Waits until `page` decodes frames of `peerId`'s video, and more a moment later. */
async function decodesVideoOf(page: Page, peerId: string): Promise<void> {
  const first = await waitFor(
    async () => (await page.evaluate((id) => meshPage.framesDecoded(id), peerId)) || false,
    `frames from ${peerId}`,
    10_000,
  );
  await waitFor(
    async () => (await page.evaluate((id) => meshPage.framesDecoded(id), peerId)) > first,
    `more frames from ${peerId}`,
  );
}

describe('createMesh in Chromium', () => {
  it('two pages connect: data and video both ways; a closed page is peer:left within 1 s', async () => {
    const alice = await openPage('alice', 'browser-mesh');
    const bob = await openPage('bob', 'browser-mesh');
    for (const [page, other] of [
      [alice, 'bob'],
      [bob, 'alice'],
    ] as const) {
      await waitFor(
        async () => (await logOf(page)).includes(`connected ${other}`),
        `the call to ${other}`,
        15_000,
      );
    }
    await alice.evaluate(() => meshPage.broadcast('hi bob'));
    await bob.evaluate(() => meshPage.broadcast('hi alice'));
    await waitFor(async () => (await logOf(bob)).includes('data alice hi bob'), 'alice → bob');
    await waitFor(async () => (await logOf(alice)).includes('data bob hi alice'), 'bob → alice');

    // video: each side decodes frames of the other's (fake) camera, and keeps decoding
    for (const [page, other] of [
      [alice, 'bob'],
      [bob, 'alice'],
    ] as const) {
      await decodesVideoOf(page, other);
      const playing = await page.evaluate(
        (id) =>
          document.querySelector<HTMLVideoElement>(`video[data-peer-id="${id}"]`)?.videoWidth ?? 0,
        other,
      );
      expect(playing).toBeGreaterThan(0);
    }

    const closedAt = Date.now();
    await bob.context().close();
    await waitFor(async () => (await logOf(alice)).includes('left bob leave'), 'peer:left', 1000);
    expect(Date.now() - closedAt).toBeLessThan(1000);
    await alice.context().close();
  }, 60_000);

  // both roles: towards an original the mesh always offers, and towards a quickconnect master
  // it holds its /ready until connected (docs/protocol.md §8)
  it.each([
    ['the mesh has the lower id', 'a-mesh', 'z-qc'],
    ['quickconnect has the lower id', 'z-mesh', 'a-qc'],
  ])(
    'an original rtc-quickconnect 8.0.0 page and a mesh page complete a call (%s)',
    async (_, meshId, qcId) => {
      const room = `qc-${meshId}`;
      const qc = await openPage(qcId, room, 'qc');
      const mesh = await openPage(meshId, room);
      try {
        await waitFor(
          async () => (await logOf(mesh)).includes(`connected ${qcId}`),
          'the mesh side',
          15_000,
        );
        await waitFor(
          async () => (await qcLogOf(qc)).includes(`channel ${meshId}`),
          "quickconnect's channel",
          15_000,
        );
        expect(await qcLogOf(qc)).toContain(`call:started ${meshId}`);
        await mesh.evaluate(() => meshPage.broadcast('hello quickconnect'));
        await qc.evaluate(() => qcPage.send('hello mesh'));
        await waitFor(
          async () => (await qcLogOf(qc)).includes(`data ${meshId} hello quickconnect`),
          'mesh → qc',
        );
        await waitFor(
          async () => (await logOf(mesh)).includes(`data ${qcId} hello mesh`),
          'qc → mesh',
        );
        await decodesVideoOf(mesh, qcId);
        await waitFor(
          async () => (await qc.evaluate((id) => qcPage.videoWidth(id), meshId)) > 0,
          'video at qc',
          10_000,
        );
      } finally {
        await qc.context().close();
        await mesh.context().close();
      }
    },
    60_000,
  );
});

/**
 * Headless Chromium that can do WebRTC over loopback. `openBrowserPage` from @switchyard/testing
 * takes no launch flags, and Chromium without them offers only mDNS-obfuscated host candidates
 * on the default-route interface: never 127.0.0.1. Loopback candidates need
 * `--allow-loopback-in-peer-connection` plus permission to enumerate interfaces, which a
 * (fake) microphone grant gives.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { definePipe, type Connector, type PipeHandle } from '@switchyard/protocol';
import { bundleForBrowser, CHROMIUM_PATH } from '@switchyard/testing';

/** A page with the bundle loaded and loopback WebRTC unlocked. */
export interface WebRtcPage extends AsyncDisposable {
  readonly page: Page;
  /** Console lines, for failure messages. */
  readonly console: string[];
  /**
   * A connector whose pipes the page opens with its `installBridge` factory (from
   * `@switchyard/testing/bridge-page`) for `target`, relayed to Node: the same bridge as
   * `openBrowserBridge`, which cannot pass the launch flags WebRTC needs here.
   */
  connector(target: string): Connector;
}

interface BridgeGlobals {
  __switchyardBridge: {
    open(id: number, target: string): Promise<void>;
    send(id: number, message: string): void;
    close(id: number, code?: number, reason?: string): void;
  };
}

/** Node's half of the bridge: pipes whose far ends live in the page. */
async function bridge(page: Page): Promise<(target: string) => Connector> {
  const handles = new Map<number, PipeHandle>();
  let nextId = 1;
  await page.exposeFunction('__switchyardToNode', (id: number, kind: string, data: string) => {
    const handle = handles.get(id);
    if (!handle) return;
    if (kind === 'message') return handle.receive(data);
    handles.delete(id);
    const info = JSON.parse(data) as { code?: number; reason?: string };
    handle.closed({
      ...(info.code !== undefined && { code: info.code }),
      ...(info.reason !== undefined && { reason: info.reason }),
    });
  });
  const call = (method: 'send' | 'close', args: unknown[]) =>
    void page
      .evaluate(
        ([name, values]) => {
          const target = (globalThis as unknown as BridgeGlobals).__switchyardBridge;
          // null stands in for undefined across the evaluate boundary
          (target[name] as (...args: unknown[]) => void)(...values.map((v) => v ?? undefined));
        },
        [method, args] as ['send' | 'close', unknown[]],
      )
      .catch(() => undefined);
  return (target) =>
    async ({ signal } = {}) => {
      signal?.throwIfAborted();
      const id = nextId++;
      // calls reach the page in the order they are made, so per-pipe order holds
      const handle = definePipe('browser', {
        send: (message) => call('send', [id, message]),
        close: (code, reason) => call('close', [id, code ?? null, reason ?? null]),
      });
      handles.set(id, handle);
      try {
        await page.evaluate(
          ([i, t]) => (globalThis as unknown as BridgeGlobals).__switchyardBridge.open(i, t),
          [id, target] as [number, string],
        );
      } catch (error) {
        handles.delete(id);
        throw new Error(`the browser could not connect to ${target}: ${String(error)}`);
      }
      return handle.pipe;
    };
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Bundles `entry`, serves it from 127.0.0.1 (a secure context) and opens it in Chromium. */
export async function openWebRtcPage(entry: string): Promise<WebRtcPage> {
  const script = await bundleForBrowser(entry);
  const server: Server = createServer((request, response) => {
    const isBundle = request.url === '/bundle.js';
    response.writeHead(200, { 'content-type': isBundle ? 'text/javascript' : 'text/html' });
    response.end(
      isBundle ? script : '<!doctype html><meta charset="utf-8"><script src="/bundle.js"></script>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stopServer = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
    const page = await browser.newPage();
    const lines: string[] = [];
    page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      for (const track of stream.getTracks()) track.stop();
    });
    const opened = browser;
    const connector = await bridge(page);
    return {
      page,
      console: lines,
      connector,
      async [Symbol.asyncDispose]() {
        await opened.close();
        await stopServer();
      },
    };
  } catch (error) {
    await browser?.close();
    await stopServer();
    throw new Error(`could not start Chromium at ${CHROMIUM_PATH}: ${String(error)}`);
  }
}

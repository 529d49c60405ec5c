/**
 * Headless Chromium for browser tests: Debian's `chromium` driven by playwright-core, and
 * bundles of Switchyard sources built with Vite for the page.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** A browser page served from a loopback origin, with the bundle loaded. */
export interface BrowserPage extends AsyncDisposable {
  readonly page: Page;
  /** The page's origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** Console lines the page printed, for failure messages. */
  readonly console: string[];
}

/** Bundles `entry` (TypeScript, resolved on sources) into one browser script. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    resolve: { conditions: ['@switchyard/source', 'browser', 'module', 'import', 'default'] },
    build: {
      write: false,
      minify: false,
      lib: { entry, formats: ['iife'], name: 'switchyardTest', fileName: 'bundle' },
      rollupOptions: { external: ['ws'] },
    },
  });
  const outputs = Array.isArray(result) ? result : [result];
  for (const output of outputs) {
    if ('output' in output) {
      const chunk = output.output.find((item) => item.type === 'chunk');
      if (chunk && chunk.type === 'chunk') return chunk.code;
    }
  }
  throw new Error(`vite produced no bundle for ${entry}`);
}

/**
 * Flags that let headless Chromium do WebRTC over loopback. Without them it offers only
 * mDNS-obfuscated host candidates on the default-route interface, never 127.0.0.1: loopback
 * candidates need `--allow-loopback-in-peer-connection` plus permission to enumerate
 * interfaces, which the fake media grant gives; the fake devices make `getUserMedia` work.
 */
export const WEBRTC_FLAGS: readonly string[] = [
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/**
 * Collects what a page reports going wrong: uncaught errors and console errors (a content
 * security policy violation, a failed resource). Assert it is empty after the page settles.
 */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  return problems;
}

/** Launches Debian's headless Chromium with the test flags plus `args`. */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        ...args,
      ],
    });
  } catch (error) {
    throw new Error(
      `could not start Chromium at ${CHROMIUM_PATH} (apt-get install chromium): ${String(error)}`,
    );
  }
}

/** Options of {@link openBrowserPage}. */
export interface BrowserPageOptions {
  /** Extra Chromium flags, e.g. for loopback WebRTC. @default [] */
  readonly launchArgs?: readonly string[];
}

/** Launches headless Chromium, serves `script` on a loopback page and opens it. */
export async function openBrowserPage(
  script: string,
  options: BrowserPageOptions = {},
): Promise<BrowserPage> {
  const server: Server = createServer((request, response) => {
    if (request.url === '/bundle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(script);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(
      '<!doctype html><meta charset="utf-8"><title>switchyard test</title><script src="/bundle.js"></script>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(options.launchArgs);
    const page = await browser.newPage();
    const lines: string[] = [];
    page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
    await page.goto(origin);
    const opened = browser;
    return {
      page,
      origin,
      console: lines,
      async [Symbol.asyncDispose]() {
        await opened.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  } catch (error) {
    await browser?.close();
    server.close();
    throw error;
  }
}

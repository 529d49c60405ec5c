/**
 * Runs a transport's client half in headless Chromium while the test stays in Node: each
 * connection is opened by the page (native WebSocket, EventSource, fetch…) and relayed to Node
 * as a `Pipe`, so the whole conformance suite can run against the browser client half.
 *
 * ```ts
 * const bridge = await openBrowserBridge(fileURLToPath(new URL('./browser/bridge-entry.ts', import.meta.url)));
 * describeConformance('ws (chromium)', async (hub) => ({ connector: bridge.connector(url), dispose }));
 * ```
 * The entry file calls `installBridge((url) => someConnector(url))` from `@switchyard/testing/bridge-page`.
 */
import { afterAll } from 'vitest';
import { definePipe, type Connector, type PipeHandle } from '@switchyard/protocol';
import {
  bundleForBrowser,
  openBrowserPage,
  type BrowserPage,
  type BrowserPageOptions,
} from './browser.ts';

/** A browser page with the bridge installed. */
export interface BrowserBridge extends AsyncDisposable {
  readonly browser: BrowserPage;
  /** A connector whose pipes are opened by the page against `url`. */
  connector(url: string): Connector;
}

/** Bundles `entry`, opens it in Chromium and wires the bridge. */
export async function openBrowserBridge(
  entry: string,
  options: BrowserPageOptions = {},
): Promise<BrowserBridge> {
  const browser = await openBrowserPage(await bundleForBrowser(entry), options);
  const handles = new Map<number, PipeHandle>();
  let nextId = 1;
  await browser.page.exposeFunction(
    '__switchyardToNode',
    (id: number, kind: string, data: string) => {
      const handle = handles.get(id);
      if (!handle) return;
      if (kind === 'message') handle.receive(data);
      else {
        handles.delete(id);
        const info = JSON.parse(data) as { code?: number; reason?: string };
        handle.closed({
          ...(info.code !== undefined && { code: info.code }),
          ...(info.reason !== undefined && { reason: info.reason }),
        });
      }
    },
  );
  const page = browser.page;
  return {
    browser,
    connector(url) {
      return async ({ signal } = {}) => {
        signal?.throwIfAborted();
        const id = nextId++;
        // calls reach the page in the order they are made, so per-pipe order holds
        const handle = definePipe('browser', {
          send: (message) => {
            page
              .evaluate(
                ([i, m]) =>
                  (
                    globalThis as { __switchyardBridge?: { send(i: number, m: string): void } }
                  ).__switchyardBridge!.send(i, m),
                [id, message] as const,
              )
              .catch(() => undefined);
          },
          close: (code, reason) => {
            page
              .evaluate(
                ([i, c, r]) =>
                  (
                    globalThis as {
                      __switchyardBridge?: { close(i: number, c?: number, r?: string): void };
                    }
                  ).__switchyardBridge!.close(i, c ?? undefined, r ?? undefined),
                [id, code ?? null, reason ?? null] as const,
              )
              .catch(() => undefined);
          },
        });
        handles.set(id, handle);
        try {
          await page.evaluate(
            ([i, u]) =>
              (
                globalThis as { __switchyardBridge?: { open(i: number, u: string): Promise<void> } }
              ).__switchyardBridge!.open(i, u),
            [id, url] as const,
          );
        } catch (error) {
          handles.delete(id);
          throw new Error(`the browser could not connect to ${url}: ${String(error)}`);
        }
        return handle.pipe;
      };
    },
    [Symbol.asyncDispose]: () => browser[Symbol.asyncDispose](),
  };
}

/**
 * One Chromium bridge for a whole spec file, opened on first use and closed after the file's
 * last test: `const browserBridge = sharedBrowserBridge(entry)`, then `await browserBridge()`.
 */
export function sharedBrowserBridge(
  entry: string,
  options: BrowserPageOptions = {},
): () => Promise<BrowserBridge> {
  let bridge: Promise<BrowserBridge> | undefined;
  afterAll(async () => {
    await (await bridge)?.[Symbol.asyncDispose]();
  });
  return () => (bridge ??= openBrowserBridge(entry, options));
}

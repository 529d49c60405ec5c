/**
 * `@switchyard/testing` (private): the conformance suite every transport runs, raw wire clients
 * and waiting helpers with deadlines.
 *
 * @example
 * ```ts
 * import { describeConformance } from '@switchyard/testing';
 * import { createMemoryServer } from '@switchyard/transport-memory/server';
 *
 * describeConformance('memory', async (hub) => {
 *   const server = createMemoryServer(hub.accept);
 *   return { connector: server.connector, dispose: () => server.close() };
 * });
 * ```
 */
export {
  describeConformance,
  type ConformanceServer,
  type ConformanceSetup,
  type ConformanceOptions,
} from './conformance.ts';
export { rawClient, errorCodeOf, type RawClient } from './raw-client.ts';
export { nextEvent } from './wait.ts';
export * from '@switchyard/test-kit';
export {
  bundleForBrowser,
  openBrowserPage,
  CHROMIUM_PATH,
  type BrowserPage,
  type BrowserPageOptions,
} from './browser.ts';
export { openBrowserBridge, sharedBrowserBridge, type BrowserBridge } from './browser-bridge.ts';

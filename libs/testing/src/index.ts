/**
 * `@switchyard/testing` (private): the conformance suite every transport runs, raw wire clients
 * and waiting helpers with deadlines.
 *
 * @example
 * ```ts
 * import { describeConformance } from '@switchyard/testing';
 * import { memoryServer } from '@switchyard/transport-memory/server';
 *
 * describeConformance('memory', async (accept) => {
 *   const server = memoryServer(accept);
 *   return { connector: server.connector, [Symbol.asyncDispose]: () => server.close() };
 * });
 * ```
 */
export {
  describeConformance,
  type ConformanceServer,
  type ConformanceSetup,
  type ConformanceOptions,
} from './conformance.ts';
export {
  describePipeContract,
  type ContractTransport,
  type ContractServer,
  type ContractCapability,
  type RawPeer,
  type TransportSetup,
} from './pipe-contract.ts';
export { serveHalves, muteServer, type ServedFixture, type MuteServer } from './serve.ts';
export { rawClient, errorCodeOf, type RawClient } from './raw-client.ts';
export { nextEvent } from './wait.ts';
export * from '@switchyard/test-kit';
export {
  bundleForBrowser,
  openBrowserPage,
  launchChromium,
  pageProblems,
  CHROMIUM_PATH,
  WEBRTC_FLAGS,
  type BrowserPage,
  type BrowserPageOptions,
} from './browser.ts';
export { openBrowserBridge, sharedBrowserBridge, type BrowserBridge } from './browser-bridge.ts';
export { describeAuthentication, type AuthServer, type AuthTransport } from './auth-suite.ts';
export { describeCluster, type TestCluster, type MakeCluster } from './cluster-suite.ts';

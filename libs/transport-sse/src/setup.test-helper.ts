/** The SSE transport mounted for the conformance and pipe-contract suites. */
import type { Connector } from '@switchyard/protocol';
import { muteServer, serveHalves, type TransportSetup } from '@switchyard/testing';
import { sseConnector } from './client.ts';
import { rawSsePeer } from './raw-sse.test-helper.ts';
import { sseServer, type SseServerOptions } from './server.ts';

/**
 * The resume window of the suites' server: a killed peer's session waits this long for a resume
 * before the hub's grace window starts, so it is the contract's `detectionMs`. Small, so the
 * hard-disconnect cases stay quick.
 */
export const SETUP_RESUME_WINDOW_MS = 300;

/** Options of {@link sseSetup}. */
export interface SseSetupOptions {
  readonly server?: SseServerOptions;
  /** The client half under test. @default the Node `sseConnector` */
  readonly connector?: (url: string) => Connector | Promise<Connector>;
}

/** Serves `sseServer` (resume window {@link SETUP_RESUME_WINDOW_MS}) on a fresh HTTP server. */
export function sseSetup(options: SseSetupOptions = {}): TransportSetup {
  return async (accept) => {
    const served = await serveHalves(accept, [
      sseServer({ resumeWindowMs: SETUP_RESUME_WINDOW_MS, ...options.server }),
    ]);
    const url = served.url();
    let connector: Connector;
    try {
      connector = await (options.connector ?? sseConnector)(url);
    } catch (error) {
      await served.close();
      throw error;
    }
    return {
      connector,
      raw: () => rawSsePeer(url),
      async mute(openTimeoutMs) {
        const mute = await muteServer();
        return Object.assign(sseConnector(mute.url, { openTimeoutMs }), {
          [Symbol.asyncDispose]: () => mute[Symbol.asyncDispose](),
        });
      },
      [Symbol.asyncDispose]: () => served.close(),
    };
  };
}

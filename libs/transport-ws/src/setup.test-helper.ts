/** The WebSocket transport mounted for the conformance and pipe-contract suites. */
import type { TransportSetup } from '@switchyard/testing';
import { muteServer, serveHalves } from '@switchyard/testing';
import { webSocketConnector } from './client.ts';
import { rawWebSocket } from './raw-ws.test-helper.ts';
import { webSocketServer, type WebSocketServerOptions } from './server.ts';

/** Serves `webSocketServer(options)` on a fresh HTTP server. */
export function wsSetup(options: WebSocketServerOptions = {}): TransportSetup {
  return async (accept) => {
    const served = await serveHalves(accept, [webSocketServer(options)]);
    return {
      connector: webSocketConnector(served.url('/')),
      raw: () => rawWebSocket(served.url('/')),
      async mute(openTimeoutMs) {
        const mute = await muteServer();
        return Object.assign(webSocketConnector(mute.url, { openTimeoutMs }), {
          [Symbol.asyncDispose]: () => mute[Symbol.asyncDispose](),
        });
      },
      [Symbol.asyncDispose]: () => served.close(),
    };
  };
}

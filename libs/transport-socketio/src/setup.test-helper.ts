/** The Socket.IO transport mounted for the conformance and pipe-contract suites. */
import { muteServer, serveHalves, type TransportSetup } from '@switchyard/testing';
import { socketIoConnector, type SocketIoConnectorOptions } from './client.ts';
import { rawEngine } from './raw-engine.test-helper.ts';
import { socketIoServer, type SocketIoServerOptions } from './server.ts';

/** Serves `socketIoServer(options)` on a fresh HTTP server; the client half gets `client`. */
export function socketIoSetup(
  options: SocketIoServerOptions = {},
  client: SocketIoConnectorOptions = {},
): TransportSetup {
  return async (accept) => {
    const served = await serveHalves(accept, [socketIoServer(options)]);
    return {
      connector: socketIoConnector(served.url(), client),
      // silent on Engine.IO pings too: the contract's raw peer answers no probe at all
      raw: () => rawEngine(served.url(), { answerPings: false }),
      async mute(openTimeoutMs) {
        const mute = await muteServer();
        return Object.assign(socketIoConnector(mute.url, { ...client, openTimeoutMs }), {
          [Symbol.asyncDispose]: () => mute[Symbol.asyncDispose](),
        });
      },
      [Symbol.asyncDispose]: () => served.close(),
    };
  };
}

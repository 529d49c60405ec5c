import { fileURLToPath } from 'node:url';
import {
  describeConformance,
  serveHalves,
  sharedBrowserBridge,
  type TransportSetup,
} from '@switchyard/testing';
import { socketIoServer, type SocketIoServerOptions } from './server.ts';

// one Chromium for the whole file; each test opens its own pipes from the page
const browserBridge = sharedBrowserBridge(
  fileURLToPath(new URL('./bridge-entry.test-helper.ts', import.meta.url)),
);

/** Serves Socket.IO; the page (another origin) connects with the engine.io transports in `query`. */
function setup(options: SocketIoServerOptions, query: string): TransportSetup {
  return async (accept) => {
    const served = await serveHalves(accept, [socketIoServer(options)]);
    return {
      connector: (await browserBridge()).connector(served.url(`/${query}`)),
      [Symbol.asyncDispose]: () => served.close(),
    };
  };
}

describeConformance('socket.io, client half in Chromium', setup({}, ''));

// cross-origin long-polling: proves the fallback and the CORS answers in a real browser
describeConformance(
  'socket.io long-polling, client half in Chromium',
  setup({ transports: ['polling'] }, '?transports=polling'),
);

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describeConformance, sharedBrowserBridge } from '@switchyard/testing';
import { attachSocketIo, type SocketIoServerOptions } from './server.ts';

// one Chromium for the whole file; each test opens its own pipes from the page
const browserBridge = sharedBrowserBridge(
  fileURLToPath(new URL('./bridge-entry.test-helper.ts', import.meta.url)),
);

/** Serves Socket.IO; the page (another origin) connects with the given engine.io transports. */
function setup(options: SocketIoServerOptions, query: string) {
  return async (hub: Parameters<Parameters<typeof describeConformance>[1]>[0]) => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const io = attachSocketIo(server, hub.accept, options);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${query}`;
    return {
      connector: (await browserBridge()).connector(url),
      async dispose() {
        await io.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  };
}

describeConformance('socket.io, client half in Chromium', setup({}, ''));

// cross-origin long-polling: proves the fallback and the CORS answers in a real browser
describeConformance(
  'socket.io long-polling, client half in Chromium',
  setup({ transports: ['polling'] }, '?transports=polling'),
);

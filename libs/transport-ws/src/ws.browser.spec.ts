import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describeConformance, sharedBrowserBridge } from '@switchyard/testing';
import { attachWebSocket } from './server.ts';

// one Chromium for the whole suite; each test opens its own pipes from the page
const browserBridge = sharedBrowserBridge(
  fileURLToPath(new URL('./bridge-entry.test-helper.ts', import.meta.url)),
);

describeConformance('ws, client half in Chromium', async (hub) => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ws = attachWebSocket(server, hub.accept);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    connector: (await browserBridge()).connector(url),
    async dispose() {
      await ws.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

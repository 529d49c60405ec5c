import { fileURLToPath } from 'node:url';
import { describeConformance, serveHalves, sharedBrowserBridge } from '@switchyard/testing';
import { webSocketServer } from './server.ts';

// one Chromium for the whole suite; each test opens its own pipes from the page
const browserBridge = sharedBrowserBridge(
  fileURLToPath(new URL('./bridge-entry.test-helper.ts', import.meta.url)),
);

describeConformance('ws, client half in Chromium', async (accept) => {
  const served = await serveHalves(accept, [webSocketServer()]);
  return {
    connector: (await browserBridge()).connector(served.url('/')),
    [Symbol.asyncDispose]: () => served.close(),
  };
});

import { fileURLToPath } from 'node:url';
import { describeConformance, serveHalves, sharedBrowserBridge } from '@switchyard/testing';
import { embeddedMqtt } from './broker.ts';

// one Chromium for the whole suite; each test opens its own MQTT-over-WebSocket pipes from the page
const browserBridge = sharedBrowserBridge(
  fileURLToPath(new URL('./bridge-entry.test-helper.ts', import.meta.url)),
);

describeConformance('mqtt over WebSocket, client half in Chromium', async (accept) => {
  // the embedded broker takes MQTT over WebSocket at /mqtt on the shared HTTP server
  const served = await serveHalves(accept, [embeddedMqtt({ port: 0 })]);
  return {
    connector: (await browserBridge()).connector(served.url('/mqtt').replace(/^http/, 'ws')),
    [Symbol.asyncDispose]: () => served.close(),
  };
});

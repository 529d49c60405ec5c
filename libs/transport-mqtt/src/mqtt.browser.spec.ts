import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describeConformance, sharedBrowserBridge } from '@switchyard/testing';
import { connectMqttBridge } from './bridge.ts';
import { startEmbeddedBroker } from './broker.ts';

// one Chromium for the whole suite; each test opens its own MQTT-over-WebSocket pipes from the page
const browserBridge = sharedBrowserBridge(
  fileURLToPath(new URL('./bridge-entry.test-helper.ts', import.meta.url)),
);

describeConformance('mqtt over WebSocket, client half in Chromium', async (hub) => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const broker = await startEmbeddedBroker({ port: 0, httpServer: server });
  const mqttBridge = connectMqttBridge(hub.accept, { url: broker.url, ...broker.bridge });
  await mqttBridge.ready();
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/mqtt`;
  return {
    connector: (await browserBridge()).connector(url),
    async dispose() {
      await mqttBridge.close();
      await broker.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

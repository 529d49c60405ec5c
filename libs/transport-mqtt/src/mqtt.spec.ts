import { randomUUID } from 'node:crypto';
import { describeConformance } from '@switchyard/testing';
import { mqttConnector } from './client.ts';
import { connectMqttBridge } from './bridge.ts';
import { startEmbeddedBroker } from './broker.ts';
import { discardMqttSession } from './session.ts';

describeConformance('mqtt, embedded aedes broker', async (hub) => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const bridge = connectMqttBridge(hub.accept, { url: broker.url, ...broker.bridge });
  await bridge.ready();
  return {
    connector: mqttConnector(broker.url),
    async dispose() {
      await bridge.close();
      await broker.close();
    },
  };
});

const MOSQUITTO = 'mqtt://127.0.0.1:1883';

describeConformance('mqtt, Mosquitto at 127.0.0.1:1883', async (hub) => {
  // the broker is shared: a prefix and a bridge id of our own, and the bridge session removed after
  const prefix = `switchyard-test-${randomUUID()}`;
  const clientId = `switchyard-bridge-${randomUUID()}`;
  const bridge = connectMqttBridge(hub.accept, { url: MOSQUITTO, prefix, clientId });
  await bridge.ready();
  return {
    connector: mqttConnector(MOSQUITTO, { prefix }),
    async dispose() {
      await bridge.close();
      await discardMqttSession(MOSQUITTO, clientId);
    },
  };
});

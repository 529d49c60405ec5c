/**
 * The embedded broker tells the bridge when any device goes, Last Will or not, so no device
 * stays a member after its connection is gone.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import { cleanupStack, rawClient, serveHalves, waitUntil } from '@switchyard/testing';
import { embeddedMqtt } from './broker/half.ts';
import { mqttConnector } from './client/connector.ts';

describe('devices without a Last Will', () => {
  it('leave the room after the grace window when their connection ends, cleanly or not', async () => {
    await using stack = cleanupStack();
    const hub = createHub({ graceMs: 200 });
    stack.defer(() => hub.close());
    const half = embeddedMqtt({ port: 0 });
    stack.use(await serveHalves(hub.accept, [half]));
    const url = half.broker!.url;
    const watcher = stack.use(await rawClient(mqttConnector(url), ['W', 'r']));
    for (const [id, end] of [
      ['vanished', (client: mqtt.MqttClient) => client.stream.destroy()],
      ['disconnected', (client: mqtt.MqttClient) => client.end()],
    ] as const) {
      // a device with no Switchyard code and no Last Will
      const device = await mqtt.connectAsync(url, { clientId: id, reconnectPeriod: 0 });
      await device.subscribeAsync(`switchyard/down/${id}`, { qos: 1 });
      await device.publishAsync(
        `switchyard/up/${id}`,
        `/announce|${id}|{"id":"${id}","room":"r"}`,
        {
          qos: 1,
        },
      );
      await waitUntil(() => hub.roomMembers('r').includes(id), `${id} in the room`);
      end(device);
      await watcher.next((message) => message.startsWith(`/leave|${id}|`));
      expect(hub.roomMembers('r')).not.toContain(id);
    }
    expect(hub.roomMembers('r')).toEqual(['W']);
  });
});

/** A device that speaks MQTT with no Switchyard code: MQTT.js and the documented topics only. */
import mqtt, { type MqttClient } from 'mqtt';
import { waitUntil } from '@switchyard/testing';
import type { Stack } from './stack.test-helper.ts';
import { deviceTopics } from './topics.ts';

/** What a plain device can do. */
export interface PlainDevice {
  readonly client: MqttClient;
  readonly received: string[];
  say(message: string | Buffer): void;
  next(filter?: (message: string) => boolean): Promise<string>;
}

/**
 * Connects a device with a persistent session and a Last Will, subscribed to its down topic.
 * It never answers `ping` and never publishes `online`, like a device written from the docs'
 * minimum.
 */
export async function plainDevice(
  cleanups: (() => unknown)[],
  stack: Pick<Stack, 'prefix' | 'brokerUrl'>,
  clientId: string,
  options: { url?: string; keepalive?: number } = {},
): Promise<PlainDevice> {
  const topics = deviceTopics(stack.prefix, clientId);
  const client = mqtt.connect(options.url ?? stack.brokerUrl, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
    keepalive: options.keepalive ?? 30,
    will: { topic: topics.status, payload: 'offline', qos: 1, retain: false },
  });
  cleanups.push(() => client.end(true));
  const received: string[] = [];
  let cursor = 0;
  client.on('message', (_topic, payload) => received.push(payload.toString()));
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  await client.subscribeAsync(topics.down, { qos: 1 });
  return {
    client,
    received,
    say: (message) => client.publish(topics.up, message, { qos: 1 }),
    next: (filter = () => true) =>
      waitUntil(() => {
        while (cursor < received.length) {
          const message = received[cursor++]!;
          if (filter(message)) return message;
        }
        return undefined;
      }, 'a message on the down topic'),
  };
}

/**
 * A device that speaks MQTT with no Switchyard code: MQTT.js and the documented topics only. It
 * is also the transport's pipe-contract `RawPeer`: it can vanish (its TCP stream destroyed, so
 * the broker publishes its Last Will), publish a payload that is not UTF-8, and ignore `ping`.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { CloseCode } from '@switchyard/protocol';
import { inbox, type RawPeer } from '@switchyard/testing';
import { discardMqttSession } from './shared/session.ts';
import { deviceTopics, parseCloseFrame, PING_FRAME, Status, type DeviceTopics } from './client.ts';

/** Where a plain device connects: a broker and the prefix its bridge uses. */
export interface PlainTarget {
  readonly brokerUrl: string;
  readonly prefix: string;
}

/** Options of {@link plainDevice}. */
export interface PlainDeviceOptions {
  /** Connect here instead of to the broker (e.g. a fault proxy). */
  readonly url?: string;
  /** MQTT keepalive: the broker publishes the Last Will 1.5× this long after the last packet. @default 30 */
  readonly keepalive?: number;
  /** Answer `ping` with `online` on the status topic, as the docs' device example does. @default false */
  readonly answersPings?: boolean;
}

/** A plain device: a `RawPeer` whose inbox holds every payload of its down topic. */
export interface PlainDevice extends RawPeer {
  readonly client: MqttClient;
  readonly clientId: string;
  readonly topics: DeviceTopics;
  /** Publishes one payload to the device's up topic (QoS 1). */
  say(message: string | Buffer): void;
}

/** Something that is not UTF-8 (a lone continuation byte, a byte never valid in UTF-8). */
export const NOT_UTF8 = Buffer.from([0x2f, 0xff, 0xfe, 0x00]);

/**
 * Connects a device with a persistent session and a Last Will, subscribed to its down topic. By
 * default it never answers `ping` and never publishes `online`, like a device written from the
 * docs' minimum. Disposing it ends the connection and discards its broker session.
 */
export async function plainDevice(
  target: PlainTarget,
  clientId: string,
  options: PlainDeviceOptions = {},
): Promise<PlainDevice> {
  const topics = deviceTopics(target.prefix, clientId);
  const client = mqtt.connect(options.url ?? target.brokerUrl, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
    keepalive: options.keepalive ?? 30,
    will: { topic: topics.status, payload: Buffer.from(Status.offline), qos: 1, retain: false },
  });
  const received = inbox<string>(`a message on ${topics.down}`);
  // the code of the first close frame, or 1006 when the connection dropped before one came
  const closed = new Promise<number | undefined>((resolve) => {
    client.on('message', (_topic, payload) => {
      const text = payload.toString();
      received.push(text);
      if (text === PING_FRAME && options.answersPings)
        client.publish(topics.status, Status.online, { qos: 1 });
      const close = parseCloseFrame(text);
      if (close) resolve(close.code);
    });
    client.on('close', () => resolve(CloseCode.abnormal));
  });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  await client.subscribeAsync(topics.down, { qos: 1 });
  return {
    client,
    clientId,
    topics,
    inbox: received,
    answersProbes: options.answersPings ?? false,
    say: (message) => client.publish(topics.up, message, { qos: 1 }),
    sayUnreadable: () => client.publish(topics.up, NOT_UTF8, { qos: 1 }),
    // no DISCONNECT: the broker sees the connection die and publishes the Last Will
    kill: () => void client.stream.destroy(),
    closed: () => closed,
    async [Symbol.asyncDispose]() {
      client.end(true);
      await discardMqttSession(target.brokerUrl, clientId, { timeoutMs: 1000 });
    },
  };
}

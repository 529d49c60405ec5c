/**
 * The MQTT transport mounted for the conformance and pipe-contract suites, on either broker: the
 * embedded aedes (`embeddedMqtt`, the whole product as one half) or a real Mosquitto bridged with
 * `mqttBridge`. Raw peers are plain MQTT.js devices (plain-device.test-helper.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Connector, Pipe } from '@switchyard/protocol';
import { muteServer, serveHalves, type TransportSetup } from '@switchyard/testing';
import { embeddedMqtt } from './broker.ts';
import { mqttConnector, type MqttConnector, type MqttConnectorOptions } from './client.ts';
import { mqttBridge } from './server.ts';
import { discardMqttSession } from './shared/session.ts';
import { sharedMosquitto, uniqueNames } from './mosquitto.test-helper.ts';
import { plainDevice } from './plain-device.test-helper.ts';

/**
 * Keepalive of raw peers: a silent one is found 1.5× this long after its last packet. (A killed
 * one sooner: its broker sees the TCP stream end and publishes the Last Will at once.)
 */
export const RAW_KEEPALIVE_SECONDS = 1;

/** A client half whose pipes can all be closed, and their broker sessions discarded, at the end. */
export interface TrackedConnector extends MqttConnector {
  /** Closes every pipe still open and waits until their sessions are discarded. */
  closeAll(): Promise<void>;
}

/** Wraps `mqttConnector(url, options)` so a fixture can leave no session behind on the broker. */
export function trackedConnector(
  url: string,
  options: MqttConnectorOptions = {},
): TrackedConnector {
  const connector = mqttConnector(url, options);
  const open = new Set<Pipe>();
  const tracked: Connector = async (attempt) => {
    const pipe = await connector(attempt);
    open.add(pipe);
    pipe.onClose(() => open.delete(pipe));
    return pipe;
  };
  return Object.assign(tracked, {
    settled: () => connector.settled(),
    async closeAll() {
      for (const pipe of [...open]) pipe.close(1000, 'test done');
      await connector.settled();
    },
  });
}

/** A raw device's client id: unique, so raw peers never share a session. */
const rawId = () => `raw-${randomUUID().slice(0, 8)}`;

/** A client half pointed at a TCP server that never sends a CONNACK. */
async function muteConnector(openTimeoutMs: number) {
  const mute = await muteServer();
  const url = mute.url.replace(/^http:/, 'mqtt:');
  return Object.assign(mqttConnector(url, { connectTimeoutMs: openTimeoutMs }), {
    [Symbol.asyncDispose]: () => mute[Symbol.asyncDispose](),
  });
}

/** `embeddedMqtt()` on a fresh HTTP server: aedes on a free TCP port, bridged into `accept`. */
export function embeddedSetup(): TransportSetup {
  return async (accept) => {
    const half = embeddedMqtt({ port: 0 });
    const served = await serveHalves(accept, [half]);
    const target = { brokerUrl: half.broker!.url, prefix: 'switchyard' };
    const connector = trackedConnector(target.brokerUrl);
    return {
      connector,
      raw: () => plainDevice(target, rawId(), { keepalive: RAW_KEEPALIVE_SECONDS }),
      mute: muteConnector,
      async [Symbol.asyncDispose]() {
        await connector.closeAll();
        await served.close();
      },
    };
  };
}

/**
 * `mqttBridge()` to the shared Mosquitto (the machine's at 127.0.0.1:1883, see
 * mosquitto.test-helper.ts), with a prefix and a bridge client id of its own per test.
 */
export function mosquittoSetup(): TransportSetup {
  return async (accept) => {
    const url = await sharedMosquitto();
    const { prefix, bridgeClientId } = uniqueNames();
    const served = await serveHalves(accept, [
      mqttBridge({ url, prefix, clientId: bridgeClientId, reconnectPeriodMs: 100 }),
    ]);
    const target = { brokerUrl: url, prefix };
    const connector = trackedConnector(url, { prefix });
    return {
      connector,
      raw: () => plainDevice(target, rawId(), { keepalive: RAW_KEEPALIVE_SECONDS }),
      mute: muteConnector,
      async [Symbol.asyncDispose]() {
        await connector.closeAll();
        await served.close();
        await discardMqttSession(url, bridgeClientId);
      },
    };
  };
}

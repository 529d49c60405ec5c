/**
 * A whole server for MQTT tests: a hub, a broker (the embedded aedes, or Mosquitto), the bridge,
 * and the WebSocket transport on an `http.Server` with the same hub, so MQTT devices and WebSocket
 * peers meet in one room. Everything on 127.0.0.1, torn down by `dispose()`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHub, type Hub, type HubOptions } from '@switchyard/hub';
import { createSignaller, type Signaller, type SignallerOptions } from '@switchyard/signaller';
import { attachWebSocket } from '@switchyard/transport-ws/server';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { nextEvent } from '@switchyard/testing';
import type { Connector } from '@switchyard/protocol';
import { connectMqttBridge, type MqttBridge, type MqttBridgeOptions } from './bridge.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.ts';
import { mqttConnector, type MqttConnector, type MqttConnectorOptions } from './client.ts';
import { discardMqttSession } from './session.ts';

/** Mosquitto as installed on this machine. */
export const SYSTEM_MOSQUITTO = 'mqtt://127.0.0.1:1883';

/** Which broker: the embedded one (with its rules), or one at a URL (a unique prefix is used). */
export type BrokerChoice = 'aedes' | { readonly url: string };

/** Options of {@link startStack}. */
export interface StackOptions {
  readonly broker: BrokerChoice;
  readonly hub?: HubOptions;
  /** Where the bridge connects instead of the broker (e.g. a fault proxy). */
  readonly bridgeVia?: (brokerUrl: string) => Promise<string>;
  readonly bridge?: Partial<MqttBridgeOptions>;
  /** For a broker at a URL: the prefix its rules expect. @default a unique one */
  readonly prefix?: string;
  /** For a broker at a URL: the bridge's login. @default a unique client id, no password */
  readonly bridgeLogin?: { clientId: string; username?: string; password?: string };
}

/** A running stack. */
export interface Stack {
  readonly hub: Hub;
  readonly bridge: MqttBridge;
  readonly brokerUrl: string;
  readonly prefix: string;
  /** The embedded broker, when `broker` is 'aedes'. */
  readonly embedded?: EmbeddedBroker;
  /** The bridge's login. */
  readonly bridgeLogin: { clientId: string; username?: string; password?: string };
  /** An MQTT client-half connector for this stack (its prefix), at `url` (default the broker). */
  mqtt(options?: MqttConnectorOptions, url?: string): MqttConnector;
  /** A WebSocket peer's connector. */
  readonly ws: Connector;
  /** A signaller that has joined `room` (resolves after its `/roominfo`). */
  join(connector: Connector, room: string, options?: SignallerOptions): Promise<Signaller>;
  dispose(): Promise<void>;
}

/** Starts a stack; pass `cleanups` to have it (and every signaller) torn down after the test. */
export async function startStack(
  options: StackOptions,
  cleanups: (() => unknown)[],
): Promise<Stack> {
  const hub = createHub({ graceMs: 300, ...options.hub });
  let embedded: EmbeddedBroker | undefined;
  let brokerUrl: string;
  let prefix: string;
  let bridgeLogin: Stack['bridgeLogin'];
  if (options.broker === 'aedes') {
    embedded = await startEmbeddedBroker({ port: 0 });
    brokerUrl = embedded.url;
    prefix = 'switchyard';
    bridgeLogin = embedded.bridge;
  } else {
    // a shared broker: a prefix and a bridge id of our own, the bridge session removed after
    brokerUrl = options.broker.url;
    prefix = options.prefix ?? `switchyard-test-${randomUUID()}`;
    bridgeLogin = options.bridgeLogin ?? { clientId: `switchyard-bridge-${randomUUID()}` };
  }
  const bridgeUrl = options.bridgeVia ? await options.bridgeVia(brokerUrl) : brokerUrl;
  const bridge = connectMqttBridge(hub.accept, {
    reconnectPeriodMs: 100,
    ...options.bridge,
    url: bridgeUrl,
    prefix,
    ...bridgeLogin,
  });
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const websocket = attachWebSocket(server, hub.accept);
  const signallers: Signaller[] = [];
  const connectors: MqttConnector[] = [];

  const stack: Stack = {
    hub,
    bridge,
    brokerUrl,
    prefix,
    ...(embedded && { embedded }),
    bridgeLogin,
    mqtt(connectorOptions = {}, url = brokerUrl) {
      const connector = mqttConnector(url, { prefix, ...connectorOptions });
      connectors.push(connector);
      return connector;
    },
    ws: webSocketConnector(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`),
    async join(connector, room, signallerOptions = {}) {
      const signaller = createSignaller(connector, {
        reconnectDelay: () => 20,
        ...signallerOptions,
      });
      signallers.push(signaller);
      const info = nextEvent(signaller, 'roominfo');
      signaller.announce({ room });
      await info;
      return signaller;
    },
    async dispose() {
      for (const signaller of signallers) signaller.leave();
      hub.close();
      // closing pipes discard their broker sessions: let them finish while the broker is up
      await Promise.all(connectors.map((connector) => connector.settled()));
      await bridge.close();
      await websocket.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (embedded) await embedded.close();
      else await discardMqttSession(brokerUrl, bridgeLogin.clientId, bridgeLogin);
    },
  };
  cleanups.push(() => stack.dispose());
  await bridge.ready();
  return stack;
}

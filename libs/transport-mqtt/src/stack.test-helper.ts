/**
 * A whole server for MQTT tests: a hub, a broker (the embedded aedes, or a Mosquitto), the MQTT
 * half and the WebSocket half on one HTTP server with the same hub, so MQTT devices and
 * WebSocket peers meet in one room. Everything on 127.0.0.1; `await using` tears it down.
 */
import { createHub, type Hub, type HubOptions } from '@switchyard/hub';
import type { HttpServerHalf } from '@switchyard/http';
import type { Connector } from '@switchyard/protocol';
import { createSignaller, type Signaller, type SignallerOptions } from '@switchyard/signaller';
import { nextEvent, serveHalves } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { webSocketServer } from '@switchyard/transport-ws/server';
import {
  embeddedMqtt,
  startEmbeddedBroker,
  type EmbeddedBroker,
  type EmbeddedMqttHalf,
} from './broker.ts';
import type { MqttConnector, MqttConnectorOptions } from './client.ts';
import {
  mqttBridge,
  type MqttBridge,
  type MqttBridgeHalf,
  type MqttBridgeOptions,
} from './server.ts';
import { discardMqttSession } from './shared/session.ts';
import { sharedMosquitto, uniqueNames } from './mosquitto.test-helper.ts';
import { trackedConnector, type TrackedConnector } from './setup.test-helper.ts';

/**
 * Which broker: the embedded one (with its rules), the shared Mosquitto (mosquitto.test-helper.ts),
 * or one at a URL; on the last two, the stack uses a unique prefix.
 */
export type BrokerChoice = 'aedes' | 'mosquitto' | { readonly url: string };

/** Options of {@link startStack}. */
export interface StackOptions {
  readonly broker: BrokerChoice;
  readonly hub?: HubOptions;
  /**
   * Where the bridge connects instead of the broker (e.g. a fault proxy). With `aedes`, the
   * broker then runs on its own and `mqttBridge` connects through this; otherwise the stack
   * serves `embeddedMqtt`, broker and bridge in one half.
   */
  readonly bridgeVia?: (brokerUrl: string) => Promise<string>;
  readonly bridge?: Pick<MqttBridgeOptions, 'rejoinTimeoutMs' | 'reconnectPeriodMs'>;
  /** For a broker at a URL: the prefix its rules expect. @default a unique one */
  readonly prefix?: string;
  /** For a broker at a URL: the bridge's login. @default a unique client id, no password */
  readonly bridgeLogin?: { clientId: string; username?: string; password?: string };
}

/** A running stack. */
export interface Stack extends AsyncDisposable {
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
  /** A signaller that has joined `room` (resolves after its `/roominfo`); it leaves on dispose. */
  join(connector: Connector, room: string, options?: SignallerOptions): Promise<Signaller>;
}

/** Starts a stack. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const hub = createHub({ graceMs: 300, ...options.hub });
  const bridgeTuning = { reconnectPeriodMs: 100, ...options.bridge };
  let embedded: EmbeddedBroker | undefined;
  let separate: EmbeddedBroker | undefined;
  let mqttHalf: EmbeddedMqttHalf | MqttBridgeHalf;
  let brokerUrl: string;
  let prefix: string;
  let bridgeLogin: Stack['bridgeLogin'];
  if (options.broker === 'aedes' && !options.bridgeVia) {
    mqttHalf = embeddedMqtt({ port: 0, bridge: bridgeTuning });
  } else if (options.broker === 'aedes') {
    separate = embedded = await startEmbeddedBroker({ port: 0 });
    brokerUrl = embedded.url;
    prefix = 'switchyard';
    bridgeLogin = embedded.bridge;
    const url = await options.bridgeVia!(brokerUrl);
    mqttHalf = mqttBridge({ ...bridgeTuning, url, prefix, ...bridgeLogin });
  } else {
    // a shared broker: a prefix and a bridge id of our own, the bridge session removed after
    const unique = uniqueNames();
    brokerUrl = options.broker === 'mosquitto' ? await sharedMosquitto() : options.broker.url;
    prefix = options.prefix ?? unique.prefix;
    bridgeLogin = options.bridgeLogin ?? { clientId: unique.bridgeClientId };
    const url = options.bridgeVia ? await options.bridgeVia(brokerUrl) : brokerUrl;
    mqttHalf = mqttBridge({ ...bridgeTuning, url, prefix, ...bridgeLogin });
  }
  const halves: HttpServerHalf[] = [mqttHalf, webSocketServer()];
  const served = await serveHalves(hub.accept, halves);
  if ('broker' in mqttHalf) {
    embedded = mqttHalf.broker!;
    brokerUrl = embedded.url;
    prefix = 'switchyard';
    bridgeLogin = embedded.bridge;
  }
  const signallers: Signaller[] = [];
  const connectors: TrackedConnector[] = [];

  return {
    hub,
    bridge: mqttHalf.bridge!,
    brokerUrl: brokerUrl!,
    prefix: prefix!,
    ...(embedded && { embedded }),
    bridgeLogin: bridgeLogin!,
    mqtt(connectorOptions = {}, url = brokerUrl) {
      const connector = trackedConnector(url, { prefix, ...connectorOptions });
      connectors.push(connector);
      return connector;
    },
    ws: webSocketConnector(served.url('/')),
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
    async [Symbol.asyncDispose]() {
      for (const signaller of signallers) signaller.leave();
      hub.close();
      // closing pipes discard their broker sessions: let them finish while the broker is up
      await Promise.all(connectors.map((connector) => connector.closeAll()));
      await served.close();
      if (separate) await separate.close();
      if (!embedded) await discardMqttSession(brokerUrl, bridgeLogin.clientId, bridgeLogin);
    },
  };
}

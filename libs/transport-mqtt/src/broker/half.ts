/**
 * The embedded MQTT product as one server half: aedes with the device rules on a TCP port, MQTT
 * over WebSocket at `/mqtt` on the shared server, and a bridge into the hub that logs in with
 * the broker's own secret. For a broker of the deployment's own, use `mqttBridge` instead.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, originAllowed, type OriginPolicy } from '@switchyard/protocol';
import { refuseUpgrade, type HttpServerHalf } from '@switchyard/http';
import { connectMqttBridge, type MqttBridge, type MqttBridgeOptions } from '../server/bridge.ts';
import { DEFAULT_PREFIX } from '../shared/topics.ts';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './broker.ts';

/** Options of {@link embeddedMqtt}. */
export interface EmbeddedMqttOptions extends EmbeddedBrokerOptions {
  /** Path of MQTT over WebSocket on the shared server. @default '/mqtt' */
  readonly path?: string;
  /** Allowed `Origin` values for MQTT over WebSocket (browsers). @default all */
  readonly allowedOrigins?: OriginPolicy;
  /** Tuning of the bridge into the hub. */
  readonly bridge?: Pick<
    MqttBridgeOptions,
    | 'keepaliveSeconds'
    | 'reconnectPeriodMs'
    | 'rejoinTimeoutMs'
    | 'connectTimeoutMs'
    | 'maxInflight'
  >;
  /** How long starting waits for the bridge to subscribe. @default 2000 */
  readonly readyTimeoutMs?: number;
}

/** The embedded broker server half. */
export interface EmbeddedMqttHalf extends HttpServerHalf {
  readonly transport: 'mqtt';
  /** The broker, once started (its `url` is what devices connect to over TCP). */
  readonly broker: EmbeddedBroker | undefined;
  readonly bridge: MqttBridge | undefined;
}

/** An embedded broker, bridged into the hub. */
export function embeddedMqtt(options: EmbeddedMqttOptions = {}): EmbeddedMqttHalf {
  const path = options.path ?? '/mqtt';
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const requestedPort = options.port ?? 1883;
  let broker: EmbeddedBroker | undefined;
  let bridge: MqttBridge | undefined;
  return {
    transport: 'mqtt',
    paths: [path],
    get broker() {
      return broker;
    },
    get bridge() {
      return bridge;
    },
    async start(host) {
      broker = await startEmbeddedBroker(options);
      bridge = connectMqttBridge(host.accept, {
        ...options.bridge,
        prefix,
        url: broker.url,
        clientId: broker.bridge.clientId,
        username: broker.bridge.username,
        password: broker.bridge.password,
        log: host.log,
        ...(options.tokens && { tokenOf: broker.tokenOf }),
      });
      try {
        await bridge.ready(options.readyTimeoutMs ?? 2000);
      } catch (error) {
        await bridge.close();
        await broker.close();
        throw error;
      }
    },
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      if (!broker) return refuseUpgrade(socket, 503, 'the MQTT broker is not running');
      if (!originAllowed(request.headers.origin, options.allowedOrigins))
        return refuseUpgrade(socket, 403, 'Forbidden origin');
      broker.handleUpgrade(request, socket, head);
    },
    get connections() {
      return bridge?.devices ?? 0;
    },
    describe() {
      if (!broker) return 'MQTT: embedded broker (not started)';
      const taken =
        requestedPort !== 0 && broker.port !== requestedPort
          ? ` (port ${requestedPort} was taken)`
          : '';
      return `MQTT: embedded broker at ${broker.url}${taken}, MQTT over WebSocket at ${path} (prefix ${prefix})`;
    },
    async close(code = CloseCode.goingAway) {
      await bridge?.close(code);
      await broker?.close();
    },
  };
}

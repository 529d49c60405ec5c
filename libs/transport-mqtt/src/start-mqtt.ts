/**
 * What the server app's `--mqtt auto|embedded|off|<broker URL>` option needs: one call that
 * decides between bridging to a broker and embedding one, never fails start-up over a taken
 * port, and says what it did.
 */
import type { Server } from 'node:http';
import type { Accept } from '@switchyard/protocol';
import { MqttBridgeError } from './bridge-ready.ts';
import { connectMqttBridge, type MqttBridge, type MqttBridgeOptions } from './bridge.ts';
import { startEmbeddedBroker, type EmbeddedBrokerOptions } from './broker.ts';
import { DEFAULT_PREFIX } from './topics.ts';

/** `auto`, `embedded`, `off`, or a broker URL (`mqtt://host:port`, `mqtts://`, `ws://`, `wss://`). */
export type MqttMode = 'auto' | 'embedded' | 'off' | (string & {});

/** Options of {@link startMqtt}. */
export interface StartMqttOptions {
  readonly mode: MqttMode;
  /** The shared server; the embedded broker serves MQTT over WebSocket on it at `path`. */
  readonly httpServer?: Server;
  /** Where `auto` looks for a running broker. @default 'mqtt://127.0.0.1:1883' */
  readonly autoUrl?: string;
  /** Embedded broker TCP address. @default '127.0.0.1' */
  readonly host?: string;
  /** Embedded broker TCP port; a taken port falls back to a free one. @default 1883 */
  readonly port?: number;
  /** Embedded broker WebSocket path. @default '/mqtt' */
  readonly path?: string;
  /** Topic prefix. @default 'switchyard' */
  readonly prefix?: string;
  /** The bridge's client id at an external broker. @default 'switchyard-bridge' */
  readonly clientId?: string;
  /** The bridge's credentials at an external broker. */
  readonly username?: string;
  readonly password?: string;
  /** How long `auto` waits for a broker, and a URL mode for its first connection. @default 2000 */
  readonly probeTimeoutMs?: number;
  /** Device admission for the embedded broker. */
  readonly authenticateDevice?: EmbeddedBrokerOptions['authenticateDevice'];
  /** Tuning of the bridge. */
  readonly bridge?: Pick<
    MqttBridgeOptions,
    'keepaliveSeconds' | 'reconnectPeriodMs' | 'rejoinTimeoutMs' | 'connectTimeoutMs'
  >;
  readonly log?: MqttBridgeOptions['log'];
}

/** What {@link startMqtt} started. */
export interface MqttService {
  readonly mode: 'bridge' | 'embedded' | 'off';
  /** One line for the start-up log. */
  readonly description: string;
  /** The broker the bridge talks to. */
  readonly brokerUrl?: string;
  /** The embedded broker's WebSocket path on the HTTP server. */
  readonly wsPath?: string;
  readonly bridge?: MqttBridge;
  /** Closes every device pipe (1001), the bridge, and the embedded broker. */
  close(): Promise<void>;
}

const isBrokerUrl = (mode: string) => /^(mqtts?|wss?):\/\/./i.test(mode);

/** Starts the MQTT transport the way `mode` says, handing device pipes to `accept`. */
export async function startMqtt(accept: Accept, options: StartMqttOptions): Promise<MqttService> {
  const { mode } = options;
  if (mode === 'off') {
    return { mode: 'off', description: 'MQTT off', close: () => Promise.resolve() };
  }
  if (mode !== 'auto' && mode !== 'embedded' && !isBrokerUrl(mode)) {
    throw new TypeError(`mqtt mode must be auto, embedded, off or a broker URL, not "${mode}"`);
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const probeTimeoutMs = options.probeTimeoutMs ?? 2000;
  const bridgeOptions = {
    ...options.bridge,
    prefix,
    ...(options.log && { log: options.log }),
  };

  function external(url: string): MqttBridge {
    return connectMqttBridge(accept, {
      ...bridgeOptions,
      url,
      ...(options.clientId !== undefined && { clientId: options.clientId }),
      ...(options.username !== undefined && { username: options.username }),
      ...(options.password !== undefined && { password: options.password }),
    });
  }
  const bridged = (bridge: MqttBridge, url: string, description: string): MqttService => ({
    mode: 'bridge',
    description,
    brokerUrl: url,
    bridge,
    close: () => bridge.close(),
  });

  if (isBrokerUrl(mode)) {
    const bridge = external(mode);
    try {
      await bridge.ready(probeTimeoutMs);
      return bridged(bridge, mode, `MQTT: bridged to ${mode} (prefix ${prefix})`);
    } catch (error) {
      if (error instanceof MqttBridgeError && error.code === 'refused') {
        await bridge.close();
        throw new Error(`the MQTT broker at ${mode} refused the bridge: ${error.message}`);
      }
      // the broker may come up later: the bridge keeps trying, start-up goes on
      const reason = (error as Error).message;
      return bridged(
        bridge,
        mode,
        `MQTT: bridging to ${mode} (prefix ${prefix}), not connected yet: ${reason}; retrying`,
      );
    }
  }

  let note = '';
  if (mode === 'auto') {
    const url = options.autoUrl ?? 'mqtt://127.0.0.1:1883';
    const bridge = external(url);
    try {
      await bridge.ready(probeTimeoutMs);
      return bridged(
        bridge,
        url,
        `MQTT: auto found a broker, bridged to ${url} (prefix ${prefix})`,
      );
    } catch (error) {
      await bridge.close();
      note = `auto found no usable broker at ${url} (${(error as Error).message}); `;
    }
  }

  const requestedPort = options.port ?? 1883;
  const broker = await startEmbeddedBroker({
    host: options.host ?? '127.0.0.1',
    port: requestedPort,
    prefix,
    ...(options.httpServer && { httpServer: options.httpServer, path: options.path ?? '/mqtt' }),
    ...(options.authenticateDevice && { authenticateDevice: options.authenticateDevice }),
  });
  const bridge = connectMqttBridge(accept, {
    ...bridgeOptions,
    url: broker.url,
    clientId: broker.bridge.clientId,
    username: broker.bridge.username,
    password: broker.bridge.password,
  });
  try {
    await bridge.ready(probeTimeoutMs);
  } catch (error) {
    await bridge.close();
    await broker.close();
    throw error;
  }
  const taken =
    requestedPort !== 0 && broker.port !== requestedPort
      ? ` (port ${requestedPort} was taken)`
      : '';
  const ws = broker.wsPath ? `, MQTT over WebSocket at ${broker.wsPath}` : '';
  return {
    mode: 'embedded',
    description: `MQTT: ${note}embedded broker at ${broker.url}${taken}${ws} (prefix ${prefix})`,
    brokerUrl: broker.url,
    ...(broker.wsPath !== undefined && { wsPath: broker.wsPath }),
    bridge,
    async close() {
      await bridge.close();
      await broker.close();
    },
  };
}

/**
 * The MQTT transport's server half for a broker of the deployment's own (Mosquitto, EMQX, …):
 * a bridge that turns each device into a pipe. It serves no HTTP path; starting it connects to
 * the broker.
 */
import { withoutCredentials } from './redact.ts';
import { CloseCode } from '@switchyard/protocol';
import type { HttpServerHalf } from '@switchyard/http';
import { MqttBridgeError } from './bridge-ready.ts';
import { connectMqttBridge, type MqttBridge, type MqttBridgeOptions } from './bridge.ts';
import { DEFAULT_PREFIX } from '../shared/topics.ts';

/** Options of {@link mqttBridge}. */
export interface MqttBridgeHalfOptions extends Omit<MqttBridgeOptions, 'log'> {
  /**
   * How long starting waits for the broker. A broker that refuses the bridge fails the start;
   * one that cannot be reached yet does not: the bridge keeps trying. @default 2000
   */
  readonly readyTimeoutMs?: number;
  /**
   * A broker not reachable within `readyTimeoutMs`: `retry` starts anyway (the bridge keeps
   * trying), `fail` fails the start (for callers that would rather fall back). @default 'retry'
   */
  readonly onUnreachable?: 'retry' | 'fail';
}

/** The MQTT bridge server half. */
export interface MqttBridgeHalf extends HttpServerHalf {
  readonly transport: 'mqtt';
  /** The running bridge, once started. */
  readonly bridge: MqttBridge | undefined;
}

/** A server half bridging the broker at `options.url` into the hub. */
export function mqttBridge(options: MqttBridgeHalfOptions): MqttBridgeHalf {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  let bridge: MqttBridge | undefined;
  let note = '';
  return {
    transport: 'mqtt',
    paths: [],
    get bridge() {
      return bridge;
    },
    async start(host) {
      const started = connectMqttBridge(host.accept, { ...options, log: host.log });
      bridge = started;
      try {
        await started.ready(options.readyTimeoutMs ?? 2000);
      } catch (error) {
        const refused = error instanceof MqttBridgeError && error.code === 'refused';
        if (refused || options.onUnreachable === 'fail') {
          await started.close();
          bridge = undefined;
          const why = refused ? 'refused the bridge' : 'is not reachable';
          throw new Error(
            `the MQTT broker at ${withoutCredentials(options.url)} ${why}: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
        note = `, not connected yet (${(error as Error).message}); retrying`;
        host.log('warn', 'MQTT broker not reachable yet; the bridge keeps trying', {
          url: withoutCredentials(options.url),
        });
      }
    },
    get connections() {
      return bridge?.devices ?? 0;
    },
    describe: () => `MQTT: bridged to ${withoutCredentials(options.url)} (prefix ${prefix})${note}`,
    close: (code = CloseCode.goingAway) => bridge?.close(code) ?? Promise.resolve(),
  };
}

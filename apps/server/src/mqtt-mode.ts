/**
 * The server's `--mqtt auto|embedded|off|<broker URL>` as a server half: a bridge to the
 * deployment's broker, the embedded broker, or, for `auto`, whichever the machine allows (a
 * broker answering at 127.0.0.1:1883 is bridged, otherwise one is embedded).
 */
import { refuseUpgrade, type HttpServerHalf } from '@switchyard/http';
import type { OriginPolicy, TokenAuthority } from '@switchyard/protocol';
import { embeddedMqtt } from '@switchyard/transport-mqtt/broker';
import {
  mqttBridge,
  probeDeviceRules,
  withoutCredentials,
  type MqttBridgeHalfOptions,
} from '@switchyard/transport-mqtt/server';

/** `auto`, `embedded`, `off`, or a broker URL (`mqtt://host:port`, `mqtts://`, `ws://`, `wss://`). */
export type MqttMode = 'auto' | 'embedded' | 'off' | (string & {});

/** Whether `mode` is a broker URL rather than a keyword. */
export function isBrokerUrl(mode: string): boolean {
  return /^(mqtts?|wss?):\/\/./i.test(mode);
}

/** Whether `mode` is one the server understands. */
export function isMqttMode(mode: string): mode is MqttMode {
  return mode === 'auto' || mode === 'embedded' || mode === 'off' || isBrokerUrl(mode);
}

/** Options of {@link mqttHalf}. */
export interface MqttModeOptions {
  readonly mode: MqttMode;
  /** Embedded broker TCP address. @default '127.0.0.1' */
  readonly host?: string;
  /** Embedded broker TCP port; a taken port falls back to a free one. @default 1883 */
  readonly port?: number;
  /** Where `auto` looks for a running broker. @default 'mqtt://127.0.0.1:1883' */
  readonly autoUrl?: string;
  /** How long `auto` waits for that broker, and a URL mode for its first connection. @default 2000 */
  readonly probeTimeoutMs?: number;
  readonly allowedOrigins?: OriginPolicy;
  /** Topic prefix. @default 'switchyard' */
  readonly prefix?: string;
  /** The bridge's client id at a broker of the deployment's own. @default 'switchyard-bridge' */
  readonly clientId?: string;
  /**
   * The embedded broker refuses a device whose password is not a valid token (one without a password must announce with a token). A broker of the
   * deployment's own checks its own credentials; devices then authenticate in the announce.
   */
  readonly tokens?: TokenAuthority;
}

/** The MQTT half `options.mode` asks for; undefined for `off`. */
export function mqttHalf(options: MqttModeOptions): HttpServerHalf | undefined {
  const { mode } = options;
  if (mode === 'off') return undefined;
  if (!isMqttMode(mode))
    throw new TypeError(`mqtt mode must be auto, embedded, off or a broker URL, not "${mode}"`);
  const readyTimeoutMs = options.probeTimeoutMs ?? 2000;
  const bridged = {
    readyTimeoutMs,
    ...(options.prefix !== undefined && { prefix: options.prefix }),
    ...(options.clientId !== undefined && { clientId: options.clientId }),
  };
  const embedded = () =>
    embeddedMqtt({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 1883,
      readyTimeoutMs,
      ...(options.prefix !== undefined && { prefix: options.prefix }),
      ...(options.allowedOrigins && { allowedOrigins: options.allowedOrigins }),
      ...(options.tokens && { tokens: options.tokens }),
    });
  if (mode === 'embedded') return embedded();
  if (isBrokerUrl(mode)) return mqttBridge({ url: mode, ...bridged });
  return autoMqtt(options.autoUrl ?? 'mqtt://127.0.0.1:1883', bridged, embedded);
}

/**
 * `auto`: bridge to a broker that answers in time and enforces the device rules (an anonymous
 * device can neither read nor write other devices' topics), else embed one. Why the rules: on a
 * broker without them every MQTT peer can be spoofed, and a machine's default Mosquitto has none.
 */
function autoMqtt(
  url: string,
  bridged: Omit<MqttBridgeHalfOptions, 'url'>,
  embedded: () => HttpServerHalf,
): HttpServerHalf {
  let chosen: HttpServerHalf | undefined;
  let note = '';
  return {
    transport: 'mqtt',
    // claimed in both cases, so a bridged server answers /mqtt instead of letting it hang
    paths: ['/mqtt'],
    async start(host) {
      const bridge = mqttBridge({ ...bridged, url, onUnreachable: 'fail' });
      try {
        await bridge.start(host);
        const rules = await probeDeviceRules(url, {
          ...(bridged.prefix !== undefined && { prefix: bridged.prefix }),
          timeoutMs: bridged.readyTimeoutMs ?? 2000,
        });
        if (!rules.enforced) {
          await bridge.close();
          throw new Error(`it does not enforce the device rules: ${rules.why}`);
        }
        chosen = bridge;
        note = 'auto found a broker, ';
      } catch (error) {
        note = `auto found no usable broker at ${withoutCredentials(url)} (${(error as Error).message}); `;
        host.log('warn', 'mqtt auto: embedding a broker', { reason: (error as Error).message });
        const fallback = embedded();
        await fallback.start(host);
        chosen = fallback;
      }
    },
    handleUpgrade(request, socket, head) {
      if (chosen?.handleUpgrade) return chosen.handleUpgrade(request, socket, head);
      refuseUpgrade(
        socket,
        404,
        `MQTT over WebSocket is served by the embedded broker only; this server bridges to ${withoutCredentials(url)}`,
      );
    },
    get connections() {
      return chosen?.connections ?? 0;
    },
    describe: () => (chosen ? `${chosen.describe().replace(/^MQTT: /, `MQTT: ${note}`)}` : 'MQTT'),
    close: (code) => chosen?.close(code) ?? Promise.resolve(),
  };
}

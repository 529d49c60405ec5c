/**
 * The server halves the app can mount, one line each: adding a transport is one entry here.
 * `--transports` (env `SWITCHYARD_TRANSPORTS`) picks which of them a deployment runs.
 */
import type { HttpServerHalf } from '@switchyard/http';
import type { OriginPolicy, TokenAuthority } from '@switchyard/protocol';
import { socketIoServer } from '@switchyard/transport-socketio/server';
import { sseServer, type SseCluster } from '@switchyard/transport-sse/server';
import { webSocketServer } from '@switchyard/transport-ws/server';
import { mqttHalf, type MqttModeOptions } from './mqtt-mode.ts';

/** What every half is built from. */
export interface TransportSettings {
  readonly allowedOrigins?: OriginPolicy;
  /** Verifies tokens where a half refuses before the hub sees a pipe (SSE 401, MQTT CONNACK). */
  readonly tokens?: TokenAuthority;
  readonly mqtt: MqttModeOptions;
  /** In a cluster: how SSE reaches sessions held by other nodes. */
  readonly sseCluster?: SseCluster;
}

const FACTORIES = {
  ws: (settings: TransportSettings) => webSocketServer(origins(settings)),
  'socket.io': (settings: TransportSettings) => socketIoServer(origins(settings)),
  sse: (settings: TransportSettings) =>
    sseServer({
      ...origins(settings),
      ...tokens(settings),
      ...(settings.sseCluster && { cluster: settings.sseCluster }),
    }),
  mqtt: (settings: TransportSettings) =>
    mqttHalf({ ...settings.mqtt, ...origins(settings), ...tokens(settings) }),
} satisfies Record<string, (settings: TransportSettings) => HttpServerHalf | undefined>;

/** A transport the server can run. */
export type TransportName = keyof typeof FACTORIES;

/** Every transport, in the order they are mounted: the default of `--transports`. */
export const TRANSPORT_NAMES = Object.keys(FACTORIES) as TransportName[];

/** Whether `name` is a transport the server knows. */
export function isTransportName(name: string): name is TransportName {
  return Object.hasOwn(FACTORIES, name);
}

/** The halves for `names`; a transport switched off by its own setting (`--mqtt off`) is left out. */
export function transportHalves(
  names: readonly TransportName[],
  settings: TransportSettings,
): HttpServerHalf[] {
  return names.flatMap((name) => FACTORIES[name](settings) ?? []);
}

function tokens(settings: TransportSettings): { tokens?: TokenAuthority } {
  return settings.tokens ? { tokens: settings.tokens } : {};
}

function origins(settings: TransportSettings): { allowedOrigins?: OriginPolicy } {
  return settings.allowedOrigins ? { allowedOrigins: settings.allowedOrigins } : {};
}

/** The demo's transport picker: one connector per transport, and a way to drop signalling. */
import type { Connector, Pipe } from '@switchyard/protocol';
import { mqttConnector } from '@switchyard/transport-mqtt/client';
import { socketIoConnector } from '@switchyard/transport-socketio/client';
import { sseConnector } from '@switchyard/transport-sse/client';
import { webSocketConnector } from '@switchyard/transport-ws/client';

export const TRANSPORTS = ['ws', 'socket.io', 'sse', 'mqtt'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export function isTransport(value: string | null): value is Transport {
  return (TRANSPORTS as readonly (string | null)[]).includes(value);
}

/** A connector that can be cut: `drop(ms)` closes the live pipe and refuses to reconnect for `ms`. */
export interface DroppableConnector {
  readonly connector: Connector;
  drop(ms: number): void;
}

export function connectorFor(transport: Transport, origin: string): DroppableConnector {
  const inner = {
    ws: () => webSocketConnector(origin),
    'socket.io': () => socketIoConnector(origin),
    sse: () => sseConnector(origin),
    // the embedded broker listens on the server's port at /mqtt (switchyard --mqtt embedded)
    mqtt: () => mqttConnector(`${origin.replace(/^http/, 'ws')}/mqtt`),
  }[transport]();
  let live: Pipe | undefined;
  let blockedUntil = 0;
  return {
    async connector(options) {
      const wait = blockedUntil - Date.now();
      if (wait > 0) throw new Error(`signalling dropped for ${Math.ceil(wait / 1000)} s more`);
      live = await inner(options);
      return live;
    },
    drop(ms) {
      blockedUntil = Date.now() + ms;
      live?.close(1000, 'dropped by the demo');
      live = undefined;
    },
  };
}

/** Small packets out at once: TCP_NODELAY on MQTT.js connections; browser-safe. */
import type { MqttClient } from 'mqtt';

type MaybeSocket = { setNoDelay?(noDelay?: boolean): unknown } | undefined;

/**
 * Turns off Nagle's algorithm on every TCP connection `client` opens (its first, and each one
 * after a reconnect). Signalling is many small publishes and acknowledgements; with Nagle and
 * delayed ACKs each exchange can stall up to 40 ms. WebSocket streams (`ws` sets it itself,
 * browsers have no such knob) are left alone.
 */
export function sendImmediately(client: MqttClient): void {
  const apply = () => void (client.stream as MaybeSocket)?.setNoDelay?.(true);
  apply();
  // a reconnect opens a new stream; nothing but CONNECT and CONNACK crosses it before this
  client.on('connect', apply);
}

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

/**
 * Writes what MQTT.js holds back now. mqtt-packet corks the stream for one tick per packet,
 * and in a browser a tick is a `setTimeout`: a page closing on `pagehide` gets no more ticks,
 * so the /leave it just published would never leave the tab.
 */
export function flushNow(client: MqttClient): void {
  const stream = client.stream as { writableCorked?: number; uncork?: () => void } | undefined;
  for (let guard = 0; (stream?.writableCorked ?? 0) > 0 && guard < 64; guard++) stream!.uncork!();
}

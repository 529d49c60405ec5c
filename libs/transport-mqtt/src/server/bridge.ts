/**
 * Server half of the MQTT transport: a bridge that connects to a broker, subscribes
 * `<prefix>/up/+` and `<prefix>/status/+`, and turns each device (one MQTT client id) into a
 * `Pipe` for the hub. It never parses protocol messages.
 *
 * - A device's pipe opens on its first `up` message or its `online` status; `offline` (its Last
 *   Will, or the client half closing) closes it without `/leave`, so the hub's grace window applies.
 * - The bridge's session is persistent and it reconnects by itself; device pipes stay open across
 *   its reconnects. Only when the broker lost the session (Wills may have been lost with it) must
 *   each device show a sign of life within `rejoinTimeoutMs`; the others are hard disconnects.
 * - Down messages are published with QoS 2 through a small window (publish-window.ts), so the
 *   bridge's own resends cannot reach a device twice; devices subscribe with QoS 1, and both
 *   ends drop QoS 1 redeliveries (shared/redelivery.ts).
 */
import { withoutCredentials } from './redact.ts';
import { isUtf8 } from 'node:buffer';
import mqtt from 'mqtt';
import { CloseCode, debugLogger, type Accept, type Logger } from '@switchyard/protocol';
import { firstConnection, MqttBridgeError } from './bridge-ready.ts';
import { Device, type DeviceHost } from './device-pipe.ts';
import { publishWindow } from './publish-window.ts';
import { sendImmediately } from '../shared/no-delay.ts';
import { RedeliveryFilter } from '../shared/redelivery.ts';
import { endWithin } from '../shared/session.ts';
import { DEFAULT_PREFIX, parseDeviceTopic, PING_FRAME, Status } from '../shared/topics.ts';

/** Options of {@link connectMqttBridge}. */
export interface MqttBridgeOptions {
  /** Broker URL: `mqtt://`, `mqtts://`, `ws://`, `wss://`. */
  readonly url: string;
  /** Topic prefix. @default 'switchyard' */
  readonly prefix?: string;
  /** The bridge's client id; its persistent session lives under it. @default 'switchyard-bridge' */
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
  /** MQTT keepalive of the bridge's own connection. @default 30 */
  readonly keepaliveSeconds?: number;
  /** Delay between reconnect attempts. @default 1000 */
  readonly reconnectPeriodMs?: number;
  /** Time for one connection attempt to get its CONNACK. @default 10000 */
  readonly connectTimeoutMs?: number;
  /**
   * QoS 2 publishes in flight at once; keep it under the broker's per-client maximum (Mosquitto:
   * `max_inflight_messages`, default 20). @default 16
   */
  readonly maxInflight?: number;
  /** After a reconnect that lost the session: how long devices have to show a sign of life. @default 30000 */
  readonly rejoinTimeoutMs?: number;
  /** Diagnostics. @default debug namespace `switchyard:mqtt` */
  readonly log?: Logger;
  /**
   * The token a device connected to the broker with, handed to the hub as the pipe's
   * connect-time credential; the embedded broker's `tokenOf`. @default none: devices put
   * their token in the announce
   */
  readonly tokenOf?: (clientId: string) => string | undefined;
}

/** Counters of a bridge. */
export interface MqttBridgeStats {
  readonly devices: number;
  readonly connected: boolean;
  readonly reconnects: number;
  /** QoS 1 redeliveries recognised and dropped. */
  readonly redeliveriesDropped: number;
  /** Devices closed because they did not come back after the broker lost the session. */
  readonly notRejoined: number;
}

/** A running bridge. */
export interface MqttBridge {
  /** Connected to the broker right now. */
  readonly connected: boolean;
  /** Devices with an open pipe. */
  readonly devices: number;
  /**
   * Resolves once the first connection is subscribed; rejects on the first connection error (a
   * refused CONNACK, an unreachable broker) or after `timeoutMs` (default 10000). The bridge keeps retrying
   * unreachable brokers either way, until `close()`.
   */
  ready(timeoutMs?: number): Promise<void>;
  stats(): MqttBridgeStats;
  /** Sends every device a `close` frame with `code` (default 1001), then disconnects. */
  close(code?: number): Promise<void>;
}

/** Connects a bridge between the broker at `options.url` and `accept` (in practice `hub.accept`). */
export function connectMqttBridge(accept: Accept, options: MqttBridgeOptions): MqttBridge {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const log = options.log ?? debugLogger('switchyard:mqtt');
  const rejoinTimeoutMs = options.rejoinTimeoutMs ?? 30_000;
  const devices = new Map<string, Device>();
  const filter = new RedeliveryFilter();
  const counters = { reconnects: 0, redeliveriesDropped: 0, notRejoined: 0 };
  let subscribed = false;
  let closing = false;
  let rejoinTimer: ReturnType<typeof setTimeout> | undefined;

  const client = mqtt.connect(options.url, {
    clientId: options.clientId ?? 'switchyard-bridge',
    clean: false,
    protocolVersion: 4,
    keepalive: options.keepaliveSeconds ?? 30,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  });

  sendImmediately(client);
  const outbox = publishWindow(client, options.maxInflight ?? 16);
  const host: DeviceHost = {
    publish(topic, message, done) {
      outbox.publish(topic, message, (error) => {
        if (error && !closing) log('warn', 'publish failed', { topic, error: error.message });
        done?.();
      });
    },
    forget(device) {
      if (devices.get(device.clientId) === device) devices.delete(device.clientId);
    },
    get connected() {
      return client.connected;
    },
  };

  function deviceFor(clientId: string): Device {
    let device = devices.get(clientId);
    if (!device) {
      device = new Device(host, clientId, `${prefix}/down/${clientId}`);
      devices.set(clientId, device);
      const token = options.tokenOf?.(clientId);
      accept(device.handle.pipe, {
        transport: 'mqtt',
        credentials: { mqttClientId: clientId, ...(token !== undefined && { token }) },
      });
    }
    return device;
  }

  function onUp(clientId: string, payload: Buffer): void {
    const device = deviceFor(clientId);
    device.heard();
    // the hub answers unreadable input inside the device's rate limit
    if (!isUtf8(payload)) device.handle.unreadable('payloads that are not UTF-8 text');
    else device.handle.receive(payload.toString('utf8'));
  }

  function onStatus(clientId: string, status: string): void {
    if (status === Status.online) return deviceFor(clientId).heard();
    if (status !== Status.offline) return;
    const device = devices.get(clientId);
    if (!device) return;
    devices.delete(clientId);
    device.gone('device offline');
  }

  /** The broker lost our session, and with it any Will published meanwhile: ask every device. */
  function rejoin(): void {
    for (const device of devices.values()) {
      device.confirmed = false;
      host.publish(device.down, PING_FRAME);
    }
    clearTimeout(rejoinTimer);
    rejoinTimer = setTimeout(() => {
      for (const device of [...devices.values()]) {
        if (device.confirmed) continue;
        counters.notRejoined += 1;
        devices.delete(device.clientId);
        device.gone('did not come back after the broker lost its session');
      }
    }, rejoinTimeoutMs);
    rejoinTimer.unref?.();
  }

  // a CONNACK starts another connection of the session: what follows may be resent
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'connack') filter.connected();
  });
  client.on('message', (topic, payload, packet) => {
    if (closing) return;
    const parsed = parseDeviceTopic(prefix, topic);
    if (!parsed || parsed.kind === 'down') return;
    if (packet.qos > 0 && filter.isRedelivery(packet.messageId, payload)) {
      counters.redeliveriesDropped += 1;
      log('debug', 'dropped a redelivery', { topic });
      return;
    }
    if (parsed.kind === 'up') onUp(parsed.clientId, payload);
    else onStatus(parsed.clientId, payload.toString('utf8'));
  });

  const first = firstConnection(withoutCredentials(options.url));
  client.on('connect', (connack) => {
    if (subscribed) {
      counters.reconnects += 1;
      log('info', 'reconnected to the broker', { sessionPresent: connack.sessionPresent });
      if (!connack.sessionPresent) rejoin(); // MQTT.js re-subscribes by itself in that case
      return;
    }
    const filters = [`${prefix}/up/+`, `${prefix}/status/+`];
    client.subscribe(filters, { qos: 1 }, (error, granted) => {
      const refused = granted?.find((grant) => grant.qos === 128);
      if (error || refused) {
        const reason = error?.message ?? `not allowed to subscribe to ${refused!.topic}`;
        log('warn', 'subscribe failed', { reason });
        first.settle(new MqttBridgeError('refused', reason));
        return;
      }
      subscribed = true;
      log('info', 'bridge connected', { url: withoutCredentials(options.url), prefix });
      first.settle();
    });
  });
  client.on('error', (error) => {
    log('warn', 'broker connection error', { error: error.message });
    // a CONNACK refusal carries a numeric return code; socket errors a string one
    const refused = typeof (error as { code?: unknown }).code === 'number';
    first.settle(new MqttBridgeError(refused ? 'refused' : 'unreachable', error.message));
  });
  client.on('offline', () => log('warn', 'broker connection lost; reconnecting'));

  return {
    get connected() {
      return client.connected;
    },
    get devices() {
      return devices.size;
    },
    ready: (timeoutMs = 10_000) => first.wait(timeoutMs),
    stats: () => ({ devices: devices.size, connected: client.connected, ...counters }),
    async close(code = CloseCode.goingAway) {
      if (closing) return;
      clearTimeout(rejoinTimer);
      for (const device of [...devices.values()]) device.close(code, 'server shutting down');
      closing = true;
      first.settle(new MqttBridgeError('closed', 'bridge closed'));
      // let the close frames out, but never wait long for an unreachable broker
      await endWithin(client, 2000);
    },
  };
}

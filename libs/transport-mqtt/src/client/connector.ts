/**
 * Client half of the MQTT transport: MQTT.js over TCP (`mqtt://`, `mqtts://`) in Node, over
 * WebSocket (`ws://…/mqtt`, `wss://`) anywhere. One pipe is one MQTT connection; the signaller
 * owns reconnects, so MQTT.js never reconnects by itself.
 *
 * Sessions are persistent (`clean: false`, QoS 1 both ways), so what the bridge sends while the
 * device is away waits in the broker. A connection that *drops* keeps its session, and the next
 * connection of the same connector resumes it with the same client id; a connection closed on
 * purpose (either side) discards it, so brokers keep nothing for devices that said goodbye.
 */
import mqtt from 'mqtt';
import {
  CloseCode,
  ConnectRefusedError,
  definePipe,
  openWithin,
  resolveToken,
  UnauthorizedError,
  type CloseInfo,
  type Connector,
  type Pipe,
  type TokenSource,
} from '@switchyard/protocol';
import { slotPool, type Slot, type SlotPool } from './slots.ts';
import { flushNow, sendImmediately } from '../shared/no-delay.ts';
import { discardMqttSession, endWithin } from '../shared/session.ts';
import {
  DEFAULT_PREFIX,
  deviceTopics,
  isValidClientId,
  parseCloseFrame,
  PING_FRAME,
  Status,
  type DeviceTopics,
} from '../shared/topics.ts';

export { discardMqttSession, type DiscardSessionOptions } from '../shared/session.ts';
export { DEFAULT_PREFIX, deviceTopics, Status, type DeviceTopics } from '../shared/topics.ts';

/** Options of {@link mqttConnector}. */
export interface MqttConnectorOptions {
  /**
   * The device's MQTT client id, which is also its topic level. A fixed id allows one open pipe
   * at a time. @default a random `sy-…` id per concurrent pipe, reused after a drop
   */
  readonly clientId?: string;
  /** Topic prefix. @default 'switchyard' */
  readonly prefix?: string;
  readonly username?: string;
  readonly password?: string;
  /**
   * A credential sent as the MQTT password (docs/protocol.md §4.7), for a broker that checks
   * JWTs such as the embedded one: a string, or a function called before every (re)connect.
   * Takes the place of `password`; the user name defaults to `jwt`.
   */
  readonly token?: TokenSource;
  /** MQTT keepalive: the broker publishes the Last Will 1.5× this long after the last packet. @default 30 */
  readonly keepaliveSeconds?: number;
  /** Give up opening a connection after this long. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** How long a close waits for outstanding PUBACKs before cutting the connection. @default 2000 */
  readonly closeTimeoutMs?: number;
}

const QOS1 = { qos: 1 } as const;

/** A `Connector` that also tells when its pipes have finished closing. */
export interface MqttConnector extends Connector {
  /**
   * Resolves once every pipe this connector closed has finished closing, broker sessions
   * discarded; await it before a process exits. Open pipes are not waited for.
   */
  settled(): Promise<void>;
}

/** A `Connector` that opens one MQTT connection per pipe. */
export function mqttConnector(url: string, options: MqttConnectorOptions = {}): MqttConnector {
  if (options.clientId !== undefined && !isValidClientId(options.clientId)) {
    throw new TypeError(`invalid MQTT client id ${JSON.stringify(options.clientId)}`);
  }
  const slots = slotPool(options.clientId);
  const connector: Connector = async ({ signal } = {}) => {
    signal?.throwIfAborted();
    const slot = slots.acquire();
    try {
      await slot.settled;
      const token = await resolveToken(options.token);
      return await open(
        url,
        slot,
        // MQTT 3.1.1 sends no password without a user name (§3.1.2.9)
        token === undefined ? options : { username: 'jwt', ...options, password: token },
        slots,
        signal,
      );
    } catch (error) {
      slots.release(slot);
      throw error;
    }
  };
  return Object.assign(connector, { settled: () => slots.settled() });
}

function open(
  url: string,
  slot: Slot,
  options: MqttConnectorOptions,
  slots: SlotPool,
  signal?: AbortSignal,
): Promise<Pipe> {
  // nothing may be opened for an aborted attempt: openWithin would not tear it down
  signal?.throwIfAborted();
  const topics: DeviceTopics = deviceTopics(options.prefix ?? DEFAULT_PREFIX, slot.clientId);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 2000;
  const credentials = {
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  };
  const client = mqtt.connect(url, {
    clientId: slot.clientId,
    clean: false,
    protocolVersion: 4,
    keepalive: options.keepaliveSeconds ?? 30,
    reconnectPeriod: 0,
    // openWithin owns the deadline (a TimeoutError); MQTT.js's own CONNACK timer, started
    // earlier, would otherwise win the race and fail the open as a refusal
    connectTimeout: connectTimeoutMs + 1000,
    resubscribe: false,
    will: { topic: topics.status, payload: Status.offline, qos: 1, retain: false },
    ...credentials,
  });
  sendImmediately(client);
  slot.filter.connected();

  let state: 'opening' | 'open' | 'closing' | 'closed' = 'opening';
  let buffered = 0;
  // inbound text held until the caller has had a turn to attach listeners
  let early: string[] | undefined = [];

  const handle = definePipe('mqtt', {
    send(message) {
      buffered += message.length;
      client.publish(topics.up, message, QOS1, () => (buffered -= message.length));
    },
    close(code, reason) {
      finish({ local: true, ...(code !== undefined && { code }), ...(reason && { reason }) });
    },
    bufferedAmount: () => buffered,
  });

  /** Every way a connection ends, in one place; only a drop keeps the session. */
  function finish(info: CloseInfo): void {
    if (state === 'closing' || state === 'closed') return;
    const dropped = info.code === CloseCode.abnormal;
    state = dropped ? 'closed' : 'closing';
    if (!info.local) handle.closed(info);
    if (dropped) {
      client.end(true);
      slots.release(slot);
      return;
    }
    const done = (async () => {
      if (client.connected) {
        // `offline` lets the bridge close a pipe that late messages may have reopened
        client.publish(topics.status, Status.offline, QOS1);
        flushNow(client);
        await endWithin(client, closeTimeoutMs);
      } else client.end(true);
      state = 'closed';
      if (info.local) handle.closed(info);
      await discardMqttSession(url, slot.clientId, { ...credentials, timeoutMs: closeTimeoutMs });
    })();
    slots.closing(slot, done);
  }

  function inbound(text: string): void {
    if (early) {
      early.push(text);
      return;
    }
    if (text.charCodeAt(0) === 0x2f /* '/' */) return handle.receive(text);
    if (text === PING_FRAME) {
      client.publish(topics.status, Status.online, QOS1);
      return;
    }
    const close = parseCloseFrame(text);
    if (close) finish({ local: false, code: close.code, reason: close.reason });
  }

  client.on('message', (topic, payload, packet) => {
    if (topic !== topics.down || state === 'closed') return;
    if (packet.qos > 0 && slot.filter.isRedelivery(packet.messageId, payload)) return;
    inbound(payload.toString());
  });

  return openWithin<Pipe>({ target: url, timeoutMs: connectTimeoutMs, signal }, (attempt) => {
    const fail = (error: Error) => {
      if (state !== 'opening') return;
      state = 'closed';
      attempt.reject(error);
    };
    client.on('error', (error) => {
      // CONNACK 4 (bad user name or password) and 5 (not authorised): final, like a 4001
      const code = (error as Error & { code?: unknown }).code;
      if (code === 4 || code === 5)
        return fail(new UnauthorizedError(`the broker refused the connection: ${error.message}`));
      fail(new ConnectRefusedError(url, error.message, { cause: error }));
    });
    client.on('close', () => {
      if (state === 'opening') fail(new ConnectRefusedError(url, 'the connection closed'));
      else if (state === 'open')
        finish({ local: false, code: CloseCode.abnormal, reason: 'connection lost' });
    });
    client.once('connect', () => {
      client.subscribe(topics.down, QOS1, (error, granted) => {
        if (error) return fail(new ConnectRefusedError(url, error.message, { cause: error }));
        if (granted?.[0]?.qos === 128)
          return fail(new ConnectRefusedError(url, `not allowed to read ${topics.down}`));
        if (state !== 'opening') return;
        state = 'open';
        // after every connect, so a bridge that lost its session knows this device is back
        client.publish(topics.status, Status.online, QOS1);
        attempt.resolve(handle.pipe);
        setTimeout(() => {
          const held = early ?? [];
          early = undefined;
          for (const text of held) inbound(text);
        }, 0);
      });
    });
    // timeout or abort: nothing opened, so drop the connection at once
    return () => {
      state = 'closed';
      client.end(true);
    };
  });
}

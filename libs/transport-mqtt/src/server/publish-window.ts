/**
 * The bridge publishes with QoS 2, at most `limit` messages in flight, the rest waiting in order.
 *
 * QoS 2: after a reconnect MQTT.js resends what the broker had not acknowledged; with QoS 1 the
 * broker would forward such a resend again, as a new message, and a device would get it twice.
 * The window: MQTT 3.1.1 has no flow control, and a broker only keeps so many incoming QoS 2
 * exchanges open per client (Mosquitto's `max_inflight_messages`, default 20, drops the excess;
 * aedes disconnects past 1000). Staying under that keeps every message; it also bounds what
 * MQTT.js holds for a resend.
 */
import type { MqttClient } from 'mqtt';

const QOS2 = { qos: 2 } as const;

interface Waiting {
  readonly topic: string;
  readonly message: string;
  readonly done?: (error?: Error) => void;
}

/** An ordered, windowed publisher over one client. */
export interface PublishWindow {
  /** Queues one publish; `done` runs when the broker completed it (or it failed). */
  publish(topic: string, message: string, done?: (error?: Error) => void): void;
  /** Publishes waiting for a slot. */
  readonly waiting: number;
}

/** Creates the window; `limit` must stay under the broker's per-client in-flight maximum. */
export function publishWindow(client: MqttClient, limit: number): PublishWindow {
  let queue: Waiting[] = [];
  let head = 0;
  let inflight = 0;

  function pump(): void {
    while (inflight < limit && head < queue.length) {
      const next = queue[head]!;
      queue[head++] = undefined as unknown as Waiting; // let the message be collected
      inflight += 1;
      client.publish(next.topic, next.message, QOS2, (error) => {
        inflight -= 1;
        next.done?.(error);
        pump();
      });
    }
    // compact now and then instead of shifting on every message
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  }

  return {
    publish(topic, message, done) {
      queue.push(done ? { topic, message, done } : { topic, message });
      pump();
    },
    get waiting() {
      return queue.length - head;
    },
  };
}

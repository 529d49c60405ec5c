/**
 * The bridge publishes with QoS 2, at most `limit` messages in flight, the rest waiting in order
 * per topic and taken round-robin across topics.
 *
 * QoS 2: after a reconnect MQTT.js resends what the broker had not acknowledged; with QoS 1 the
 * broker would forward such a resend again, as a new message, and a device would get it twice.
 * The window: MQTT 3.1.1 has no flow control, and a broker only keeps so many incoming QoS 2
 * exchanges open per client (Mosquitto's `max_inflight_messages`, default 20, drops the excess;
 * aedes disconnects past 1000). Staying under that keeps every message; it also bounds what
 * MQTT.js holds for a resend. Round-robin: every device shares the bridge's one window, so a
 * single FIFO would make a quiet device wait behind a busy room's whole backlog; per-topic queues
 * keep each device's order and let each wait for at most one slot per busy device.
 */
import type { MqttClient } from 'mqtt';

const QOS2 = { qos: 2 } as const;

interface Waiting {
  readonly message: string;
  readonly done?: (error?: Error) => void;
}

/** A first-in first-out queue that does not shift arrays. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // let it be collected
    // compact now and then instead of shifting on every item
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
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
  const queues = new Map<string, Fifo<Waiting>>();
  /** Topics with something waiting, in turn order; each appears once. */
  const turns = new Fifo<string>();
  let inflight = 0;
  let waiting = 0;

  function pump(): void {
    while (inflight < limit && turns.size > 0) {
      const topic = turns.shift()!;
      const queue = queues.get(topic)!;
      const next = queue.shift()!;
      if (queue.size > 0) turns.push(topic);
      else queues.delete(topic);
      waiting -= 1;
      inflight += 1;
      client.publish(topic, next.message, QOS2, (error) => {
        inflight -= 1;
        next.done?.(error);
        pump();
      });
    }
  }

  return {
    publish(topic, message, done) {
      let queue = queues.get(topic);
      if (!queue) {
        queue = new Fifo();
        queues.set(topic, queue);
        turns.push(topic);
      }
      queue.push(done ? { message, done } : { message });
      waiting += 1;
      pump();
    },
    get waiting() {
      return waiting;
    },
  };
}

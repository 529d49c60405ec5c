/**
 * Drops QoS 1 redeliveries. A broker resends every message whose PUBACK it did not get once the
 * session reconnects; when the PUBACK, not the message, was lost, the receiver already handled
 * it, and protocol messages are not idempotent (`/to` twice is a bug).
 *
 * What makes a redelivery recognisable without touching the payload:
 * - it keeps the packet id it had the first time (MQTT-4.3.2). The DUP flag is not relied on:
 *   Mosquitto sets it, aedes does not;
 * - it only comes on a later connection of the session (brokers never resend within one), soon
 *   after the CONNACK, though not necessarily first (aedes interleaves new messages).
 * So: a message whose packet id and payload fingerprint equal those of one of the last
 * {@link WINDOW} messages of an earlier connection, within {@link RESEND_WINDOW_MS} of the
 * reconnect, is a redelivery. Mosquitto numbers a session's packets on across reconnects, so a
 * new message cannot match; aedes starts each connection at a random id, so a new message
 * matches only with a colliding id (≤ WINDOW in 65535) and a byte-identical payload.
 */

/** Messages remembered; a broker keeps far fewer unacknowledged (Mosquitto: 20 in flight). */
export const WINDOW = 256;

/** How long after a reconnect the messages of earlier connections may come again. */
export const RESEND_WINDOW_MS = 30_000;

/** FNV-1a over the bytes, mixed with the length: cheap, and enough to tell payloads apart. */
function fingerprint(payload: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < payload.length; i++) {
    hash ^= payload[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return (payload.length % 0x200000) * 0x100000000 + (hash >>> 0);
}

/** Keeps the newest `limit` entries (a Map iterates in insertion order). */
function trim(map: Map<number, number>, limit: number): void {
  while (map.size > limit) map.delete(map.keys().next().value!);
}

/** Redelivery detection for one MQTT session; it outlives the session's connections. */
export class RedeliveryFilter {
  /** Packet id → fingerprint of what this connection received. */
  private current = new Map<number, number>();
  /** The same for earlier connections: what may be resent. */
  private earlier = new Map<number, number>();
  private resendUntil = 0;

  /** A new network connection of the session started. */
  connected(now = Date.now()): void {
    for (const [id, print] of this.current) {
      this.earlier.delete(id);
      this.earlier.set(id, print);
    }
    trim(this.earlier, WINDOW);
    this.current = new Map();
    this.resendUntil = now + RESEND_WINDOW_MS;
  }

  /** True when this QoS 1/2 packet was already handled; otherwise remembers it. */
  isRedelivery(messageId: number | undefined, payload: Uint8Array, now = Date.now()): boolean {
    if (messageId === undefined) return false;
    const print = fingerprint(payload);
    const resent = now <= this.resendUntil && this.earlier.get(messageId) === print;
    // a resent message joins this connection's: it may have to be recognised once more
    if (resent) this.earlier.delete(messageId);
    this.current.delete(messageId);
    this.current.set(messageId, print);
    trim(this.current, WINDOW);
    return resent;
  }
}

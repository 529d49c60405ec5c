/**
 * Expiry of dormant sessions in the embedded broker. Devices use persistent sessions; one that
 * drops and never comes back (a closed browser tab) would keep its session, subscription and
 * queue in aedes' memory for good. MQTT 3.1.1 has no session expiry, so the broker applies one
 * (Mosquitto: `persistent_client_expiration` in the sample config).
 */
import type { Aedes, Client } from 'aedes';

/** The part of aedes' persistence this needs (the `persistence` option's documented API). */
interface SessionStore {
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
  outgoingStream(client: { id: string }): AsyncIterable<{ messageId?: number }>;
  outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<unknown>;
}

/** Dormant sessions and their expiry timers. */
export interface SessionExpiry {
  /** Persistent sessions whose client is gone, waiting to expire or to be resumed. */
  readonly dormant: number;
  stop(): void;
}

/** Expires the persistent sessions of clients gone longer than `expiryMs` (`skip`: never). */
export function expireDormantSessions(
  aedes: Aedes,
  expiryMs: number,
  skip: (client: Client) => boolean,
): SessionExpiry {
  const store = (aedes as unknown as { persistence: SessionStore }).persistence;
  const live = new Map<string, Client>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const cancel = (id: string) => {
    clearTimeout(timers.get(id));
    timers.delete(id);
  };

  async function forget(id: string): Promise<void> {
    const client = { id };
    await store.cleanSubscriptions(client);
    for await (const packet of store.outgoingStream(client)) {
      await store.outgoingClearMessageId(client, packet);
    }
  }

  aedes.on('clientReady', (client) => {
    cancel(client.id);
    live.set(client.id, client);
  });
  aedes.on('clientDisconnect', (client) => {
    // a takeover disconnects the old client after the new one is ready: nothing is dormant
    if (live.get(client.id) !== client) return;
    live.delete(client.id);
    if (client.clean || skip(client)) return;
    const id = client.id;
    const timer = setTimeout(() => {
      timers.delete(id);
      if (!live.has(id)) forget(id).catch(() => undefined);
    }, expiryMs);
    timer.unref();
    timers.set(id, timer);
  });

  return {
    get dormant() {
      return timers.size;
    },
    stop() {
      for (const id of [...timers.keys()]) cancel(id);
    },
  };
}

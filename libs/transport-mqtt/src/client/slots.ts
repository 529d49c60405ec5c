/**
 * Which client id each connection of a connector uses. A connection that dropped left a broker
 * session worth resuming (what was sent meanwhile waits in it), so the next connection takes
 * that id; otherwise a fresh random id, so concurrent pipes never share a session.
 */
import { RedeliveryFilter } from '../shared/redelivery.ts';

/** A client id and what outlives its connections: the broker session's redelivery filter. */
export interface Slot {
  readonly clientId: string;
  filter: RedeliveryFilter;
  busy: boolean;
  /** Settles when the previous connection of this id has finished closing. */
  settled: Promise<void>;
}

/** The client ids of one connector. */
export interface SlotPool {
  /** A slot for a new connection. @throws when a fixed id already has an open pipe */
  acquire(): Slot;
  /** The connection dropped (keeping its session) or never opened: the id is free again. */
  release(slot: Slot): void;
  /** A connection closed on purpose; `done` settles once its session is discarded. */
  closing(slot: Slot, done: Promise<void>): void;
  /** Resolves when every closing connection has settled. */
  settled(): Promise<void>;
}

function randomClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `sy-${Array.from(bytes, (b) => (b % 36).toString(36)).join('')}`;
}

const newSlot = (clientId: string): Slot => ({
  clientId,
  filter: new RedeliveryFilter(),
  busy: false,
  settled: Promise.resolve(),
});

/** Slots for one fixed client id (a device's identity), or random ones. */
export function slotPool(fixedClientId?: string): SlotPool {
  const fixed = fixedClientId !== undefined ? newSlot(fixedClientId) : undefined;
  const resumable: Slot[] = []; // newest last
  const closing = new Set<Promise<void>>();
  return {
    acquire() {
      if (fixed?.busy) throw new Error(`MQTT client id ${fixed.clientId} already has an open pipe`);
      const slot = fixed ?? resumable.pop() ?? newSlot(randomClientId());
      slot.busy = true;
      return slot;
    },
    release(slot) {
      slot.busy = false;
      if (slot !== fixed) resumable.push(slot);
    },
    closing(slot, done) {
      // a successor may take the id now: it waits for `settled` before connecting
      slot.busy = false;
      slot.settled = done.then(() => {
        slot.filter = new RedeliveryFilter(); // a fresh session: old packet ids mean nothing
      });
      closing.add(slot.settled);
      void slot.settled.finally(() => closing.delete(slot.settled));
    },
    async settled() {
      while (closing.size > 0) await Promise.all(closing);
    },
  };
}

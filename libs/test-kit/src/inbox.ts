/** One cursor inbox for everything a test receives: frames, events, packets. */
import { waitUntil } from './wait.ts';

/** What arrived, in order, with a cursor that `next` and `take` advance. */
export interface Inbox<T> {
  /** Everything received so far, taken or not. */
  readonly received: readonly T[];
  push(item: T): void;
  /** Waits for the next item after the cursor that passes `filter`; skipped items are taken. */
  next(filter?: (item: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Items received and not yet taken; moves the cursor to the end. */
  take(): T[];
}

/** Creates an inbox; `what` names its items in timeout messages (`'a message'`). */
export function inbox<T>(what = 'an item'): Inbox<T> {
  const received: T[] = [];
  let cursor = 0;
  return {
    received,
    push: (item) => void received.push(item),
    next(filter = () => true, timeoutMs = 5000) {
      return waitUntil(
        () => {
          while (cursor < received.length) {
            const item = received[cursor++]!;
            if (filter(item)) return { item };
          }
          return undefined;
        },
        what,
        timeoutMs,
      ).then(({ item }) => item);
    },
    take() {
      const fresh = received.slice(cursor);
      cursor = received.length;
      return fresh;
    },
  };
}

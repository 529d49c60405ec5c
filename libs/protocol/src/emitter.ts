/** A tiny typed event emitter that runs in browsers and never throws for unhandled events. */

/** An event map: event name → listener signature. */
export type EventMap = { [event: string]: (...args: never[]) => void };

/** Typed subscribe/emit. `on` returns the unsubscribe function. */
export interface Emitter<Events extends EventMap> {
  on<E extends keyof Events & string>(event: E, listener: Events[E]): () => void;
  once<E extends keyof Events & string>(event: E, listener: Events[E]): () => void;
  off<E extends keyof Events & string>(event: E, listener: Events[E]): void;
  emit<E extends keyof Events & string>(event: E, ...args: Parameters<Events[E]>): void;
  listenerCount(event: keyof Events & string): number;
}

/**
 * Creates an emitter. A listener that throws is reported to `onListenerError` (default: rethrown
 * asynchronously) so that one bad listener cannot break the emitter's caller.
 */
export function createEmitter<Events extends EventMap>(
  onListenerError: (error: unknown) => void = (error) =>
    queueMicrotask(() => {
      throw error;
    }),
): Emitter<Events> {
  type Listener = (...args: unknown[]) => void;
  const listeners = new Map<string, Set<Listener>>();
  const emitter: Emitter<Events> = {
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as unknown as Listener);
      return () => emitter.off(event, listener);
    },
    once(event, listener) {
      const off = emitter.on(event, ((...args: Parameters<typeof listener>) => {
        off();
        (listener as unknown as Listener)(...args);
      }) as unknown as typeof listener);
      return off;
    },
    off(event, listener) {
      listeners.get(event)?.delete(listener as unknown as Listener);
    },
    emit(event, ...args) {
      const set = listeners.get(event);
      if (!set || set.size === 0) return;
      for (const listener of [...set]) {
        try {
          listener(...args);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
    listenerCount(event) {
      return listeners.get(event)?.size ?? 0;
    },
  };
  return emitter;
}

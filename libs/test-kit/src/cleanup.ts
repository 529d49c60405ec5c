/**
 * A stack of cleanups for a test's odd resources (a raw socket, a listener): Node 20 has no
 * `AsyncDisposableStack`. `await using stack = cleanupStack()` runs them in reverse order.
 */

/** Cleanups that run, last first, when the stack is disposed; every one runs even if some throw. */
export interface CleanupStack extends AsyncDisposable {
  /** Runs `cleanup` on dispose. */
  defer(cleanup: () => unknown): void;
  /** Disposes `resource` on dispose and returns it. */
  use<T extends AsyncDisposable>(resource: T): T;
}

/** Creates an empty cleanup stack. */
export function cleanupStack(): CleanupStack {
  const cleanups: (() => unknown)[] = [];
  return {
    defer: (cleanup) => void cleanups.push(cleanup),
    use(resource) {
      cleanups.push(() => resource[Symbol.asyncDispose]());
      return resource;
    },
    async [Symbol.asyncDispose]() {
      const errors: unknown[] = [];
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'cleanups failed');
    },
  };
}

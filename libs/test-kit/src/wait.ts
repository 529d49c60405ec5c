/** Waiting helpers: every wait has a deadline and names what it waited for; no fixed sleeps. */

/** Resolves when `check` returns a truthy value; rejects naming `what` after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** {@link waitUntil} for a check that must await (a browser page, a stats read). */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves after `ms`; only for proving that something does *not* happen within a window. */
export function quietFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves with the arguments of the next call of the listener that `subscribe` registers and
 * that passes `filter`, or rejects naming `what` after `timeoutMs`. The building block of typed
 * `nextEvent` helpers: `nextCall((listener) => emitter.on('ping', listener), 'ping')`.
 */
export function nextCall<A extends unknown[]>(
  subscribe: (listener: (...args: A) => void) => () => void,
  what: string,
  filter: (...args: A) => boolean = () => true,
  timeoutMs = 5000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const off = subscribe((...args) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

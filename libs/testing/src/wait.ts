/** Waiting helpers: every wait has a deadline, no test sleeps for a fixed time. */
import type { Signaller, SignallerEvents } from '@switchyard/signaller';

/** Resolves when `check` returns a truthy value; rejects with `what` after `timeoutMs`. */
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

/** Resolves with the arguments of the signaller's next `event` that passes `filter`. */
export function nextEvent<E extends keyof SignallerEvents & string>(
  source: Pick<Signaller, 'on'>,
  event: E,
  filter: (...args: Parameters<SignallerEvents[E]>) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Parameters<SignallerEvents[E]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event ${event}`));
    }, timeoutMs);
    const off = source.on(event, ((...args: Parameters<SignallerEvents[E]>) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    }) as SignallerEvents[E]);
  });
}

/** Resolves after `ms`; only for proving that something does *not* happen within a window. */
export function quietFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

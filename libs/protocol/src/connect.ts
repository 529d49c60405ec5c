/**
 * The connector kit: every client half opens its pipe through {@link openWithin}, so opening
 * settles once, gives up after a timeout with a `ConnectTimeoutError`, and an aborted signal
 * rejects with `signal.reason` (an `AbortError` `DOMException` unless the caller gave another).
 */
import { systemClock, type Clock } from './clock.ts';
import { ConnectTimeoutError } from './errors.ts';

/** How long and how interruptibly one opening may run. */
export interface OpenLimits {
  /** What is being opened, for error messages (a URL, `data channel switchyard`). */
  readonly target: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** @default systemClock */
  readonly clock?: Clock;
}

/** The opener's side of one attempt. Calls after the first settlement are ignored. */
export interface OpenAttempt<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  /** True once the attempt settled: late events of a half-open connection should be ignored. */
  readonly settled: boolean;
}

/**
 * Runs `open` under `limits`. `open` starts connecting and may return a teardown, which runs
 * when the attempt fails (timeout, abort or `reject`) so no half-open connection outlives it.
 */
export function openWithin<T>(
  limits: OpenLimits,
  open: (attempt: OpenAttempt<T>) => (() => void) | void,
): Promise<T> {
  const { signal } = limits;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const clock = limits.clock ?? systemClock;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let failed = false;
    let teardown: (() => void) | void = undefined;
    const finish = () => {
      settled = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      if (settled) return;
      finish();
      failed = true;
      try {
        teardown?.();
      } finally {
        reject(error);
      }
    };
    const onAbort = () => fail(signal!.reason as Error);
    const timer = clock.setTimeout(
      () => fail(new ConnectTimeoutError(limits.target, limits.timeoutMs)),
      limits.timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    const attempt: OpenAttempt<T> = {
      resolve(value) {
        if (settled) return;
        finish();
        resolve(value);
      },
      reject: fail,
      get settled() {
        return settled;
      },
    };
    try {
      teardown = open(attempt);
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
    // open() may have failed synchronously, before it returned its teardown
    if (failed && teardown) teardown();
  });
}

/** A single pending callback on an injected `Clock`: the announce debounce and the reconnect delay. */
import type { Clock } from '@switchyard/protocol';

/** At most one pending callback; `start` replaces the one already pending. */
export interface OneShotTimer {
  /** True from `start` until the callback runs or `cancel` is called. */
  readonly pending: boolean;
  start(ms: number, callback: () => void): void;
  cancel(): void;
}

/** Creates a timer on `clock`. */
export function createOneShotTimer(clock: Clock): OneShotTimer {
  // a Clock's handle is opaque (a number, an object, even undefined), so pending is tracked apart
  let pending = false;
  let handle: unknown;
  const cancel = () => {
    if (pending) clock.clearTimeout(handle);
    pending = false;
  };
  return {
    get pending() {
      return pending;
    },
    start(ms, callback) {
      cancel();
      pending = true;
      handle = clock.setTimeout(() => {
        pending = false;
        callback();
      }, ms);
    },
    cancel,
  };
}

/**
 * Liveness probes (`Pipe.isAlive`) for every transport. A probe settles once: alive on the
 * first evidence, dead at its deadline, and "dead" waits one more task after the deadline.
 * Why: when the server's own work stalled the loop past the deadline, evidence that arrived
 * meanwhile (a pong on the wire) is handled only after the expired timer; deciding at once
 * would let a busy server evict a live holder (docs/protocol.md §4.3).
 */
import { systemClock, type Clock } from './clock.ts';

/**
 * Runs `start`, which sends the probe and reports evidence through `settle`; it may return a
 * teardown (remove listeners), which runs once the probe settled.
 */
export function probeWithin(
  timeoutMs: number,
  start: (settle: (alive: boolean) => void) => (() => void) | void,
  clock: Clock = systemClock,
): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    let teardown: (() => void) | void = undefined;
    const settle = (alive: boolean) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      teardown?.();
      resolve(alive);
    };
    const timer = clock.setTimeout(() => clock.setTimeout(() => settle(false), 0), timeoutMs);
    teardown = start(settle);
    if (settled) teardown?.();
  });
}

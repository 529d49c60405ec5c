/** A clock that only moves when told to, for the hub, the signaller and anything else on `Clock`. */
import type { Clock } from '@switchyard/protocol';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** Fake time: `advance(ms)` fires due timers in time order (ties in the order they were set). */
export class ManualClock implements Clock {
  private time: number;

  /** `start`: the time it begins at, in ms since the epoch (JWT tests need real dates). */
  constructor(start = 0) {
    this.time = start;
  }
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), seq: id, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: [number, Timer] | undefined;
      for (const entry of this.timers) {
        const timer = entry[1];
        if (timer.at > end) continue;
        if (!due || timer.at < due[1].at || (timer.at === due[1].at && timer.seq < due[1].seq))
          due = entry;
      }
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }

  /**
   * Like `advance`, but lets promise callbacks run after every timer, so async work a timer
   * starts (a reconnect awaiting its connector) completes before the next one is due.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flushMicrotasks();
      let next = Infinity;
      for (const timer of this.timers.values()) next = Math.min(next, timer.at);
      if (next > end) break;
      this.advance(next - this.time);
    }
    this.time = end;
    await flushMicrotasks();
  }
}

/** Lets already-queued promise callbacks, and those they queue in turn, run. */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

/** Synchronous test pipes and a manual clock for hub unit tests. */
import { definePipe, type ConnectionContext } from '@switchyard/protocol';
import type { Clock } from './clock.ts';
import type { Hub } from './hub.ts';

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private time = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

/** Lets pending promise callbacks (async announce steps) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

export interface TestPeer {
  /** Every message the hub sent to this peer. */
  readonly sent: string[];
  /** Messages received since the last `take()`. */
  take(): string[];
  say(message: string): void;
  /** The far end vanishes (hard disconnect). */
  drop(): void;
  closedWith?: number;
  alive: boolean;
  buffered: number;
}

/** Connects a synchronous pipe to the hub. */
export function connect(
  hub: Hub,
  context: Partial<ConnectionContext> = {},
  withLiveness = true,
): TestPeer {
  let cursor = 0;
  const peer: TestPeer = {
    sent: [],
    take() {
      const fresh = peer.sent.slice(cursor);
      cursor = peer.sent.length;
      return fresh;
    },
    say: (message) => handle.receive(message),
    drop: () => handle.closed({ local: false, code: 1006 }),
    alive: true,
    buffered: 0,
  };
  const handle = definePipe('test', {
    send: (message) => void peer.sent.push(message),
    close(code) {
      peer.closedWith = code;
      handle.closed({ local: true, ...(code !== undefined && { code }) });
    },
    bufferedAmount: () => peer.buffered,
    ...(withLiveness && { isAlive: async () => peer.alive }),
  });
  hub.accept(handle.pipe, context);
  return peer;
}

/** Connects and announces `id` into `room`; returns the peer with its inbox emptied. */
export async function join(
  hub: Hub,
  id: string,
  room: string,
  dialect: 'bare' | 'json' = 'bare',
): Promise<TestPeer> {
  const peer = connect(hub);
  const sender = dialect === 'bare' ? id : JSON.stringify({ id });
  peer.say(`/announce|${sender}|${JSON.stringify({ id, room })}`);
  await settle();
  peer.take();
  return peer;
}

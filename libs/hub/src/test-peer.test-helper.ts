/** Synchronous test pipes for hub unit tests: what the hub sent each peer, in an inbox. */
import { CloseCode, definePipe, type ConnectionContext } from '@switchyard/protocol';
import { inbox, type Inbox } from '@switchyard/test-kit';
import type { Hub } from './hub.ts';

export interface TestPeer {
  /** Every message the hub sent to this peer; `take()` returns those since the last take. */
  readonly inbox: Inbox<string>;
  take(): string[];
  say(message: string): void;
  /** Input the transport could not read (a binary frame). */
  sayUnreadable(what?: string): void;
  /** The far end vanishes (hard disconnect). */
  drop(): void;
  closedWith?: number;
  alive: boolean;
  /** Liveness probes the hub sent this peer. */
  probes: number;
  buffered: number;
}

/** Connects a synchronous pipe to the hub. */
export function connect(
  hub: Hub,
  context: Partial<ConnectionContext> = {},
  withLiveness = true,
): TestPeer {
  const received = inbox<string>('a message from the hub');
  const peer: TestPeer = {
    inbox: received,
    take: () => received.take(),
    say: (message) => handle.receive(message),
    sayUnreadable: (what = 'binary frames') => handle.unreadable(what),
    drop: () => handle.closed({ local: false, code: CloseCode.abnormal }),
    alive: true,
    probes: 0,
    buffered: 0,
  };
  const handle = definePipe('test', {
    send: (message) => received.push(message),
    close(code) {
      peer.closedWith = code;
      handle.closed({ local: true, ...(code !== undefined && { code }) });
    },
    bufferedAmount: () => peer.buffered,
    ...(withLiveness && {
      isAlive: async () => {
        peer.probes += 1;
        return peer.alive;
      },
    }),
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
  await hub.idle();
  peer.take();
  return peer;
}

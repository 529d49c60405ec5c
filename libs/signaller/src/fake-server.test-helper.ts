/** A connector whose far end the test holds, and a signaller connected to it on a manual clock. */
import { definePipe, type Connector, type PipeHandle } from '@switchyard/protocol';
import { flushMicrotasks, ManualClock } from '@switchyard/test-kit';
import { createSignaller } from './signaller.ts';
import type { Signaller, SignallerOptions, SignallerServices } from './types.ts';

/** The far end of the signaller's connector: `sent` is what the signaller wrote. */
export function fakeServer() {
  const server = {
    sent: [] as string[],
    /** Calls of the connector, refused or not. */
    attempts: 0,
    /** Pipes opened. */
    connections: 0,
    handle: undefined as PipeHandle | undefined,
    /** `true` refuses with `Error('connection refused')`; an error instance is rejected as is. */
    refuse: false as boolean | Error,
    /** Opening hangs until the signaller aborts it. */
    hang: false,
    /** The signal of every connector call. */
    signals: [] as (AbortSignal | undefined)[],
    connector: (async ({ signal }) => {
      server.attempts += 1;
      server.signals.push(signal);
      if (server.refuse instanceof Error) throw server.refuse;
      if (server.refuse) throw new Error('connection refused');
      if (server.hang) {
        await new Promise((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason as Error)),
        );
      }
      server.connections += 1;
      const handle = definePipe('fake', {
        send: (message) => void server.sent.push(message),
        close: (code) =>
          queueMicrotask(() => handle.closed({ local: true, ...(code !== undefined && { code }) })),
      });
      server.handle = handle;
      return handle.pipe;
    }) as Connector,
    /** Delivers a frame to the signaller. */
    push: (message: string) => server.handle!.receive(message),
    /** The far end goes away. */
    drop: (code = 1006, reason?: string) =>
      server.handle!.closed({ local: false, code, ...(reason !== undefined && { reason }) }),
    take() {
      return server.sent.splice(0);
    },
  };
  return server;
}

const live: Signaller[] = [];

/** Leaves every signaller the helpers created; run it after each test. */
export function leaveAll(): void {
  live.splice(0).forEach((signaller) => signaller.leave());
}

/** Remembers `signaller` for {@link leaveAll}. */
export function track<S extends Signaller>(signaller: S): S {
  live.push(signaller);
  return signaller;
}

/**
 * A signaller with id `ME`, the bare dialect and a 5 ms reconnect delay on a `ManualClock`,
 * connected to a fake server once its connector's promise has settled.
 */
export async function connected(options: SignallerOptions = {}, services: SignallerServices = {}) {
  const server = fakeServer();
  const clock = new ManualClock();
  const signaller = track(
    createSignaller(
      server.connector,
      { id: 'ME', metadata: 'bare', reconnectDelay: () => 5, ...options },
      { clock, ...services },
    ),
  );
  await flushMicrotasks();
  return { server, signaller, clock };
}

/** Loads the original `rtc-signaller-socket.io@2.3.0` client (CommonJS, 2016) into a test. */
import { createRequire } from 'node:module';
import type { Socket } from 'socket.io-client';
import { inbox, type Inbox } from '@switchyard/testing';

/** The parts of an original socket.io signaller (an `mbus` event bus) the tests use. */
export interface OriginalSignaller {
  id: string;
  announce(data?: Record<string, unknown>): void;
  send(...args: unknown[]): void;
  to(id: string): { send(...args: unknown[]): void };
  leave(): void;
  on(event: string, handler: (...args: unknown[]) => void): void;
}

const require = createRequire(import.meta.url);

/**
 * Creates an original client on `socket`, exactly as its README does:
 * `require('rtc-signaller-socket.io')(io(url))`.
 */
export function originalSignaller(socket: Socket): OriginalSignaller {
  // rtc-core reads a global navigator at load time; Node 20 has none (docs/conformance.md Appendix B)
  const scope = globalThis as { navigator?: unknown };
  if (!('navigator' in scope)) scope.navigator = undefined;
  const create = require('rtc-signaller-socket.io') as (socket: Socket) => OriginalSignaller;
  return create(socket);
}

/** Records an original signaller's `event`: the arguments of each call, in an inbox. */
export function recorder(signaller: OriginalSignaller, event: string): Inbox<unknown[]> {
  const calls = inbox<unknown[]>(`original ${event}`);
  signaller.on(event, (...args) => calls.push(args));
  return calls;
}

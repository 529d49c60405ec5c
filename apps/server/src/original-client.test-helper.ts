/** Loads the original rtc.io client packages (CommonJS, 2016) into a test. */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

/** The parts of an original rtc-signaller 6.x instance the tests use. */
export interface OriginalSignaller extends EventEmitter {
  id: string;
  announce(data?: Record<string, unknown>): void;
  send(...args: unknown[]): void;
  to(id: string): { send(...args: unknown[]): void };
  leave(): void;
  peers: { get(id: string): unknown; keys(): IterableIterator<string> };
}

const require = createRequire(import.meta.url);

/** Creates an original client that connects through rtc-switchboard-messenger to `url`. */
export function originalSignaller(
  url: string,
  options: Record<string, unknown> = {},
): OriginalSignaller {
  // rtc-core reads a global navigator at load time; Node 20 has none (reference Appendix B)
  const scope = globalThis as { navigator?: unknown };
  if (!('navigator' in scope)) scope.navigator = undefined;
  const signaller = require('rtc-signaller') as (
    messenger: unknown,
    opts: unknown,
  ) => OriginalSignaller;
  const messenger = require('rtc-switchboard-messenger') as (url: string) => unknown;
  return signaller(messenger(url), { reconnect: false, ...options });
}

/**
 * Rate admission (docs/protocol.md §4.2 step 3): each message takes from the connection's token
 * buckets; a refused one is answered with `/error rate-limited` at most once a second, and a
 * sustained flood closes the connection with 4008.
 */
import { CloseCode } from '@switchyard/protocol';
import type { HubCore } from './core.ts';
import type { Connection } from './model.ts';

/** Whether the connection may send a message of `size` characters now. */
export function admitRate(core: HubCore, connection: Connection, size = 0): boolean {
  const { clock, log } = core.services;
  const { counters } = core;
  const now = clock.now();
  const limiter = connection.limiter!;
  const verdict = limiter.take(now, size);
  if (verdict === 'ok') return true;
  counters.rateLimited += 1;
  if (verdict === 'abusive') {
    counters.abusive += 1;
    log('warn', 'closing abusive connection', {
      id: connection.id,
      transport: connection.context.transport,
    });
    connection.pipe.close(CloseCode.policyViolation, 'rate limit exceeded');
    return false;
  }
  rateError(core, connection, now, 'too many messages', () => limiter.retryAfterMs(now));
  return false;
}

/** `/error rate-limited`, at most once a second per connection, whatever the reason. */
export function rateError(
  core: HubCore,
  connection: Connection,
  now: number,
  message: string,
  retryAfterMs: () => number,
): void {
  if (now - connection.lastRateErrorAt < 1000) return;
  connection.lastRateErrorAt = now;
  core.outbound.error(connection, 'rate-limited', message, { retryAfterMs: retryAfterMs() });
}

/**
 * Every connection must announce in time (docs/protocol.md §4.1): one that stays without a room
 * for `announceTimeoutMs` (after connecting, or after its `/leave`) gets `/error not-announced`
 * and is closed with 4008, so idle sockets cannot pile up. An announce still waiting for the auth
 * hook or a liveness probe counts as on time.
 */
import { CloseCode, type Clock } from '@switchyard/protocol';
import type { Connection } from './model.ts';
import type { Outbound } from './outbound.ts';
import type { HubCounters } from './stats.ts';

/** The announce deadline of every connection. */
export class AnnounceDeadline {
  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly outbound: Outbound,
    private readonly counters: HubCounters,
  ) {}

  /** Starts the connection's deadline (again). */
  arm(connection: Connection): void {
    if (this.timeoutMs <= 0) return;
    this.disarm(connection);
    connection.announceTimer = this.clock.setTimeout(() => this.expire(connection), this.timeoutMs);
  }

  /** The connection announced or closed. */
  disarm(connection: Connection): void {
    if (connection.announceTimer === undefined) return;
    this.clock.clearTimeout(connection.announceTimer);
    connection.announceTimer = undefined;
  }

  private expire(connection: Connection): void {
    connection.announceTimer = undefined;
    if (connection.state !== 'idle') return;
    if (connection.backlog) return this.arm(connection); // its announce is still being decided
    this.counters.announceTimeout += 1;
    const seconds = this.timeoutMs / 1000;
    this.outbound.error(connection, 'not-announced', `no announce within ${seconds} s`);
    connection.pipe.close(CloseCode.policyViolation, 'no announce in time');
  }
}

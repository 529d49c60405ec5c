/** The hub's counters and the `stats()` snapshot operators read (the server's /metrics, /healthz). */
import type { ErrorCode } from '@switchyard/protocol';

/** Counters and gauges, cheap to read at any time. */
export interface HubStats {
  readonly connections: number;
  readonly members: number;
  readonly rooms: number;
  /** Members inside their grace window (disconnected, not yet gone). */
  readonly inGrace: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly errorsSent: Readonly<Partial<Record<ErrorCode, number>>>;
  readonly dropped: {
    readonly rateLimited: number;
    /** Messages for a member in its grace window that did not fit its queue. */
    readonly pendingOverflow: number;
    /** Messages still queued for a member when its grace window ended. */
    readonly graceExpired: number;
    /** Messages past the backlog of a connection whose announce was pending. */
    readonly backlogOverflow: number;
  };
  readonly closed: {
    readonly abusive: number;
    readonly slowConsumer: number;
    readonly idTaken: number;
    /** Connections that did not announce within `announceTimeoutMs`. */
    readonly announceTimeout: number;
    /** Connections whose token expired before a re-announce brought a fresh one (4001). */
    readonly tokenExpired: number;
  };
}

/** The gauges a snapshot reads from the registries. */
export interface HubGauges {
  readonly connections: number;
  readonly members: number;
  readonly rooms: number;
  readonly inGrace: number;
}

/** Monotonic totals, as plain fields: the hot path increments them. */
export class HubCounters {
  messagesIn = 0;
  messagesOut = 0;
  rateLimited = 0;
  pendingOverflow = 0;
  graceExpired = 0;
  backlogOverflow = 0;
  abusive = 0;
  slowConsumer = 0;
  idTaken = 0;
  announceTimeout = 0;
  tokenExpired = 0;
  private readonly errorsSent: Partial<Record<ErrorCode, number>> = {};

  countError(code: ErrorCode): void {
    this.errorsSent[code] = (this.errorsSent[code] ?? 0) + 1;
  }

  snapshot(gauges: HubGauges): HubStats {
    return {
      ...gauges,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      errorsSent: { ...this.errorsSent },
      dropped: {
        rateLimited: this.rateLimited,
        pendingOverflow: this.pendingOverflow,
        graceExpired: this.graceExpired,
        backlogOverflow: this.backlogOverflow,
      },
      closed: {
        abusive: this.abusive,
        slowConsumer: this.slowConsumer,
        idTaken: this.idTaken,
        announceTimeout: this.announceTimeout,
        tokenExpired: this.tokenExpired,
      },
    };
  }
}

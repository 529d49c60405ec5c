/**
 * Everything the hub sends goes through here: one place counts it, checks the recipient's
 * buffer (a slow consumer is closed, not buffered without bound), and queues frames for members
 * inside their grace window.
 */
import {
  CloseCode,
  errorMessage,
  type ErrorCode,
  type ErrorDetails,
  type Logger,
} from '@switchyard/protocol';
import type { Frame } from './frame.ts';
import type { Connection, Member, Room } from './model.ts';
import type { HubCounters } from './stats.ts';

/** The limits outbound traffic obeys. */
export interface OutboundLimits {
  readonly highWaterMark: number;
  readonly pendingLimit: number;
  readonly pendingBytes: number;
}

/** Sends, delivers and broadcasts. */
export class Outbound {
  constructor(
    private readonly counters: HubCounters,
    private readonly limits: OutboundLimits,
    private readonly log: Logger,
  ) {}

  /**
   * Sends text to one connection; a recipient over the high-water mark is closed (4008). False
   * when the pipe refused it (it is closing).
   */
  send(connection: Connection, text: string): boolean {
    if (connection.state === 'closed') return false;
    const pipe = connection.pipe;
    try {
      pipe.send(text);
    } catch {
      return false; // the pipe closed under us; its close handler does the bookkeeping
    }
    this.counters.messagesOut += 1;
    if (pipe.bufferedAmount > this.limits.highWaterMark) {
      this.counters.slowConsumer += 1;
      this.log('warn', 'closing slow consumer', {
        id: connection.id,
        buffered: pipe.bufferedAmount,
      });
      pipe.close(CloseCode.policyViolation, 'slow consumer');
    }
    return true;
  }

  /** Sends an `/error` (docs/protocol.md §3) and counts it by code. */
  error(connection: Connection, code: ErrorCode, message: string, details?: ErrorDetails): void {
    this.counters.countError(code);
    this.send(connection, errorMessage(code, message, details));
  }

  /**
   * Delivers to a member now, or queues it while the member is inside its grace window, or
   * while its pipe is closing (a drain, docs/cluster.md): the grace window that follows the
   * close delivers it to the member's next connection.
   */
  deliver(member: Member, frame: Frame): void {
    const connection = member.connection;
    if (connection && this.send(connection, frame.in(connection.dialect ?? 'bare'))) return;
    if (connection && member.connection !== connection) return;
    if (
      member.pending.length < this.limits.pendingLimit &&
      member.pendingChars + frame.text.length <= this.limits.pendingBytes
    ) {
      member.pending.push(frame);
      member.pendingChars += frame.text.length;
    } else this.counters.pendingOverflow += 1;
  }

  /** Delivers to every member of `room` but `except`; each dialect is encoded once. */
  broadcast(room: Room, except: Member | undefined, frame: Frame): void {
    for (const member of room.members) if (member !== except) this.deliver(member, frame);
  }

  /** Sends what waited for a member during its grace window, in order. */
  flushPending(member: Member, connection: Connection): void {
    const pending = member.pending;
    member.pending = [];
    member.pendingChars = 0;
    for (const frame of pending) this.send(connection, frame.in(connection.dialect ?? 'bare'));
  }
}

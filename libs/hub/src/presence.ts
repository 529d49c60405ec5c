/**
 * Presence (docs/protocol.md §4.4): a member whose connection closed without `/leave` stays in
 * its room for the grace window, with its messages queued; if the id does not come back in time
 * the room gets `/leave`. Also the one place a membership ends.
 */
import type { Clock, Logger } from '@switchyard/protocol';
import type { AnnounceDeadline } from './announce-deadline.ts';
import type { Identity } from './identity.ts';
import type { Member } from './model.ts';
import type { LeaveReason } from './options.ts';
import type { Rooms } from './rooms.ts';
import type { HubCounters } from './stats.ts';

/** Grace windows and the end of memberships. */
export class Presence {
  constructor(
    private readonly clock: Clock,
    private readonly graceMs: number,
    private readonly identity: Identity,
    private readonly rooms: Rooms,
    private readonly counters: HubCounters,
    private readonly log: Logger,
    private readonly deadline: AnnounceDeadline,
  ) {}

  /** The member lost its connection: start its grace window (or end it at once with 0). */
  disconnected(member: Member): void {
    member.connection = undefined;
    if (this.graceMs <= 0) return this.forget(member, 'disconnect', true);
    this.log('debug', 'member in grace window', { id: member.id, graceMs: this.graceMs });
    this.identity.graced(member);
    member.graceTimer = this.clock.setTimeout(() => {
      member.graceTimer = undefined;
      this.forget(member, 'disconnect', true);
    }, this.graceMs);
  }

  /** The id came back on a connection: the grace window ends without `/leave`. */
  resumed(member: Member): void {
    this.stopGrace(member);
  }

  /** Members inside their grace window. */
  inGrace(): number {
    let count = 0;
    for (const member of this.identity.members()) if (!member.connection) count += 1;
    return count;
  }

  /** Ends a membership: the id is released, the room left (with `/leave` if asked). */
  forget(member: Member, reason: LeaveReason, announceLeave: boolean): void {
    this.stopGrace(member);
    this.identity.release(member);
    this.rooms.leave(member, reason, announceLeave);
    this.counters.graceExpired += member.pending.length;
    member.pending = [];
    member.pendingChars = 0;
    const connection = member.connection;
    member.connection = undefined;
    if (connection && connection.member === member) {
      connection.member = undefined;
      if (connection.state === 'member') {
        connection.state = 'idle';
        this.deadline.arm(connection);
      }
    }
  }

  private stopGrace(member: Member): void {
    if (member.graceTimer !== undefined) this.clock.clearTimeout(member.graceTimer);
    member.graceTimer = undefined;
  }
}

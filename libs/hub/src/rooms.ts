/**
 * The room registry: rooms by name, each a set of members in join order. A room exists while it
 * has members; creating and destroying one, and members joining and leaving, are operator events.
 */
import type { Emitter } from '@switchyard/protocol';
import { Frame } from './frame.ts';
import type { Member, Room } from './model.ts';
import type { HubEvents, LeaveReason, PeerEvent } from './options.ts';
import type { Outbound } from './outbound.ts';

/** A member as operator events report it. */
export function peerEvent(member: Member): PeerEvent {
  return {
    id: member.id,
    room: member.room.name,
    transport: member.transport,
    ...(member.link !== undefined && { link: member.link }),
    ...(member.principal !== undefined && { principal: member.principal }),
  };
}

/** Rooms by name. */
export class Rooms {
  private readonly byName = new Map<string, Room>();

  constructor(
    private readonly events: Emitter<HubEvents>,
    private readonly outbound: Outbound,
  ) {}

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Room | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): IterableIterator<Room> {
    return this.byName.values();
  }

  /** Puts `member` into the room `name` (creating it); false when it was in it already. */
  join(member: Member, name: string): boolean {
    let room = this.byName.get(name);
    if (!room) {
      room = { name, members: new Set() };
      this.byName.set(name, room);
      this.events.emit('room:created', name);
    }
    member.room = room;
    const joined = !room.members.has(member);
    room.members.delete(member); // a re-announce moves the member to the end, like the original
    room.members.add(member);
    if (joined) this.events.emit('peer:joined', peerEvent(member));
    return joined;
  }

  /** Takes a member out of its room; with `announceLeave` the others get `/leave`. */
  leave(member: Member, reason: LeaveReason, announceLeave: boolean): void {
    const room = member.room;
    if (!room.members.delete(member)) return;
    this.events.emit('peer:left', { ...peerEvent(member), reason });
    if (announceLeave)
      this.outbound.broadcast(room, member, Frame.leave(member.id, member.stamp, reason));
    if (room.members.size === 0) {
      this.byName.delete(room.name);
      this.events.emit('room:destroyed', room.name);
    }
  }
}

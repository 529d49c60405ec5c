/**
 * A bounded picture of the hub's rooms for operators (the server's status page): the largest
 * rooms, their members with transport and state. Reading it costs O(rooms × limit) at worst and
 * never copies a whole large room.
 */
import type { Member, Room } from './model.ts';

/** A member as an operator sees it. */
export interface MemberSnapshot {
  readonly id: string;
  readonly transport: string;
  /** `grace`: disconnected, inside its grace window (docs/protocol.md §4.4). */
  readonly state: 'connected' | 'grace';
}

/** A room and the first `maxMembers` of its members, in join order. */
export interface RoomSnapshot {
  readonly name: string;
  readonly size: number;
  readonly members: readonly MemberSnapshot[];
  /** Members per transport, over the whole room. */
  readonly transports: Readonly<Record<string, number>>;
}

/** The largest rooms, largest first. */
export interface HubSnapshot {
  readonly rooms: readonly RoomSnapshot[];
  /** Rooms left out by `maxRooms`. */
  readonly moreRooms: number;
}

/** How much of the hub a snapshot holds. */
export interface SnapshotLimits {
  /** @default 50 */
  readonly maxRooms?: number;
  /** Members listed per room (counts cover them all). @default 50 */
  readonly maxMembers?: number;
}

/** The largest `maxRooms` rooms of `rooms`, largest first; ties keep creation order. */
export function snapshotRooms(rooms: Iterable<Room>, limits: SnapshotLimits = {}): HubSnapshot {
  const maxRooms = limits.maxRooms ?? 50;
  const maxMembers = limits.maxMembers ?? 50;
  const largest: Room[] = [];
  let total = 0;
  for (const room of rooms) {
    total++;
    if (maxRooms <= 0) continue;
    if (largest.length === maxRooms && room.members.size <= largest.at(-1)!.members.size) continue;
    let at = largest.length;
    while (at > 0 && largest[at - 1]!.members.size < room.members.size) at--;
    largest.splice(at, 0, room);
    if (largest.length > maxRooms) largest.pop();
  }
  return {
    rooms: largest.map((room) => roomSnapshot(room, maxMembers)),
    moreRooms: total - largest.length,
  };
}

function roomSnapshot(room: Room, maxMembers: number): RoomSnapshot {
  const members: MemberSnapshot[] = [];
  const transports: Record<string, number> = {};
  for (const member of room.members) {
    transports[member.transport] = (transports[member.transport] ?? 0) + 1;
    if (members.length < maxMembers) members.push(memberSnapshot(member));
  }
  return { name: room.name, size: room.members.size, members, transports };
}

function memberSnapshot(member: Member): MemberSnapshot {
  return {
    id: member.id,
    transport: member.transport,
    state: member.connection ? 'connected' : 'grace',
  };
}

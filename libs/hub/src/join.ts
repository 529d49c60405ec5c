/**
 * Joining a room (docs/protocol.md §4.2 step 4, after validation): the id may not change,
 * credentials are checked, a full room refuses, the id is claimed (§4.3); then the commit binds
 * the id, moves or joins the room, sends `/roominfo` and what waited, and relays the announce.
 */
import { CloseCode, roomInfoMessage, stringifyJson } from '@switchyard/protocol';
import type { Announce } from './announce.ts';
import type { HubCore } from './core.ts';
import { Frame } from './frame.ts';
import type { Connection, Member } from './model.ts';

/** Runs a validated announce; every refusal is an `/error` to the announcer. */
export async function join(core: HubCore, connection: Connection, announce: Announce) {
  const { outbound } = core;
  if (connection.id !== undefined && connection.id !== announce.id) {
    return outbound.error(
      connection,
      'sender-mismatch',
      `this connection speaks as ${stringifyJson(connection.id)}`,
    );
  }
  const credentials = core.credentials;
  if (credentials) {
    const admitted = await credentials.announce(connection, announce);
    if (!admitted || connection.state === 'closed') return;
    // a token in the announce's own sender field must name the principal too
    if (announce.senderToken !== undefined) {
      if (!(await credentials.message(connection, announce.senderToken))) return;
    }
  }
  const authenticate = core.services.authenticate;
  if (authenticate) {
    const result = await authenticate({
      context: connection.context,
      ...(announce.token !== undefined && { token: announce.token }),
      id: announce.id,
      room: announce.room,
      attributes: announce.attributes,
    });
    if (connection.state === 'closed') return;
    if (!result.ok) {
      const unauthorized = result.code === 'unauthorized';
      outbound.error(
        connection,
        result.code,
        result.message ?? (unauthorized ? 'invalid credentials' : 'not allowed in this room'),
      );
      if (unauthorized) connection.pipe.close(CloseCode.unauthorized, 'unauthorized');
      return;
    }
    connection.principal = result.principal;
  }

  const target = core.rooms.get(announce.room);
  const known = connection.member ?? core.identity.get(announce.id);
  const { maxRoomSize } = core.options;
  if (target && known?.room !== target && target.members.size >= maxRoomSize) {
    return outbound.error(connection, 'room-full', `room ${stringifyJson(announce.room)} is full`, {
      maxRoomSize,
    });
  }
  await core.identity.claim(connection, announce.id, (member) => {
    if (connection.state !== 'closed') commit(core, connection, member, announce);
  });
}

/** Nothing here can fail: everything that could was checked before. */
function commit(core: HubCore, connection: Connection, member: Member, announce: Announce): void {
  const { outbound, rooms } = core;
  // a cluster re-linking a member whose room moved to this hub: the room must not notice
  const silent =
    connection.context.rejoin === true &&
    member.connection === undefined &&
    member.room.name === announce.room;
  connection.dialect ??= announce.dialect;
  core.identity.bind(connection, member);
  core.deadline.disarm(connection);
  core.presence.resumed(member);
  if (member.room.name !== announce.room) rooms.leave(member, 'moved', true);
  rooms.join(member, announce.room);
  if (silent) return outbound.flushPending(member, connection);
  const memberCount = member.room.members.size;
  outbound.send(connection, roomInfoMessage({ ...core.options.roomInfo, memberCount }));
  outbound.flushPending(member, connection);
  const relayed = new Frame(announce.relayText, announce.relayHeader, member.stamp);
  outbound.broadcast(member.room, member, relayed);
}

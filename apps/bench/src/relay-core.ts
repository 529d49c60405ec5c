/**
 * The baselines' routing: the least logic that serves the protocol's room broadcasts and directed
 * messages. No validation, no stamping, no limits, no presence. `raw-relay.ts` puts it behind
 * `ws`, `raw-sse-relay.ts` behind SSE + POST; each benchmark runs one of them beside Switchyard
 * on the same transport in the same invocation, so results are ratios on the same machine and load.
 *
 * With a Redis URL it is the floor of a cross-process hop (docs/benchmarks.md, "Cluster"): each
 * process subscribes to a channel of its own and to a channel per room it has members in; a `/to`
 * for a peer elsewhere is one `PUBLISH` to that peer's process (found once in a Redis hash), a
 * broadcast one `PUBLISH` to the room. Nothing is batched, leased, ordered across a blip or
 * bounded: what Switchyard's cluster does on top of the same hop.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** A connection, as the relay sees it: a way to send it one frame. */
export interface RelayPeer {
  readonly send: (message: string) => void;
  id?: string;
  roomName?: string;
}

/** The relay's routing: feed it each client frame and each close. */
export interface RelayCore {
  receive(peer: RelayPeer, message: string): void;
  closed(peer: RelayPeer): void;
  /** Resolves once the Redis hop (if any) is connected: listen only then, or the first frames miss it. */
  readonly ready: Promise<unknown>;
}

export function createRelayCore(redisUrl?: string): RelayCore {
  const rooms = new Map<string, Set<RelayPeer>>();
  const ids = new Map<string, RelayPeer>();
  const bus = redisUrl === undefined ? undefined : openBus(redisUrl);

  function receive(peer: RelayPeer, message: string): void {
    const first = message.indexOf('|');
    const command = first === -1 ? message : message.slice(0, first);
    if (command === '/announce') {
      const payload = message.slice(message.indexOf('|', first + 1) + 1);
      const attributes = JSON.parse(payload) as { id: string; room: string };
      leaveRoom(peer);
      peer.id = String(attributes.id);
      peer.roomName = attributes.room;
      let room = rooms.get(peer.roomName);
      if (!room) rooms.set(peer.roomName, (room = new Set()));
      room.add(peer);
      ids.set(peer.id, peer);
      bus?.joined(peer.id, peer.roomName);
      peer.send(`/roominfo|{"memberCount":${room.size}}`);
      broadcast(peer, message);
      return;
    }
    if (peer.roomName === undefined) return;
    if (command === '/to') {
      const id = message.slice(first + 1, message.indexOf('|', first + 1));
      const target = ids.get(id);
      if (target) {
        if (target.roomName === peer.roomName) target.send(message);
      } else bus?.to(id, message);
      return;
    }
    broadcast(peer, message);
    if (command === '/leave') leaveRoom(peer);
  }

  function closed(peer: RelayPeer): void {
    leaveRoom(peer);
    if (peer.id !== undefined && ids.get(peer.id) === peer) ids.delete(peer.id);
  }

  function broadcast(from: RelayPeer, message: string): void {
    for (const member of rooms.get(from.roomName!) ?? []) if (member !== from) member.send(message);
    bus?.room(from.roomName!, message);
  }

  function leaveRoom(peer: RelayPeer): void {
    if (peer.roomName === undefined) return;
    const room = rooms.get(peer.roomName);
    room?.delete(peer);
    if (room?.size === 0) rooms.delete(peer.roomName);
    peer.roomName = undefined;
  }

  /** The Redis hop: `raw:<process>` for directed frames, `raw:room:<room>` for broadcasts. */
  function openBus(url: string) {
    const self = randomUUID().slice(0, 8);
    const publisher = new Redis(url);
    const subscriber = publisher.duplicate();
    /** Which process holds an id: asked once, then cached; frames wait behind the question. */
    const where = new Map<string, string | Promise<string | null>>();
    subscriber.on('message', (channel: string, data: string) => {
      if (channel === `raw:${self}`) {
        // `/to|<id>|…`: the receiver is here
        const id = data.slice(4, data.indexOf('|', 4));
        ids.get(id)?.send(data);
        return;
      }
      // `<process>|<frame>` on a room channel: this process's own broadcast was delivered already
      const bar = data.indexOf('|');
      if (data.slice(0, bar) === self) return;
      const frame = data.slice(bar + 1);
      for (const member of rooms.get(channel.slice('raw:room:'.length)) ?? []) member.send(frame);
    });
    return {
      // an id announced before the publisher connects is missing from the hash for others
      ready: Promise.all([subscriber.subscribe(`raw:${self}`), publisher.ping()]),
      joined(id: string, room: string) {
        where.delete(id);
        void publisher.hset('raw:ids', id, self);
        if (rooms.get(room)?.size === 1) void subscriber.subscribe(`raw:room:${room}`);
      },
      to(id: string, frame: string) {
        const known = where.get(id);
        if (typeof known === 'string') return void publisher.publish(`raw:${known}`, frame);
        const lookup = known ?? publisher.hget('raw:ids', id);
        where.set(id, lookup);
        void lookup.then((node) => {
          if (node === null) return void where.delete(id);
          where.set(id, node);
          void publisher.publish(`raw:${node}`, frame);
        });
      },
      room(room: string, frame: string) {
        void publisher.publish(`raw:room:${room}`, `${self}|${frame}`);
      },
    };
  }

  return { receive, closed, ready: bus?.ready ?? Promise.resolve() };
}

/**
 * The hub: PROTOCOL §4 over any set of pipes. Routing reads only the header; payloads pass
 * through as text. Only `/announce` is parsed.
 */
import {
  CloseCode,
  createEmitter,
  errorMessage,
  fitsInBytes,
  idToString,
  isValidId,
  leaveMessage,
  LIMITS,
  parseHeader,
  payloadOf,
  readSender,
  replaceSender,
  roomInfoMessage,
  senderField,
  stringifyJson,
  type ConnectionContext,
  type Dialect,
  type ErrorCode,
  type ErrorDetails,
  type Header,
  type Pipe,
} from '@switchyard/protocol';
import { systemClock } from './clock.ts';
import type { HubEvents, HubOptions, HubStats, LeaveReason } from './options.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';

/** The transport-agnostic signalling server core. */
export interface Hub {
  /** Takes over a connection; a server half calls this for every pipe it opens. */
  accept(pipe: Pipe, context?: Partial<ConnectionContext>): void;
  on<E extends keyof HubEvents & string>(event: E, listener: HubEvents[E]): () => void;
  stats(): HubStats;
  /** Ids in a room, in join order (empty for an unknown room). */
  roomMembers(room: string): string[];
  /** Names of the rooms that have members. */
  rooms(): string[];
  /**
   * Closes the connection that holds `id` from the server side. Without a `/leave` this is a
   * hard disconnect: the grace window applies. Returns false when `id` is not connected.
   */
  disconnect(id: string, code?: number, reason?: string): boolean;
  /** Closes every connection (default 1001) and stops all timers. */
  close(code?: number, reason?: string): void;
}

/** A message for one or many recipients, encoded at most once per dialect. */
type Outgoing = (dialect: Dialect) => string;

type ConnectionState = 'idle' | 'member' | 'closed';

interface Connection {
  readonly pipe: Pipe;
  readonly context: ConnectionContext;
  state: ConnectionState;
  /** Bound by the first successful announce; never changes afterwards. */
  id?: string;
  dialect?: Dialect;
  principal?: string;
  member?: Member;
  readonly limiter?: RateLimiter;
  lastRateErrorAt: number;
  /** Inbound messages held while an announce is in flight (keeps per-connection FIFO). */
  backlog?: string[];
}

interface Member {
  readonly id: string;
  room: Room;
  /** Undefined while the member is inside its grace window. */
  connection?: Connection;
  /** The sender field per dialect, computed once. */
  readonly stamped: Readonly<Record<Dialect, string>>;
  grace?: unknown;
  pending: Outgoing[];
}

interface Room {
  readonly name: string;
  readonly members: Set<Member>;
}

/** Memoises an encoder so a broadcast costs one encode per dialect, not per recipient. */
function once(encode: Outgoing): Outgoing {
  let bare: string | undefined;
  let json: string | undefined;
  return (dialect) => (dialect === 'bare' ? (bare ??= encode('bare')) : (json ??= encode('json')));
}

const ANNOUNCE = '/announce';

/** Creates a hub. See {@link HubOptions} for limits and hooks. */
export function createHub(options: HubOptions = {}): Hub {
  const clock = options.clock ?? systemClock;
  const graceMs = options.graceMs ?? 3000;
  const maxFrameBytes = options.maxFrameBytes ?? LIMITS.maxFrameBytes;
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  const pendingLimit = options.pendingLimit ?? 256;
  const backlogLimit = options.backlogLimit ?? 64;
  const livenessTimeoutMs = options.livenessTimeoutMs ?? 1500;
  const maxRoomSize = options.maxRoomSize ?? Infinity;
  const roomInfoExtra = options.roomInfo ?? {};
  const log = options.log ?? (() => undefined);
  const events = createEmitter<HubEvents>((error) =>
    log('warn', 'hub event listener threw', { error }),
  );

  const connections = new Set<Connection>();
  const members = new Map<string, Member>();
  const rooms = new Map<string, Room>();
  const counters = {
    messagesIn: 0,
    messagesOut: 0,
    rateLimited: 0,
    pendingOverflow: 0,
    graceExpired: 0,
    abusive: 0,
    slowConsumer: 0,
    idTaken: 0,
  };
  const errorsSent: Partial<Record<ErrorCode, number>> = {};
  let closing = false;

  // ---- sending -------------------------------------------------------------------------------

  function send(connection: Connection, message: string): void {
    if (connection.state === 'closed') return;
    try {
      connection.pipe.send(message);
    } catch {
      return; // the pipe closed under us; its close handler does the bookkeeping
    }
    counters.messagesOut += 1;
    if (connection.pipe.bufferedAmount > highWaterMark) {
      counters.slowConsumer += 1;
      log('warn', 'closing slow consumer', {
        id: connection.id,
        buffered: connection.pipe.bufferedAmount,
      });
      connection.pipe.close(CloseCode.policyViolation, 'slow consumer');
    }
  }

  function sendError(
    connection: Connection,
    code: ErrorCode,
    message: string,
    details?: ErrorDetails,
  ): void {
    errorsSent[code] = (errorsSent[code] ?? 0) + 1;
    send(connection, errorMessage(code, message, details));
  }

  /** Delivers to a member now, or queues it while the member is inside its grace window. */
  function deliver(member: Member, outgoing: Outgoing): void {
    const connection = member.connection;
    if (connection) {
      send(connection, outgoing(connection.dialect ?? 'bare'));
    } else if (member.pending.length < pendingLimit) {
      member.pending.push(outgoing);
    } else {
      counters.pendingOverflow += 1;
    }
  }

  function broadcast(room: Room, except: Member | undefined, outgoing: Outgoing): void {
    for (const member of room.members) if (member !== except) deliver(member, outgoing);
  }

  /** A member's message with the sender field stamped in the recipient's dialect. */
  function stamped(message: string, header: Header, from: Member): Outgoing {
    return once((dialect) => replaceSender(message, header, from.stamped[dialect]));
  }

  // ---- rooms ---------------------------------------------------------------------------------

  function peerEvent(member: Member) {
    return {
      id: member.id,
      room: member.room.name,
      transport: member.connection?.context.transport ?? 'unknown',
    };
  }

  function joinRoom(member: Member, name: string): boolean {
    let room = rooms.get(name);
    if (!room) {
      room = { name, members: new Set() };
      rooms.set(name, room);
      events.emit('room:created', name);
    }
    member.room = room;
    const joined = !room.members.has(member);
    room.members.delete(member); // a re-announce moves the member to the end, like the reference
    room.members.add(member);
    return joined;
  }

  /** Takes a member out of its room; with `announceLeave` the others get `/leave`. */
  function removeFromRoom(member: Member, reason: LeaveReason, announceLeave: boolean): void {
    const room = member.room;
    if (!room.members.delete(member)) return;
    events.emit('peer:left', { ...peerEvent(member), reason });
    if (announceLeave)
      broadcast(
        room,
        member,
        once((dialect) => leaveMessage(member.id, dialect)),
      );
    if (room.members.size === 0) {
      rooms.delete(room.name);
      events.emit('room:destroyed', room.name);
    }
  }

  function forget(member: Member, reason: LeaveReason, announceLeave: boolean): void {
    if (member.grace !== undefined) clock.clearTimeout(member.grace);
    member.grace = undefined;
    if (members.get(member.id) === member) members.delete(member.id);
    removeFromRoom(member, reason, announceLeave);
    if (member.pending.length > 0) counters.graceExpired += member.pending.length;
    member.pending = [];
    const connection = member.connection;
    member.connection = undefined;
    if (connection && connection.member === member) {
      connection.member = undefined;
      if (connection.state === 'member') connection.state = 'idle';
    }
  }

  // ---- inbound -------------------------------------------------------------------------------

  function handle(connection: Connection, message: string): void {
    if (connection.state === 'closed') return;
    if (connection.backlog) {
      if (connection.backlog.length >= backlogLimit) {
        sendError(connection, 'rate-limited', 'too many messages while the announce is pending', {
          retryAfterMs: livenessTimeoutMs,
        });
        return;
      }
      connection.backlog.push(message);
      return;
    }
    counters.messagesIn += 1;
    if (!fitsInBytes(message, maxFrameBytes)) {
      sendError(connection, 'frame-too-large', `messages are limited to ${maxFrameBytes} bytes`, {
        limit: maxFrameBytes,
      });
      return;
    }
    if (message.charCodeAt(0) !== 0x2f /* '/' */) {
      sendError(connection, 'not-a-command', 'a message must start with a /command');
      return;
    }
    if (connection.limiter && !admitRate(connection)) return;

    const header = parseHeader(message);
    const command = header.command;
    if (command === ANNOUNCE) {
      runAnnounce(connection, message, header);
      return;
    }
    if (command === '/error' || command === '/roominfo') {
      sendError(connection, 'malformed', `${command} is sent by servers only`);
      return;
    }
    const member = connection.member;
    if (connection.state !== 'member' || !member) {
      sendError(connection, 'not-announced', 'announce into a room first');
      return;
    }
    if (command === '/to' && header.innerCommand === undefined) {
      sendError(
        connection,
        'malformed',
        '/to needs a target, a command and a sender: /to|<target>|<command>|<sender>',
      );
      return;
    }
    if (header.sender === undefined) {
      sendError(connection, 'malformed', `missing sender field: ${command}|<sender>|…`);
      return;
    }
    if (
      header.sender !== member.id &&
      header.sender !== member.stamped.json &&
      readSender(header.sender).id !== member.id
    ) {
      sendError(
        connection,
        'sender-mismatch',
        `this connection speaks as ${stringifyJson(member.id)}`,
      );
      return;
    }

    if (command === '/to') {
      const target = members.get(header.target!);
      if (!target || target.room !== member.room) {
        sendError(
          connection,
          'unknown-target',
          `no peer ${stringifyJson(header.target)} in this room`,
          {
            target: header.target,
          },
        );
        return;
      }
      const to = target.connection;
      // one recipient: stamp straight into its dialect, no per-dialect memo to allocate
      if (to) send(to, replaceSender(message, header, member.stamped[to.dialect ?? 'bare']));
      else deliver(target, stamped(message, header, member));
      return;
    }
    broadcast(member.room, member, stamped(message, header, member));
    if (command === '/leave') forget(member, 'leave', false);
  }

  function admitRate(connection: Connection): boolean {
    const now = clock.now();
    const verdict = connection.limiter!.take(now);
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
    if (now - connection.lastRateErrorAt >= 1000) {
      connection.lastRateErrorAt = now;
      sendError(connection, 'rate-limited', 'too many messages', {
        retryAfterMs: connection.limiter!.retryAfterMs(now),
      });
    }
    return false;
  }

  // ---- announce ------------------------------------------------------------------------------

  /** Announces run one at a time per connection; later messages wait in the backlog. */
  function runAnnounce(connection: Connection, message: string, header: Header): void {
    connection.backlog = [];
    announce(connection, message, header)
      .catch((error: unknown) => {
        log('warn', 'announce failed', { error: String(error) });
        sendError(connection, 'malformed', 'announce could not be processed');
      })
      .finally(() => {
        const backlog = connection.backlog ?? [];
        connection.backlog = undefined;
        for (let i = 0; i < backlog.length; i++) {
          handle(connection, backlog[i]!);
          if (connection.backlog) {
            // another announce started: keep the rest in order behind it
            (connection.backlog as string[]).push(...backlog.slice(i + 1));
            return;
          }
        }
      });
  }

  async function announce(connection: Connection, message: string, header: Header): Promise<void> {
    const invalid = (text: string) => sendError(connection, 'invalid-announce', text);
    if (header.sender === undefined) return invalid('expected /announce|<id>|{"id":…,"room":…}');
    const payloadText = payloadOf(message, header);
    let attributes: unknown;
    try {
      attributes = JSON.parse(payloadText);
    } catch {
      return invalid('the announce payload must be a JSON object');
    }
    if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
      return invalid('the announce payload must be a JSON object');
    }
    const { token, ...rest } = attributes as Record<string, unknown>;
    const sender = readSender(header.sender);
    const id = idToString(rest['id']);
    if (id === undefined || !isValidId(id))
      return invalid('"id" must be 1..256 characters without | or control characters');
    if (id !== sender.id)
      return invalid(
        `"id" ${stringifyJson(id)} differs from the sender field ${stringifyJson(sender.id)}`,
      );
    const roomName = rest['room'];
    if (
      typeof roomName !== 'string' ||
      roomName.length === 0 ||
      roomName.length > LIMITS.maxRoomLength
    ) {
      return invalid('"room" must be a string of 1..256 characters');
    }
    if (token !== undefined && typeof token !== 'string')
      return invalid('"token" must be a string');
    if (connection.id !== undefined && connection.id !== id) {
      return sendError(
        connection,
        'sender-mismatch',
        `this connection speaks as ${stringifyJson(connection.id)}`,
      );
    }

    if (options.authenticate) {
      const result = await options.authenticate({
        context: connection.context,
        ...(token !== undefined && { token }),
        id,
        room: roomName,
        attributes: rest,
      });
      if (connection.state === 'closed') return;
      if (!result.ok) {
        sendError(
          connection,
          result.code,
          result.message ??
            (result.code === 'unauthorized' ? 'invalid credentials' : 'not allowed in this room'),
        );
        if (result.code === 'unauthorized')
          connection.pipe.close(CloseCode.unauthorized, 'unauthorized');
        return;
      }
      connection.principal = result.principal;
    }

    const target = rooms.get(roomName);
    const known = connection.member ?? members.get(id);
    if (target && known?.room !== target && target.members.size >= maxRoomSize) {
      return sendError(connection, 'room-full', `room ${stringifyJson(roomName)} is full`, {
        maxRoomSize,
      });
    }
    const member = await claim(connection, id);
    if (!member || connection.state === 'closed') return;

    // Commit: bind, move or join, /roominfo, queued messages, then relay.
    connection.id = id;
    connection.dialect ??= sender.dialect;
    connection.state = 'member';
    connection.member = member;
    member.connection = connection;
    members.set(id, member);
    if (member.grace !== undefined) clock.clearTimeout(member.grace);
    member.grace = undefined;

    const previous = member.room;
    if (previous.name !== roomName) removeFromRoom(member, 'moved', true);
    const joined = joinRoom(member, roomName);
    if (joined) events.emit('peer:joined', peerEvent(member));
    send(connection, roomInfoMessage({ ...roomInfoExtra, memberCount: member.room.members.size }));
    const pending = member.pending;
    member.pending = [];
    for (const outgoing of pending) send(connection, outgoing(connection.dialect));

    const relayed =
      token === undefined ? message : `${ANNOUNCE}|${header.sender}|${stringifyJson(rest)}`;
    broadcast(
      member.room,
      member,
      stamped(relayed, token === undefined ? header : parseHeader(relayed), member),
    );
  }

  /**
   * Applies the identity rules (PROTOCOL §4.3) and returns the member record the connection
   * may use, or undefined when refused (the error is already sent).
   */
  async function claim(connection: Connection, id: string): Promise<Member | undefined> {
    const holder = members.get(id);
    if (!holder || holder === connection.member) {
      return connection.member ?? newMember(id);
    }
    const current = holder.connection;
    if (current && current !== connection) {
      const samePrincipal =
        connection.principal !== undefined && current.principal === connection.principal;
      if (!samePrincipal && current.pipe.isAlive) {
        const alive = await current.pipe.isAlive(livenessTimeoutMs).catch(() => false);
        if (connection.state === 'closed') return undefined;
        // the world may have moved while we waited: decide again on fresh state
        if (members.get(id) !== holder || holder.connection !== current)
          return claim(connection, id);
        if (alive && current.state !== 'closed') {
          sendError(connection, 'id-taken', `${stringifyJson(id)} is connected elsewhere`);
          return undefined;
        }
      }
      evict(current, id);
    }
    return holder;
  }

  function evict(connection: Connection, id: string): void {
    counters.idTaken += 1;
    connection.member = undefined;
    connection.state = 'idle';
    sendError(connection, 'id-taken', `${stringifyJson(id)} was taken over by a new connection`);
    connection.pipe.close(CloseCode.idTaken, 'id taken over');
  }

  function newMember(id: string): Member {
    return {
      id,
      room: { name: '', members: new Set() },
      stamped: { bare: senderField(id, 'bare'), json: senderField(id, 'json') },
      pending: [],
    };
  }

  // ---- presence ------------------------------------------------------------------------------

  function closed(connection: Connection, code: number | undefined): void {
    if (connection.state === 'closed') return;
    const member = connection.member;
    connection.state = 'closed';
    connection.backlog = undefined;
    connections.delete(connection);
    events.emit('connection:closed', {
      ...connection.context,
      ...(connection.id !== undefined && { id: connection.id }),
      ...(code !== undefined && { code }),
    });
    if (!member || member.connection !== connection) return;
    member.connection = undefined;
    if (closing) return forget(member, 'shutdown', false);
    if (graceMs <= 0) return forget(member, 'disconnect', true);
    log('debug', 'member in grace window', { id: member.id, graceMs });
    member.grace = clock.setTimeout(() => {
      member.grace = undefined;
      forget(member, 'disconnect', true);
    }, graceMs);
  }

  return {
    accept(pipe, context = {}) {
      const full: ConnectionContext = {
        ...context,
        transport: context.transport ?? pipe.transport,
      };
      if (closing) {
        pipe.close(CloseCode.goingAway, 'server shutting down');
        return;
      }
      const connection: Connection = {
        pipe,
        context: full,
        state: 'idle',
        lastRateErrorAt: -Infinity,
        ...(options.rateLimit !== false && { limiter: createRateLimiter(options.rateLimit) }),
      };
      connections.add(connection);
      pipe.onMessage((message) => {
        try {
          handle(connection, message);
        } catch (error) {
          // a bug must cost one message, never the process
          log('warn', 'message handler threw', { error: String(error) });
        }
      });
      pipe.onClose((info) => closed(connection, info.code));
      events.emit('connection:opened', full);
    },
    on: (event, listener) => events.on(event, listener),
    stats() {
      let inGrace = 0;
      for (const member of members.values()) if (!member.connection) inGrace += 1;
      return {
        connections: connections.size,
        members: members.size,
        rooms: rooms.size,
        inGrace,
        messagesIn: counters.messagesIn,
        messagesOut: counters.messagesOut,
        errorsSent: { ...errorsSent },
        dropped: {
          rateLimited: counters.rateLimited,
          pendingOverflow: counters.pendingOverflow,
          graceExpired: counters.graceExpired,
        },
        closed: {
          abusive: counters.abusive,
          slowConsumer: counters.slowConsumer,
          idTaken: counters.idTaken,
        },
      };
    },
    roomMembers: (name) => [...(rooms.get(name)?.members ?? [])].map((member) => member.id),
    rooms: () => [...rooms.keys()],
    disconnect(id, code = CloseCode.goingAway, reason = 'disconnected by the server') {
      const connection = members.get(id)?.connection;
      if (!connection) return false;
      connection.pipe.close(code, reason);
      return true;
    },
    close(code = CloseCode.goingAway, reason = 'server shutting down') {
      closing = true;
      for (const connection of [...connections]) connection.pipe.close(code, reason);
      for (const member of [...members.values()]) forget(member, 'shutdown', false);
    },
  };
}

/**
 * Identity (docs/protocol.md §4.3): which member record an id maps to, and who may take an id
 * that is already held. An id is held by at most one live connection; a newcomer takes over a
 * holder that is gone, inside its grace window, the same principal, or fails a liveness probe.
 */
import { CloseCode, stringifyJson } from '@switchyard/protocol';
import { senderStamp } from './frame.ts';
import { NO_ROOM, type Connection, type Member } from './model.ts';
import type { Outbound } from './outbound.ts';
import type { HubCounters } from './stats.ts';

/** Members by id. */
export class Identity {
  private readonly byId = new Map<string, Member>();

  constructor(
    private readonly outbound: Outbound,
    private readonly counters: HubCounters,
    private readonly livenessTimeoutMs: number,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Member | undefined {
    return this.byId.get(id);
  }

  members(): IterableIterator<Member> {
    return this.byId.values();
  }

  /**
   * The member record `connection` may use for `id`, or undefined when the id is refused (the
   * `/error` is already sent). May await the holder's liveness probe.
   */
  async claim(connection: Connection, id: string): Promise<Member | undefined> {
    const holder = this.byId.get(id);
    if (!holder || holder === connection.member) return connection.member ?? this.create(id);
    const current = holder.connection;
    if (current && current !== connection) {
      const samePrincipal =
        connection.principal !== undefined && current.principal === connection.principal;
      if (!samePrincipal && current.pipe.isAlive) {
        const alive = await current.pipe.isAlive(this.livenessTimeoutMs).catch(() => false);
        if (connection.state === 'closed') return undefined;
        // the world may have moved while we waited: decide again on fresh state
        if (this.byId.get(id) !== holder || holder.connection !== current)
          return this.claim(connection, id);
        if (alive && current.state !== 'closed') {
          this.outbound.error(
            connection,
            'id-taken',
            `${stringifyJson(id)} is connected elsewhere`,
          );
          return undefined;
        }
      }
      this.evict(current, id);
    }
    return holder;
  }

  /** Binds `member` to `connection` for good: the connection now speaks as the member's id. */
  bind(connection: Connection, member: Member): void {
    connection.id = member.id;
    connection.state = 'member';
    connection.member = member;
    member.connection = connection;
    member.transport = connection.context.transport;
    this.byId.set(member.id, member);
  }

  /** Forgets the id, unless another record holds it by now. */
  release(member: Member): void {
    if (this.byId.get(member.id) === member) this.byId.delete(member.id);
  }

  private evict(connection: Connection, id: string): void {
    this.counters.idTaken += 1;
    connection.member = undefined;
    connection.state = 'idle';
    this.outbound.error(
      connection,
      'id-taken',
      `${stringifyJson(id)} was taken over by a new connection`,
    );
    connection.pipe.close(CloseCode.idTaken, 'id taken over');
  }

  private create(id: string): Member {
    return {
      id,
      room: NO_ROOM,
      transport: 'unknown',
      stamp: senderStamp(id),
      pending: [],
      pendingChars: 0,
    };
  }
}

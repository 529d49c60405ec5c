/**
 * Identity (docs/protocol.md §4.3): which member record an id maps to, and who may take an id
 * that is already held. An id is held by at most one live connection; a newcomer takes over a
 * holder that is gone, inside its grace window, the same principal, or fails a liveness probe.
 */
import { CloseCode, stringifyJson } from '@switchyard/protocol';
import { senderStamp } from './frame.ts';
import type { IdClaimant, IdDirectory } from './directory.ts';
import { NO_ROOM, type Connection, type Member } from './model.ts';
import type { Outbound } from './outbound.ts';
import type { HubCounters } from './stats.ts';

/** Members by id. */
export class Identity {
  private readonly byId = new Map<string, Member>();
  /** One liveness probe per holder at a time, however many claimants wait on it. */
  private readonly probes = new WeakMap<Connection, Promise<boolean>>();

  constructor(
    private readonly outbound: Outbound,
    private readonly counters: HubCounters,
    private readonly livenessTimeoutMs: number,
    private readonly directory?: IdDirectory,
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
   * Decides whether `connection` may use `id`; when it may, `grant` runs with the member record
   * in the same synchronous step as the decision, so that two claimants can never both be
   * granted (it must bind the id). A refusal sends the `/error`. May await the holder's
   * liveness probe.
   */
  async claim(connection: Connection, id: string, grant: (member: Member) => void): Promise<void> {
    const holder = this.byId.get(id);
    if (holder === undefined && connection.member === undefined && this.directory) {
      // not ours: the cluster decides, and the world may have moved while it did
      const verdict = await this.directory.claim(id, claimantOf(connection));
      if (connection.state === 'closed') return;
      if (this.byId.has(id) || connection.member !== undefined)
        return this.claim(connection, id, grant);
      if (verdict === 'taken') {
        this.outbound.error(connection, 'id-taken', `${stringifyJson(id)} is connected elsewhere`);
        return;
      }
      if (verdict === 'unavailable') {
        this.outbound.error(connection, 'rate-limited', 'the cluster directory is unavailable', {
          retryAfterMs: 1000,
        });
        return;
      }
      return grant(this.create(id));
    }
    if (!holder || holder === connection.member) return grant(connection.member ?? this.create(id));
    // a member of another principal (docs/protocol.md §4.7) is never handed over, nor its queue:
    // the id is free again once that member has left, after its grace window
    const foreign = holder.principal !== undefined && holder.principal !== connection.principal;
    const current = holder.connection;
    if (current && current !== connection) {
      const samePrincipal =
        connection.principal !== undefined && current.principal === connection.principal;
      if (!samePrincipal && current.pipe.isAlive) {
        const alive = await this.probe(current);
        if (connection.state === 'closed') return;
        // the world may have moved while we waited: decide again on fresh state
        if (this.byId.get(id) !== holder || holder.connection !== current)
          return this.claim(connection, id, grant);
        if (alive && current.state !== 'closed') {
          this.outbound.error(
            connection,
            'id-taken',
            `${stringifyJson(id)} is connected elsewhere`,
          );
          return;
        }
      }
      this.evict(current, id);
    }
    if (foreign) {
      this.outbound.error(
        connection,
        'id-taken',
        `${stringifyJson(id)} belongs to another principal until its grace window ends`,
      );
      return;
    }
    grant(holder);
  }

  private probe(holder: Connection): Promise<boolean> {
    let probe = this.probes.get(holder);
    if (!probe) {
      probe = holder.pipe.isAlive!(this.livenessTimeoutMs).catch(() => false);
      this.probes.set(holder, probe);
      // the next claim after this one settles probes afresh
      void probe.then(() => this.probes.delete(holder));
    }
    return probe;
  }

  /** Binds `member` to `connection` for good: the connection now speaks as the member's id. */
  bind(connection: Connection, member: Member): void {
    connection.id = member.id;
    connection.state = 'member';
    connection.member = member;
    member.connection = connection;
    member.transport = connection.context.transport;
    member.principal = connection.principal;
    member.link = connection.context.link;
    this.byId.set(member.id, member);
    this.directory?.update(member.id, 'live', claimantOf(connection));
  }

  /** The member lost its connection and is inside its grace window. */
  graced(member: Member): void {
    this.directory?.update(member.id, 'grace', claimantOfMember(member));
  }

  /** Forgets the id, unless another record holds it by now. */
  release(member: Member): void {
    if (this.byId.get(member.id) !== member) return;
    this.byId.delete(member.id);
    this.directory?.update(member.id, 'gone', claimantOfMember(member));
  }

  /** Ends `connection`'s hold on `id`: `/error id-taken`, then 4009. */
  evict(connection: Connection, id: string, where = 'by a new connection'): void {
    this.counters.idTaken += 1;
    connection.member = undefined;
    connection.state = 'idle';
    this.outbound.error(connection, 'id-taken', `${stringifyJson(id)} was taken over ${where}`);
    connection.pipe.close(CloseCode.idTaken, 'id taken over');
  }

  /**
   * A member restored in its grace window (a cluster node taking over a room whose home died):
   * it holds the id until its connection comes back or the window ends.
   */
  restore(id: string, principal: string | undefined): Member {
    const member = this.create(id);
    member.transport = 'cluster';
    member.principal = principal;
    this.byId.set(id, member);
    return member;
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

function claimantOf(connection: Connection): IdClaimant {
  return {
    ...(connection.context.link !== undefined && { link: connection.context.link }),
    ...(connection.principal !== undefined && { principal: connection.principal }),
  };
}

function claimantOfMember(member: Member): IdClaimant {
  return {
    ...(member.link !== undefined && { link: member.link }),
    ...(member.principal !== undefined && { principal: member.principal }),
  };
}

/**
 * The Redis backplane (docs/cluster.md, "Redis"): one inbox channel per node, frames batched per
 * destination once per event-loop turn and numbered so a batch re-sent after a Redis blip is
 * delivered once; a directory of single-key compare-and-set records; leases in one sorted set
 * scored with Redis' own clock; deaths decided in Redis, so a paused node learns it was fenced;
 * a self-ping that notices a subscription that went quiet.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Backplane, BackplaneStats, IdRecord } from '@switchyard/cluster';
import type { Logger } from '@switchyard/protocol';
import { openBus } from './bus.ts';

/** Options of {@link createRedisBackplane}. */
export interface RedisBackplaneOptions {
  /**
   * `redis://[:password@]host:port[/db]` or `rediss://…`; a Redis Cluster as
   * `redis-cluster://[:password@]host:port[,host:port…]` (or `rediss-cluster://`), whose
   * inboxes are sharded channels.
   */
  readonly url: string;
  /** This node's id, unique in the cluster. @default random */
  readonly node?: string;
  /** Key and channel prefix, so clusters can share a Redis. @default 'sy' */
  readonly prefix?: string;
  /** A node whose lease is this old is dead. @default 3000 */
  readonly leaseMs?: number;
  /** How often leases are renewed and the live nodes read. @default 1000 */
  readonly renewMs?: number;
  /** Bounds of the per-destination outage buffer; past them the newest frames are dropped. */
  readonly outage?: {
    readonly maxFrames?: number;
    readonly maxChars?: number;
    readonly maxAgeMs?: number;
  };
  /**
   * How long after a node's death its leftovers in the directory are swept: the id records and
   * room homes that still name it once the others took over what they could (docs/cluster.md,
   * "Sweeping a dead node"). @default 30000
   */
  readonly sweepDelayMs?: number;
  readonly log?: Logger;
}

/** A Redis backplane, plus what the server reports of it. */
export interface RedisBackplane extends Backplane {
  /** Whether the writer and the subscriber are both connected. */
  readonly up: boolean;
  /**
   * Drops the connections without leaving the cluster, as a crash would: the lease runs out and
   * the other nodes treat this one as dead. For drills and tests.
   */
  crash(): void;
  /** Counters beyond {@link BackplaneStats}. */
  readonly counters: Readonly<Record<string, number>>;
}

/** Largest batch, in characters: one PUBLISH stays well under Redis' and the network's comfort. */
const MAX_BATCH_CHARS = 64 * 1024;
/**
 * The part of a lease this node trusts by its own clock: past it the node may have been declared
 * dead, so it sends and writes nothing until a renewal says otherwise (clock rates differ a little).
 */
const LEASE_TRUST = 0.9;
/** Fenced incarnations remembered to drop their stale frames (one per node name, the latest). */
const MAX_FENCED = 1000;

interface Outbound {
  /**
   * The stream's name, `<epoch>.<n>`: a fresh one whenever this node starts a stream to the
   * destination again (after it buried the destination), so a destination that lived on (a
   * paused node) never mistakes the new numbers for repeats of the old.
   */
  readonly stream: string;
  frames: string[];
  /** Sequence number of the next frame to this destination. */
  seq: number;
  /** Frames that could not go out yet (an outage), oldest first, with when they were queued. */
  waiting: Array<{ readonly frame: string; readonly seq: number; readonly at: number }>;
  waitingChars: number;
  /**
   * One batch at a time per destination: a batch that fails (Redis went away, or the inbox has
   * no subscriber yet after a restart) is sent again before anything after it, so the
   * destination sees each frame once and in order.
   */
  inFlight: boolean;
}

/** One sender's stream, as a receiver tracks it: a new name is a new stream. */
interface Inbound {
  stream: string;
  last: number;
}

const toBase64Url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Redis' clock in ms, inside a script. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// Each script touches one key or keys of one hash tag: nothing here is cross-slot on Redis Cluster.
// The lease scripts share `{c}`: KEYS[1] leases (node → expiry), KEYS[2] node → epoch (the
// incarnation holding the lease), KEYS[3] fenced incarnations (`node|epoch` → when).
const SCRIPTS = {
  /** KEYS[1]: value must be ARGV[1] ('' = absent) to become ARGV[2]. */
  swap: `local cur = redis.call('GET', KEYS[1]) or ''
if cur == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0`,
  /** A room's home (KEYS[1]) and its mirror (KEYS[2], same slot) go if ARGV[1] holds it. */
  vacate: `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end
return 0`,
  /** An id record set by its own home: free, already homed on ARGV[2], or ARGV[3] = force. */
  putId: `local cur = redis.call('GET', KEYS[1])
if ARGV[3] ~= '1' and cur and cjson.decode(cur)[1] ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`,
  /** An id record removed if home ARGV[1] and link ARGV[2] still hold it. */
  dropId: `local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local held = cjson.decode(cur)
if held[1] == ARGV[1] and held[2] == ARGV[2] then redis.call('DEL', KEYS[1]) return 1 end
return 0`,
  /** Whether ARGV[1] holds a lease now, by Redis' clock. */
  alive: `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return 1 end
return 0`,
  /**
   * Renews the lease of node ARGV[1], incarnation ARGV[3], for ARGV[2] ms. Returns {-1} when
   * that incarnation was declared dead (fenced: it renews nothing), else {1 if it still held a
   * valid lease or 0, then the live nodes and their epochs, flat}.
   */
  renew: `${NOW}
if redis.call('ZSCORE', KEYS[3], ARGV[1] .. '|' .. ARGV[3]) then return {-1} end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local had = score and tonumber(score) > now
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3600000)
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
local out = {had and 1 or 0}
for _, other in ipairs(live) do
  out[#out + 1] = other
  out[#out + 1] = redis.call('HGET', KEYS[2], other) or ''
end
return out`,
  /**
   * Declares node ARGV[1] dead if its lease has run out: its incarnation is fenced (a renewal
   * of it fails from now on) and returned; {0} when it holds a lease (it renewed in time).
   * Deaths and renewals are decided here, atomically, so no node acts on a death that the dead
   * node's own renewal beat.
   */
  bury: `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return {0} end
local epoch = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if epoch ~= '' then redis.call('ZADD', KEYS[3], now, ARGV[1] .. '|' .. epoch) end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return {1, epoch}`,
} as const;

const KEYS_OF: Record<keyof typeof SCRIPTS, number> = {
  swap: 1,
  vacate: 2,
  putId: 1,
  dropId: 1,
  alive: 1,
  renew: 3,
  bury: 3,
};

type Scripted = (Redis | Cluster) & {
  sySwap(key: string, expected: string, next: string): Promise<number>;
  syVacate(home: string, mirror: string, node: string): Promise<number>;
  syPutId(key: string, record: string, home: string, force: string): Promise<number>;
  syDropId(key: string, home: string, link: string): Promise<number>;
  syRenew(
    leases: string,
    epochs: string,
    fenced: string,
    node: string,
    leaseMs: number,
    epoch: string,
  ): Promise<[number, ...string[]]>;
  syBury(leases: string, epochs: string, fenced: string, node: string): Promise<[number, string?]>;
  syAlive(key: string, node: string): Promise<number>;
};

/** How many `len:frame` entries a batch holds from `at` on. */
function framesIn(batch: string, at: number): number {
  let count = 0;
  while (at < batch.length) {
    const colon = batch.indexOf(':', at);
    if (colon === -1) break;
    at = colon + 1 + Number(batch.slice(at, colon));
    count++;
  }
  return count;
}

function encodeRecord(record: IdRecord): string {
  return JSON.stringify([record.home, record.link, record.state, record.principal ?? null]);
}

function decodeRecord(text: string | null): IdRecord | undefined {
  if (text === null) return undefined;
  const [home, link, state, principal] = JSON.parse(text) as [
    string,
    string,
    'live' | 'grace',
    string | null,
  ];
  return { home, link, state, ...(principal !== null && { principal }) };
}

/** Connects to Redis and joins the cluster; resolves once subscribed and leased. */
export async function createRedisBackplane(
  options: RedisBackplaneOptions,
): Promise<RedisBackplane> {
  const node = options.node ?? randomBytes(6).toString('base64url');
  if (node.includes('|') || node.includes('\n'))
    throw new Error(`node id ${node} may not contain | or a newline`);
  const prefix = options.prefix ?? 'sy';
  const leaseMs = options.leaseMs ?? 3000;
  const renewMs = options.renewMs ?? 1000;
  const maxFrames = options.outage?.maxFrames ?? 10_000;
  const maxChars = options.outage?.maxChars ?? 8 * 1024 * 1024;
  const maxAgeMs = options.outage?.maxAgeMs ?? 5000;
  const sweepDelayMs = options.sweepDelayMs ?? 30_000;
  const log: Logger = options.log ?? (() => undefined);
  /** This incarnation of the node: a new one after a restart or a fence. */
  let epoch = randomBytes(4).toString('hex');

  const inbox = (of: string) => `${prefix}:{n:${of}}:in`;
  const nodesKey = `${prefix}:{c}:nodes`;
  const epochsKey = `${prefix}:{c}:epochs`;
  const fencedKey = `${prefix}:{c}:fenced`;
  const roomKey = (room: string) => `${prefix}:{r:${toBase64Url(room)}}`;
  const idKey = (id: string) => `${prefix}:{i:${toBase64Url(id)}}`;
  // the same hash tag as the room's home: one slot per room
  const mirrorKey = (room: string) => `${prefix}:{r:${toBase64Url(room)}}:m`;
  /**
   * What the directory holds that names a node: `i|<id>|<link>` per id record, `r|<room>` per
   * room home. Swept after the node's death; a record or home that moved on is left alone.
   */
  const ownKey = (of: string) => `${prefix}:{c}:own:${of}`;
  const owned = {
    id: (id: string, link: string) => `i|${id}|${link}`,
    room: (room: string) => `r|${room}`,
  };

  const bus = openBus(options.url, log);
  const writer = bus.commands as Scripted;
  for (const [name, lua] of Object.entries(SCRIPTS))
    writer.defineCommand(`sy${name[0]!.toUpperCase()}${name.slice(1)}`, {
      numberOfKeys: KEYS_OF[name as keyof typeof SCRIPTS],
      lua,
    });

  const frameListeners = new Set<(from: string, frame: string) => void>();
  const downListeners = new Set<(node: string) => void>();
  const fenceListeners = new Set<() => void>();
  const outbound = new Map<string, Outbound>();
  const inbound = new Map<string, Inbound>();
  const dirty = new Set<string>();
  let live = new Set<string>([node]);
  /** Nodes seen to die. A node in neither set is newer than this node's view: asked, not assumed dead. */
  const dead = new Set<string>();
  /** Nodes found without a lease outside the live view (they died before this node saw them). */
  const suspects = new Set<string>();
  /** The epoch of each node's fenced incarnation: frames it still sends are stale. */
  const fencedEpochs = new Map<string, string>();
  /** Until when (performance.now()) this node's own lease is certainly valid. */
  let leaseUntil = 0;
  /** While a fenced node drops its state: nothing it sends or writes leaves. */
  let fencing = false;
  let renewing: Promise<void> | undefined;
  /** Left the lease set (a drain): no more renewals, goodbyes still go out. */
  let leaving = false;
  /** Streams this node started, for their names. */
  let streams = 0;
  let flushScheduled = false;
  let closed = false;
  const sweeps = new Set<ReturnType<typeof setTimeout>>();
  /** Since when leases have been renewed without a gap: deaths are believed only after a full lease. */
  let renewingSince: number | undefined;
  let lastSelfPing = Date.now();
  /** What this node wrote to the directory, to write again after Redis lost it (a restart). */
  const mine = { ids: new Map<string, IdRecord>(), homes: new Set<string>() };
  const counters = {
    published: 0,
    batches: 0,
    received: 0,
    duplicates: 0,
    overflow: 0,
    expired: 0,
    nodeDeaths: 0,
    resubscribes: 0,
    renewals: 0,
    retries: 0,
    reasserts: 0,
    /** Times this node was fenced, and frames dropped as stale (its own, or a fenced node's). */
    fenced: 0,
    fencedFrames: 0,
    /** Directory entries of dead nodes swept away. */
    swept: 0,
  };

  /** Redis lost this node's lease (a restart, or it was reaped): write what it holds again. */
  async function reassert(): Promise<void> {
    counters.reasserts++;
    log('warn', 'the directory lost this node: writing its rooms and ids again', { node });
    for (const room of mine.homes) {
      await writer.sySwap(roomKey(room), '', node);
      await writer.sadd(ownKey(node), owned.room(room));
    }
    for (const [id, record] of mine.ids) {
      // only where the id is free: a paused node coming back must not take ids back (fencing)
      await writer.syPutId(idKey(id), encodeRecord(record), record.home, '0');
      await writer.sadd(ownKey(node), owned.id(id, record.link));
    }
  }

  bus.onWritable(() => scheduleFlush());
  bus.onMessage((message) => receive(message.toString('utf8')));

  function receive(batch: string): void {
    // `from|stream|firstSeq\n` then `len:frame…`; a stream is `<sender's epoch>.<n>`
    const headEnd = batch.indexOf('\n');
    const [from, name, first] = batch.slice(0, headEnd).split('|');
    if (from === undefined || name === undefined || first === undefined) return;
    if (from === node && name === epoch && batch.length === headEnd + 1) {
      lastSelfPing = Date.now();
      return;
    }
    if (fencedEpochs.get(from) === name.slice(0, name.indexOf('.'))) {
      // a node declared dead that ran on (a pause): what it says now is stale
      counters.fencedFrames += framesIn(batch, headEnd + 1);
      return;
    }
    let stream = inbound.get(from);
    if (!stream || stream.stream !== name) {
      stream = { stream: name, last: Number(first) - 1 };
      inbound.set(from, stream);
    }
    let seq = Number(first);
    for (let at = headEnd + 1; at < batch.length; seq++) {
      const colon = batch.indexOf(':', at);
      const length = Number(batch.slice(at, colon));
      const frame = batch.slice(colon + 1, colon + 1 + length);
      at = colon + 1 + length;
      // a batch re-sent after a blip repeats what arrived before it: delivered once
      if (seq <= stream.last) {
        counters.duplicates++;
        continue;
      }
      stream.last = seq;
      counters.received++;
      for (const listener of frameListeners) listener(from, frame);
    }
  }

  function scheduleFlush(): void {
    if (flushScheduled || closed) return;
    flushScheduled = true;
    setImmediate(flush);
  }

  /** Once per turn: each destination's new frames join its queue; the queue's head goes out. */
  function flush(): void {
    flushScheduled = false;
    const now = Date.now();
    // past the part of its lease it can vouch for, a node may have been declared dead: it holds
    // its frames until a renewal says whether it was (then they are dropped) or not
    const leased = performance.now() <= leaseUntil;
    if (!leased) void renewNow();
    for (const to of [...dirty]) {
      const out = outbound.get(to);
      if (!out) {
        dirty.delete(to); // its destination died meanwhile
        continue;
      }
      for (const frame of out.frames) {
        out.waiting.push({ frame, seq: out.seq++, at: now });
        out.waitingChars += frame.length;
      }
      out.frames = [];
      bound(out, now);
      if (out.waiting.length === 0) dirty.delete(to);
      else if (!out.inFlight && leased && bus.writable) publishHead(to, out);
    }
  }

  /** Drops what is too old or too much: the oldest past the age, the newest past the sizes. */
  function bound(out: Outbound, now: number): void {
    while (out.waiting.length > 0 && now - out.waiting[0]!.at > maxAgeMs) {
      out.waitingChars -= out.waiting.shift()!.frame.length;
      counters.expired++;
    }
    while (out.waiting.length > maxFrames || out.waitingChars > maxChars) {
      out.waitingChars -= out.waiting.pop()!.frame.length;
      counters.overflow++;
    }
  }

  /** Publishes the head of `out`'s queue as one batch; it leaves the queue once delivered. */
  function publishHead(to: string, out: Outbound): void {
    let count = 0;
    let chars = 0;
    while (
      count < out.waiting.length &&
      (count === 0 || chars + out.waiting[count]!.frame.length < MAX_BATCH_CHARS)
    )
      chars += out.waiting[count++]!.frame.length;
    const slice = out.waiting.slice(0, count);
    let body = `${node}|${out.stream}|${slice[0]!.seq}\n`;
    for (const { frame } of slice) body += `${frame.length}:${frame}`;
    out.inFlight = true;
    counters.batches++;
    const settle = (delivered: boolean) => {
      out.inFlight = false;
      if (delivered) {
        // the queue may have been trimmed meanwhile: remove exactly the frames that went
        const sent = new Set(slice);
        let removed = 0;
        out.waiting = out.waiting.filter((entry) => {
          if (!sent.has(entry)) return true;
          removed += entry.frame.length;
          return false;
        });
        out.waitingChars -= removed;
        counters.published += count;
      } else counters.retries++;
      // closed, or the destination died while the batch was out: nothing more goes to it
      if (closed || outbound.get(to) !== out) return;
      dirty.add(to);
      if (delivered) scheduleFlush();
      else setTimeout(scheduleFlush, 50).unref?.();
    };
    bus.publish(inbox(to), body).then(
      // no receiver: the destination is not subscribed (yet, after a restart) or is dead
      (receivers) => settle(receivers > 0),
      () => settle(false),
    );
  }

  /** One renewal at a time: the interval, a flush past the lease and a write may all ask. */
  function renewNow(): Promise<void> {
    return (renewing ??= renew().finally(() => (renewing = undefined)));
  }

  async function renew(): Promise<void> {
    if (closed || leaving) return;
    try {
      // the self-ping travels the same way as frames: silence means a dead subscription
      await bus.publish(inbox(node), `${node}|${epoch}|0\n`);
      const sentAt = performance.now();
      const [status, ...flat] = await writer.syRenew(
        nodesKey,
        epochsKey,
        fencedKey,
        node,
        leaseMs,
        epoch,
      );
      if (status === -1) {
        fence();
        return await renew();
      }
      leaseUntil = sentAt + leaseMs * LEASE_TRUST;
      const now = Date.now();
      if (counters.renewals++ === 0)
        // a node that starts believes a view two renewals old: every live node renewed by then
        renewingSince = now - leaseMs + Math.min(leaseMs, 2 * renewMs);
      else if (status === 0) {
        // Redis lost this node's lease (a restart): the others' went too, and they need a lease
        // to renew theirs before any of them counts as dead
        renewingSince = now;
        await reassert();
      } else renewingSince ??= now; // after a gap (an outage), the same
      const next = new Set<string>([node]);
      for (let at = 0; at < flat.length; at += 2) next.add(flat[at]!);
      for (const back of next) dead.delete(back);
      const believed = now - renewingSince >= leaseMs;
      const candidates = believed ? [...new Set([...live, ...suspects])] : [];
      if (believed) suspects.clear();
      const departed: string[] = [];
      for (const old of candidates) {
        if (next.has(old)) continue;
        // Redis decides: either this burial or the old node's own renewal comes first
        const [buried, oldEpoch] = await writer.syBury(nodesKey, epochsKey, fencedKey, old);
        if (buried === 0) next.add(old);
        else {
          departed.push(old);
          if (oldEpoch) rememberFenced(old, oldEpoch);
          sweepLater(old);
        }
      }
      live = believed ? next : new Set([...live, ...next]);
      declareDead(departed);
      if (bus.up && now - lastSelfPing > renewMs * 3) {
        counters.resubscribes++;
        lastSelfPing = now;
        log('warn', 'the inbox subscription went quiet: resubscribing', { node });
        bus.resubscribe(inbox(node));
      }
      // frames held while the lease was in doubt go now
      if (dirty.size > 0) scheduleFlush();
    } catch (error) {
      renewingSince = undefined;
      log('debug', 'lease renewal failed', { error: String(error) });
    }
  }

  /**
   * The cluster declared this incarnation dead while it could not run: everything it holds and
   * everything it queued is stale. It drops all of it, has the node drop its rooms, and comes
   * back as a new incarnation with an empty hand.
   */
  function fence(): void {
    counters.fenced++;
    log('warn', 'the cluster declared this node dead while it was paused: starting afresh', {
      node,
    });
    fencing = true;
    try {
      for (const out of outbound.values())
        counters.fencedFrames += out.frames.length + out.waiting.length;
      outbound.clear();
      dirty.clear();
      inbound.clear();
      mine.ids.clear();
      mine.homes.clear();
      for (const listener of fenceListeners) listener();
    } finally {
      fencing = false;
    }
    epoch = randomBytes(4).toString('hex');
    // the view of the others is as stale: nobody is believed dead for a lease
    counters.renewals = 0;
    renewingSince = undefined;
  }

  /** `departed` died: the view is updated before anyone hears, so a listener that asks for a home never gets a dead node. */
  function declareDead(departed: readonly string[]): void {
    for (const old of departed) {
      counters.nodeDeaths++;
      live.delete(old);
      dead.add(old);
      inbound.delete(old);
      outbound.delete(old);
      dirty.delete(old);
    }
    for (const old of departed) for (const listener of downListeners) listener(old);
  }

  /**
   * The node that buried `other` sweeps what still names it, once the others had time to take
   * over its rooms (from the mirror) and its members' ids: only entries that still name it go,
   * each by a compare-and-delete, and the sweep stops if `other` holds a lease again (a restart
   * under the same id). Links are unique per incarnation, so a restarted node's ids never match.
   */
  function sweepLater(other: string): void {
    const timer = setTimeout(() => {
      sweeps.delete(timer);
      sweep(other).catch((error: unknown) =>
        log('warn', 'sweeping a dead node failed', { node: other, error: String(error) }),
      );
    }, sweepDelayMs);
    timer.unref?.();
    sweeps.add(timer);
  }

  async function sweep(other: string): Promise<void> {
    const key = ownKey(other);
    let cursor = '0';
    do {
      if (closed || (await writer.syAlive(nodesKey, other)) === 1) return;
      const [next, entries] = await writer.sscan(key, cursor, 'COUNT', 200);
      cursor = next;
      for (const entry of entries) {
        // `r|<room>` (any characters), `i|<id>|<link>` (links hold no `|`)
        const rest = entry.slice(2);
        const bar = rest.lastIndexOf('|');
        counters.swept += entry.startsWith('r|')
          ? await writer.syVacate(roomKey(rest), mirrorKey(rest), other)
          : await writer.syDropId(idKey(rest.slice(0, bar)), other, rest.slice(bar + 1));
      }
      if (entries.length > 0) await writer.srem(key, ...entries);
    } while (cursor !== '0');
    log('info', 'swept what the directory held of a dead node', { node: other });
  }

  function rememberFenced(other: string, otherEpoch: string): void {
    fencedEpochs.delete(other);
    fencedEpochs.set(other, otherEpoch);
    if (fencedEpochs.size > MAX_FENCED) fencedEpochs.delete(fencedEpochs.keys().next().value!);
  }

  /** Resolves while this incarnation holds a valid lease; rejects when it does not (or was fenced). */
  async function confirmLease(): Promise<void> {
    if (performance.now() <= leaseUntil) return;
    const before = epoch;
    await renewNow();
    if (epoch !== before || performance.now() > leaseUntil)
      throw new Error('this node holds no lease');
  }

  /** A directory write nobody waits for: not while fenced, and only under a valid lease. */
  function write(run: () => Promise<unknown>): void {
    if (fencing) return;
    const done = performance.now() <= leaseUntil ? run() : confirmLease().then(run);
    done.catch(() => undefined);
  }

  /** Stops renewing and leaves the lease set; what this node sends still goes out. */
  async function leaveLeaseSet(): Promise<void> {
    if (leaving || closed) return;
    leaving = true;
    clearInterval(renewer);
    // a renewal in flight would lease this node again after it left
    await renewing;
    // the goodbyes go out without a lease: nothing a leaving node sends needs one
    leaseUntil = Infinity;
    await writer
      .multi()
      .zrem(nodesKey, node)
      .hdel(epochsKey, node)
      .exec()
      .catch(() => undefined);
  }

  await bus.connect();
  await bus.subscribe(inbox(node));
  await renew();
  const renewer = setInterval(() => void renewNow(), renewMs);
  renewer.unref?.();
  // a queue waiting for the bus is checked for age even when nothing new is sent
  const ager = setInterval(() => dirty.size > 0 && scheduleFlush(), 250);
  ager.unref?.();

  return {
    node,
    get up() {
      return bus.up;
    },
    send(to, frame) {
      if (closed) return;
      if (fencing) return void counters.fencedFrames++;
      let out = outbound.get(to);
      if (!out) {
        out = {
          stream: `${epoch}.${++streams}`,
          frames: [],
          seq: 1,
          waiting: [],
          waitingChars: 0,
          inFlight: false,
        };
        outbound.set(to, out);
      }
      out.frames.push(frame);
      dirty.add(to);
      scheduleFlush();
    },
    onFrame(listener) {
      frameListeners.add(listener);
      return () => frameListeners.delete(listener);
    },
    async home(room, candidate) {
      await confirmLease();
      const key = roomKey(room);
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await writer.get(key);
        let holds = current !== null && live.has(current);
        if (current !== null && !holds && !dead.has(current)) {
          holds = (await writer.syAlive(nodesKey, current)) === 1;
          // a node that died before this one saw it: the next renewal buries it, so that
          // connections still routed to it hear of its death
          if (!holds) {
            suspects.add(current);
            void renewNow();
          }
        }
        if (holds && current !== null) {
          if (current === node) mine.homes.add(room);
          return current;
        }
        if ((await writer.sySwap(key, current ?? '', candidate)) === 1) {
          if (candidate === node) mine.homes.add(room);
          write(() => writer.sadd(ownKey(candidate), owned.room(room)));
          return candidate;
        }
      }
      throw new Error(`the home of ${room} kept changing`);
    },
    vacate(room, holder) {
      if (fencing) return;
      if (holder === node) mine.homes.delete(room);
      write(() => writer.syVacate(roomKey(room), mirrorKey(room), holder));
      write(() => writer.srem(ownKey(holder), owned.room(room)));
    },
    async getId(id) {
      await confirmLease();
      return decodeRecord(await writer.get(idKey(id)));
    },
    async swapId(id, expected, record) {
      await confirmLease();
      const swapped = await writer.sySwap(
        idKey(id),
        expected ? encodeRecord(expected) : '',
        encodeRecord(record),
      );
      if (swapped === 1 && record.home === node) mine.ids.set(id, record);
      if (swapped === 1) write(() => writer.sadd(ownKey(record.home), owned.id(id, record.link)));
      return swapped === 1;
    },
    putId(id, record, force = false) {
      if (fencing) return;
      if (record.home === node) mine.ids.set(id, record);
      const text = encodeRecord(record);
      write(() => writer.syPutId(idKey(id), text, record.home, force ? '1' : '0'));
      write(() => writer.sadd(ownKey(record.home), owned.id(id, record.link)));
    },
    mirror(room, id, entry) {
      const key = mirrorKey(room);
      // `edge` or `edge|principal`: node ids hold no `|`
      const value =
        entry && (entry.principal === undefined ? entry.edge : `${entry.edge}|${entry.principal}`);
      write(() => (value === undefined ? writer.hdel(key, id) : writer.hset(key, id, value)));
    },
    async readMirror(room) {
      await confirmLease();
      const entries = await writer.hgetall(mirrorKey(room));
      return Object.entries(entries).map(([id, value]) => {
        const bar = value.indexOf('|');
        return bar === -1
          ? { id, edge: value }
          : { id, edge: value.slice(0, bar), principal: value.slice(bar + 1) };
      });
    },
    dropId(id, home, link) {
      if (fencing) return;
      const held = mine.ids.get(id);
      if (held && held.home === home && held.link === link) mine.ids.delete(id);
      write(() => writer.syDropId(idKey(id), home, link));
      write(() => writer.srem(ownKey(home), owned.id(id, link)));
    },
    // optimistic for a node this view has not met yet: a claim asks it, and silence is death
    isLive: (other) => live.has(other) || !dead.has(other),
    nodes: () => [...live],
    onNodeDown(listener) {
      downListeners.add(listener);
      return () => downListeners.delete(listener);
    },
    departed(other) {
      if (other === node || dead.has(other)) return;
      // Redis decides, as for a lease that ran out: a node that said goodbye holds none
      writer
        .syBury(nodesKey, epochsKey, fencedKey, other)
        .then(([buried, oldEpoch]) => {
          if (buried !== 1 || dead.has(other)) return;
          if (oldEpoch) rememberFenced(other, oldEpoch);
          sweepLater(other);
          declareDead([other]);
        })
        .catch(() => undefined);
    },
    leave: leaveLeaseSet,
    onFenced(listener) {
      fenceListeners.add(listener);
      return () => fenceListeners.delete(listener);
    },
    stats(): BackplaneStats {
      let queued = 0;
      for (const out of outbound.values()) queued += out.waiting.length + out.frames.length;
      return {
        published: counters.published,
        batches: counters.batches,
        received: counters.received,
        queued,
        dropped: {
          overflow: counters.overflow,
          expired: counters.expired,
          duplicates: counters.duplicates,
          fenced: counters.fencedFrames,
        },
        nodeDeaths: counters.nodeDeaths,
        fenced: counters.fenced,
      };
    },
    get counters() {
      return { ...counters };
    },
    crash() {
      closed = true;
      for (const timer of sweeps) clearTimeout(timer);
      clearInterval(renewer);
      clearInterval(ager);
      bus.disconnect();
    },
    async close() {
      if (closed) return;
      flush();
      await leaveLeaseSet();
      closed = true;
      for (const timer of sweeps) clearTimeout(timer);
      clearInterval(ager);
      await bus.quit();
    },
  };
}

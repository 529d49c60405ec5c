/**
 * A cluster in one process: every node's backplane shares one directory and one bus, frames are
 * delivered in order once per turn of the event loop, and node death (or a pause) is a method
 * call; a node out of the cluster writes nothing. It runs several hubs in one test, and is the
 * reference the Redis backplane is held to.
 */
import type { Backplane, BackplaneStats, IdRecord, MirrorEntry } from './backplane.ts';

/** The shared state of one memory cluster. */
export interface MemoryCluster {
  /** A backplane for node `id` (a new node joins the cluster). */
  join(id: string): Backplane;
  /** The node dies at once: no more frames from or to it; the others hear of it. */
  kill(id: string): void;
  /**
   * The node stops as a paused process would: the others hear it died, and what it sends is
   * lost, but it keeps its state until {@link MemoryCluster.resume}.
   */
  pause(id: string): void;
  /** A paused node runs again: it learns it was fenced, drops its state and rejoins. */
  resume(id: string): void;
  /** Live node ids. */
  readonly nodes: readonly string[];
  /** Who holds `id` now, as the directory records it. */
  idRecord(id: string): IdRecord | undefined;
  /** The home of `room` now. */
  homeOf(room: string): string | undefined;
}

interface MemoryNode {
  readonly id: string;
  readonly frameListeners: Set<(from: string, frame: string) => void>;
  readonly downListeners: Set<(node: string) => void>;
  readonly fencedListeners: Set<() => void>;
  /** Frames for this node, delivered at the next turn. */
  inbox: Array<readonly [from: string, frame: string]>;
  scheduled: boolean;
  counters: {
    published: number;
    batches: number;
    received: number;
    dropped: number;
    fenced: number;
  };
}

/** Creates an empty memory cluster. */
export function createMemoryCluster(): MemoryCluster {
  const live = new Map<string, MemoryNode>();
  const ids = new Map<string, IdRecord>();
  const homes = new Map<string, string>();
  const mirrors = new Map<string, Map<string, MirrorEntry>>();
  const paused = new Map<string, MemoryNode>();
  let deaths = 0;

  function deliver(node: MemoryNode): void {
    node.scheduled = false;
    const frames = node.inbox;
    node.inbox = [];
    if (!live.has(node.id)) return;
    for (const [from, frame] of frames) {
      node.counters.received++;
      for (const listener of node.frameListeners) listener(from, frame);
    }
  }

  function kill(id: string): void {
    const node = live.get(id);
    if (!node) return;
    live.delete(id);
    deaths++;
    for (const other of live.values()) for (const listener of other.downListeners) listener(id);
  }

  function pause(id: string): void {
    const node = live.get(id);
    if (!node) return;
    kill(id);
    paused.set(id, node);
  }

  function resume(id: string): void {
    const node = paused.get(id);
    if (!node) return;
    paused.delete(id);
    node.counters.fenced++;
    // still out of the live set: what the listeners send is lost, as on a fenced Redis node
    for (const listener of node.fencedListeners) listener();
    live.set(id, node);
  }

  function join(id: string): Backplane {
    if (live.has(id)) throw new Error(`node ${id} is in the cluster already`);
    const node: MemoryNode = {
      id,
      frameListeners: new Set(),
      downListeners: new Set(),
      fencedListeners: new Set(),
      inbox: [],
      scheduled: false,
      counters: { published: 0, batches: 0, received: 0, dropped: 0, fenced: 0 },
    };
    live.set(id, node);
    const alive = () => live.get(id) === node;
    return {
      node: id,
      send(to, frame) {
        const target = live.get(to);
        if (!alive() || !target) return void node.counters.dropped++;
        node.counters.published++;
        target.inbox.push([id, frame]);
        if (!target.scheduled) {
          target.scheduled = true;
          node.counters.batches++;
          queueMicrotask(() => deliver(target));
        }
      },
      onFrame(listener) {
        node.frameListeners.add(listener);
        return () => node.frameListeners.delete(listener);
      },
      async home(room, candidate) {
        if (!alive()) throw new Error(`node ${id} is not in the cluster`);
        const holder = homes.get(room);
        if (holder !== undefined && live.has(holder)) return holder;
        homes.set(room, candidate);
        return candidate;
      },
      vacate(room, holder) {
        if (!alive() || homes.get(room) !== holder) return;
        homes.delete(room);
        mirrors.delete(room);
      },
      async getId(key) {
        return ids.get(key);
      },
      async swapId(key, expected, record) {
        if (!alive() || ids.get(key) !== expected) return false;
        ids.set(key, record);
        return true;
      },
      putId(key, record, force = false) {
        if (!alive()) return;
        const held = ids.get(key);
        if (force || !held || held.home === record.home) ids.set(key, record);
      },
      mirror(room, key, entry) {
        if (!alive()) return;
        let members = mirrors.get(room);
        if (entry === undefined) {
          members?.delete(key);
          if (members?.size === 0) mirrors.delete(room);
          return;
        }
        if (!members) mirrors.set(room, (members = new Map()));
        members.set(key, entry);
      },
      async readMirror(room) {
        return [...(mirrors.get(room) ?? [])].map(([key, entry]) => ({ id: key, ...entry }));
      },
      dropId(key, home, link) {
        if (!alive()) return;
        const held = ids.get(key);
        if (held && held.home === home && held.link === link) ids.delete(key);
      },
      isLive: (other) => live.has(other),
      nodes: () => [...live.keys()],
      onNodeDown(listener) {
        node.downListeners.add(listener);
        return () => node.downListeners.delete(listener);
      },
      // in memory a node leaves at close(), and the others hear of it at once
      departed: () => undefined,
      leave: async () => undefined,
      onFenced(listener) {
        node.fencedListeners.add(listener);
        return () => node.fencedListeners.delete(listener);
      },
      stats(): BackplaneStats {
        return {
          published: node.counters.published,
          batches: node.counters.batches,
          received: node.counters.received,
          queued: 0,
          dropped: { nodeGone: node.counters.dropped },
          nodeDeaths: deaths,
          fenced: node.counters.fenced,
        };
      },
      async close() {
        kill(id);
      },
    };
  }

  return {
    join,
    kill,
    pause,
    resume,
    get nodes() {
      return [...live.keys()];
    },
    idRecord: (id) => ids.get(id),
    homeOf: (room) => homes.get(room),
  };
}

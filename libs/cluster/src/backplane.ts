/**
 * What a cluster node needs from the engine that joins the nodes (docs/cluster.md): an ordered
 * inbox per node, a directory of room homes and ids with compare-and-set records, and word of
 * nodes that die. Every record is one key, so the same shape maps onto Redis (and Redis
 * Cluster hash tags) as onto memory.
 */

/** Who holds an id: the node whose hub has the member, and the connection's cluster key. */
export interface IdRecord {
  readonly home: string;
  readonly link: string;
  readonly state: 'live' | 'grace';
  readonly principal?: string;
}

/** A member in a room's mirror: its edge node, and its principal when a token gave one. */
export interface MirrorEntry {
  readonly edge: string;
  readonly principal?: string;
}

/** Counters every backplane keeps (the server's /metrics). */
export interface BackplaneStats {
  /** Frames handed to the bus, and bus messages (batches) they went out in. */
  readonly published: number;
  readonly batches: number;
  readonly received: number;
  /** Frames waiting for the bus (an outage). */
  readonly queued: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly nodeDeaths: number;
  /** Times this node was fenced: declared dead while it could not run, then started afresh. */
  readonly fenced: number;
}

/** The engine under a cluster of hubs. */
export interface Backplane {
  /** This node's id, unique in the cluster. */
  readonly node: string;
  /**
   * Sends one frame to `to`'s inbox. Frames from one node to another arrive in the order sent,
   * or not at all (the destination died); the backplane batches them per destination.
   */
  send(to: string, frame: string): void;
  /** Frames for this node, with their sender. */
  onFrame(listener: (from: string, frame: string) => void): () => void;

  /** The live home of `room`; when it has none, `candidate` becomes it. */
  home(room: string, candidate: string): Promise<string>;
  /** `room` emptied at its home `node`: the home is free again (no-op when another holds it). */
  vacate(room: string, node: string): void;

  getId(id: string): Promise<IdRecord | undefined>;
  /** Replaces `expected` (undefined: no record) with `record`; false when it changed meanwhile. */
  swapId(id: string, expected: IdRecord | undefined, record: IdRecord): Promise<boolean>;
  /**
   * Sets `record` if the id is free or already homed on `record.home` (its holder's own update),
   * or whatever holds it with `force` (a live bind, a room taken over from a dead home).
   */
  putId(id: string, record: IdRecord, force?: boolean): void;
  /** Removes the id if `home` and `link` still hold it. */
  dropId(id: string, home: string, link: string): void;

  /** The home's record of who is in `room`, on which edge, as whom (`undefined`: removes `id`). */
  mirror(room: string, id: string, entry: MirrorEntry | undefined): void;
  /** The mirror of `room`: what a node taking the room over from a dead home restores. */
  readMirror(room: string): Promise<ReadonlyArray<MirrorEntry & { readonly id: string }>>;

  /** Whether `node` holds a lease (is alive, as far as the cluster knows). */
  isLive(node: string): boolean;
  /** Live nodes, this one included. */
  nodes(): readonly string[];
  /**
   * `node` said goodbye (a drain) after leaving the lease set: it is dead to this node now,
   * and its death is reported as if its lease had run out.
   */
  departed(node: string): void;
  /**
   * Stops renewing this node's lease and leaves the lease set, still sending and receiving:
   * what a draining node does before its goodbyes. `close()` follows.
   */
  leave(): Promise<void>;
  /** A node's lease ran out: it is dead to the cluster. */
  onNodeDown(listener: (node: string) => void): () => void;
  /**
   * The cluster declared this node dead while it could not run (a pause past its lease): its
   * rooms and ids have gone to other nodes. Nothing the listener sends or writes leaves the
   * node; afterwards it is a new member of the cluster with an empty hand.
   */
  onFenced(listener: () => void): () => void;
  stats(): BackplaneStats;
  close(): Promise<void>;
}

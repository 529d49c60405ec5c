/**
 * The seam to a cluster (docs/cluster.md): ids are unique across every hub of a cluster, so a
 * hub asks its directory before it lets a connection take an id no member of its own holds, and
 * tells it how its members come and go. Without a directory a hub is a cluster of one.
 */

/** Who asks for an id. */
export interface IdClaimant {
  /** The connection's key across the cluster (`ConnectionContext.link`), if it has one. */
  readonly link?: string;
  readonly principal?: string;
}

/**
 * What the directory decided: `taken`, a live holder elsewhere keeps the id; `unavailable`, the
 * directory cannot be reached (the announcer gets `/error rate-limited` and may retry).
 */
export type IdVerdict = 'granted' | 'taken' | 'unavailable';

/** A member's state as the directory records it. */
export type IdState = 'live' | 'grace' | 'gone';

/** Cluster-wide ids, as a hub sees them. */
export interface IdDirectory {
  /**
   * Asks for `id`, which no member of this hub holds. The directory takes it over from a
   * holder elsewhere that is gone, in its grace window, of the same principal, the same
   * connection moving rooms, or failing a liveness probe (docs/protocol.md §4.3), and has that
   * holder's hub release it; otherwise `taken`.
   */
  claim(id: string, claimant: IdClaimant): Promise<IdVerdict>;
  /** A member of this hub changed state; `gone` releases the id. */
  update(id: string, state: IdState, claimant: IdClaimant): void;
}

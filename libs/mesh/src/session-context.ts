/** What a peer session needs from the mesh that owns it. */
import type {
  MeshData,
  MeshEvents,
  MeshSignaller,
  MeshStats,
  PeerLeftReason,
  PeerLike,
} from './types.ts';
import type { PeerSession } from './session.ts';

export interface SessionContext {
  readonly signaller: MeshSignaller;
  readonly filterCandidate: (candidate: string) => boolean;
  readonly disconnectedMs: number;
  readonly maxRebuilds: number;
  rebuildDelay(attempt: number): number;
  now(): number;
  isMaster(peerId: string): boolean | undefined;
  /** Whether the signaller still knows the peer (it has not left the room). */
  announced(peerId: string): boolean;
  iceServers(peerId: string): Promise<readonly RTCIceServer[]>;
  createPeer(session: PeerSession, iceServers: readonly RTCIceServer[]): PeerLike;
  /** Applies the mesh's track swaps to a new connection. */
  afterCreate(peer: PeerLike): void;
  receive(session: PeerSession, message: MeshData): void;
  sendDefault(session: PeerSession, data: MeshData): void;
  emit<E extends keyof MeshEvents & string>(event: E, ...args: Parameters<MeshEvents[E]>): void;
  error(error: unknown, session: PeerSession): void;
  count(counter: keyof MeshStats): void;
  left(session: PeerSession, reason: PeerLeftReason): void;
}

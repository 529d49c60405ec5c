/** Public types of the mesh: options, peers, channels and the typed event map. */
import type { Emitter } from '@switchyard/protocol';

/** The announce data of a peer, as the signaller keeps it. */
export interface MeshPeerData {
  readonly id: string;
  readonly room?: string;
  readonly [key: string]: unknown;
}

/**
 * What the mesh needs of a signaller: `@switchyard/signaller`'s `createSignaller()` result, or
 * anything shaped like it. Listeners get `(…payload, source, raw)` as rtc-signaller passes them.
 */
export interface MeshSignaller {
  readonly id: string | number;
  readonly peers: ReadonlyMap<string, { readonly id: string; readonly data: MeshPeerData }>;
  on(event: string, listener: (...args: never[]) => void): () => void;
  announce(data?: Record<string, unknown>): void;
  to(target: string): { send(command: string, ...args: unknown[]): void };
}

/** Where a peer connection is; `closed` is final for that peer. */
export type MeshPeerState = 'dialing' | 'negotiating' | 'connected' | 'restarting' | 'closed';

/** Why a peer left the mesh. */
export type PeerLeftReason =
  /** its `/leave` (it left, or the server gave up on it after the grace window) */
  | 'leave'
  /** the peer connection closed and could not be rebuilt in `restart.rebuilds` tries */
  | 'failed'
  /** `mesh.close()` */
  | 'closed';

/** The data a peer channel carries: text, or bytes. */
export type MeshData = string | Uint8Array;

/** One other member of the room, with its peer connection. */
export interface MeshPeer {
  readonly id: string;
  /** Its announce data (profile). */
  readonly data: MeshPeerData;
  /** True when this side makes the offers (the lower id, or always towards rtc-quickconnect). */
  readonly initiator: boolean;
  /** True for an original rtc-quickconnect peer (it announced no `mesh` capability). */
  readonly original: boolean;
  readonly state: MeshPeerState;
  /** Remote streams received so far. */
  readonly streams: readonly MediaStream[];
  /** The current peer connection; it changes when the mesh rebuilds it. */
  readonly connection: RTCPeerConnection | undefined;
  /** Sends on the default channel (queued until connected, with backpressure). */
  send(data: MeshData): void;
}

/** A named channel, multiplexed over each peer's one data channel. */
export interface MeshChannel extends Omit<Emitter<MeshChannelEvents>, 'emit'> {
  readonly name: string;
  /** Sends to one peer, or to every connected peer without `to`. */
  send(data: MeshData, to?: string): void;
  /** Resolves once `to`'s data channel has room again (`bufferedAmount` under 64 KiB). */
  drained(to: string): Promise<void>;
}

/** Events of a {@link MeshChannel}. */
export type MeshChannelEvents = {
  message: (peer: MeshPeer, data: MeshData) => void;
};

/** Mesh events. */
export type MeshEvents = {
  /** ICE reached `connected` for a peer (the first time, or again after a rebuild). */
  'peer:connected': (peer: MeshPeer) => void;
  'peer:state': (peer: MeshPeer, state: MeshPeerState) => void;
  /** Data on the default channel. */
  'peer:data': (peer: MeshPeer, data: MeshData) => void;
  'peer:stream': (peer: MeshPeer, stream: MediaStream) => void;
  'peer:track': (peer: MeshPeer, track: MediaStreamTrack, stream: MediaStream) => void;
  'peer:left': (peer: MeshPeer, reason: PeerLeftReason) => void;
  /** A peer connection failed or a signal was refused; the mesh recovers where it can. */
  error: (error: Error, peer: MeshPeer | undefined) => void;
};

/** ICE servers for every peer, or per peer (called before each peer connection is built). */
export type IceServers =
  | readonly RTCIceServer[]
  | ((peerId: string) => readonly RTCIceServer[] | Promise<readonly RTCIceServer[]>);

/** Options of {@link createMesh}. */
export interface MeshOptions {
  /** The room to announce into. */
  readonly room: string;
  /** More announce attributes (a profile). @default {} */
  readonly profile?: Readonly<Record<string, unknown>>;
  /** Local streams sent to every current and future peer. @default [] */
  readonly streams?: readonly MediaStream[];
  /** ICE servers: no public STUN server is ever added for you. @default [] */
  readonly iceServers?: IceServers;
  /** @default 'all' */
  readonly iceTransportPolicy?: RTCIceTransportPolicy;
  /** Candidates (the `candidate:…` line) to send and accept; e.g. relay only. @default all */
  readonly filterCandidate?: (candidate: string) => boolean;
  /** Label of the data channel; rtc-quickconnect apps must use the same label. @default 'data' */
  readonly channelLabel?: string;
  /** Peers to connect to at most; later ones are ignored until one leaves. @default 8 */
  readonly maxPeers?: number;
  /** Which announced peers to connect to. @default every peer in the room */
  readonly filter?: (data: MeshPeerData) => boolean;
  /** As initiator, offer to receive audio and video even without local tracks of that kind. @default true */
  readonly receiveMedia?: boolean;
  /** Recovery timing. */
  readonly restart?: RestartOptions;
  /** Builds each peer connection. @default simple-peer (with `wrtc` in Node) */
  readonly peerFactory?: PeerFactory;
  /** A WebRTC implementation for Node, e.g. `@roamhq/wrtc`. @default the browser's */
  readonly wrtc?: WebRtcImplementation;
}

/** When the mesh restarts ICE and rebuilds connections. */
export interface RestartOptions {
  /** ICE `disconnected` for this long triggers an ICE restart. @default 2000 */
  readonly disconnectedMs?: number;
  /** Rebuilds of a closed connection before the peer counts as left. @default 5 */
  readonly rebuilds?: number;
  /** Delay before rebuild `attempt` (0-based). @default 250 ms · 2^attempt, at most 5 s */
  readonly rebuildDelay?: (attempt: number) => number;
}

/** `RTCPeerConnection` and friends, for Node. */
export interface WebRtcImplementation {
  readonly RTCPeerConnection: unknown;
  readonly RTCSessionDescription: unknown;
  readonly RTCIceCandidate: unknown;
}

/** A signal between two peer connections, in simple-peer's shapes. */
export type PeerSignal =
  | { readonly type: 'offer' | 'answer'; readonly sdp: string }
  | { readonly type: 'candidate'; readonly candidate: RTCIceCandidateInit }
  | { readonly type: 'renegotiate'; readonly renegotiate: true }
  | {
      readonly type: 'transceiverRequest';
      readonly transceiverRequest: { readonly kind: string; readonly init?: RTCRtpTransceiverInit };
    };

/** What the mesh uses of a simple-peer instance; a test or another library can supply its own. */
export interface PeerLike {
  readonly destroyed: boolean;
  offerOptions: RTCOfferOptions;
  signal(signal: PeerSignal): void;
  /** Queues data (backpressure: false when the caller should wait for `drain`). */
  write(data: MeshData): boolean;
  addStream(stream: MediaStream): void;
  removeStream(stream: MediaStream): void;
  replaceTrack(oldTrack: MediaStreamTrack, newTrack: MediaStreamTrack, stream: MediaStream): void;
  addTransceiver(kind: string, init?: RTCRtpTransceiverInit): void;
  negotiate(): void;
  destroy(): void;
  on(event: 'signal', listener: (signal: PeerSignal) => void): unknown;
  on(event: 'iceStateChange', listener: (state: RTCIceConnectionState) => void): unknown;
  on(event: 'data', listener: (data: unknown) => void): unknown;
  on(event: 'stream', listener: (stream: MediaStream) => void): unknown;
  on(event: 'track', listener: (track: MediaStreamTrack, stream: MediaStream) => void): unknown;
  on(event: 'connect' | 'close' | 'drain' | 'negotiated', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(): unknown;
  /** simple-peer's connection (private there, read for `MeshPeer.connection` and stats). */
  readonly _pc?: RTCPeerConnection;
  readonly _channel?: { readonly bufferedAmount: number } | null;
}

/** What a {@link PeerFactory} is asked to build. */
export interface PeerInit {
  readonly initiator: boolean;
  readonly config: RTCConfiguration;
  readonly channelName: string;
  readonly streams: readonly MediaStream[];
  /** Applied to every local SDP before it is sent. */
  readonly sdpTransform: (sdp: string) => string;
  readonly wrtc?: WebRtcImplementation;
}

/** Builds one peer connection. */
export type PeerFactory = (init: PeerInit) => PeerLike;

/** Counters for tests and dashboards. */
export interface MeshStats {
  /** Signals for an earlier connection of a peer (a stale session id), dropped. */
  readonly staleSignals: number;
  /** Signals that were malformed or of an unknown shape, dropped. */
  readonly invalidSignals: number;
  readonly iceRestarts: number;
  readonly rebuilds: number;
}

/** The mesh. */
export interface Mesh extends Omit<Emitter<MeshEvents>, 'emit'>, AsyncDisposable {
  /** Peers by id, in the order they were seen. */
  readonly peers: ReadonlyMap<string, MeshPeer>;
  /** A named channel (the same object for the same name). */
  channel(name: string): MeshChannel;
  /** Sends on the default channel to every connected peer. */
  broadcast(data: MeshData): void;
  addStream(stream: MediaStream): void;
  removeStream(stream: MediaStream): void;
  /** Swaps a local track on every peer without renegotiating (screen share, camera switch). */
  replaceTrack(oldTrack: MediaStreamTrack, newTrack: MediaStreamTrack): void;
  /** Restarts ICE with one peer (the mesh does it by itself after `disconnected`). */
  restartIce(peerId: string): void;
  stats(): MeshStats;
  /** Ends every peer connection; the signaller stays (call its `leave()` to leave the room). */
  close(): void;
}

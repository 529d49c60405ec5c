/**
 * One peer of the mesh: its simple-peer connection and the signalling that builds, restarts and
 * rebuilds it (docs/protocol.md §8 describes the messages). Roles: the initiator, the only side
 * that offers, is the lower id between mesh peers and always this side towards an original
 * rtc-quickconnect peer, so offers never collide (no glare by construction).
 */
import { filterSdp, readCandidate, readNegotiate, readReady, readSdp, sessionId } from './wire.ts';
import { asMeshData } from './framing.ts';
import type {
  MeshData,
  MeshPeer,
  MeshPeerData,
  MeshPeerState,
  PeerLike,
  PeerSignal,
} from './types.ts';
import type { SessionContext } from './session-context.ts';

/** `/ready` retries until the other side has answered: quickconnect's 100 ms, then slower. */
const READY_DELAYS = [100, 300, 700, 1500, 3000];
/** A `/reconnect` echo arriving this soon after our own rebuild is not a new request. */
const ECHO_WINDOW_MS = 2000;

type Timer = ReturnType<typeof setTimeout>;

export class PeerSession implements MeshPeer {
  state: MeshPeerState = 'dialing';
  readonly streams: MediaStream[] = [];
  private peer: PeerLike | undefined;
  /** Bumped by every build: events and async results of an earlier build are ignored. */
  private generation = 0;
  private localSid = sessionId();
  private remoteSid: string | undefined;
  /** The other side knows our current session id. */
  private acked = false;
  /** The other side sent `/ready` for this connection: signals may go out. */
  private remoteReady = false;
  private outbox: [command: string, payload: Record<string, unknown>][] = [];
  private inbox: PeerSignal[] = [];
  private connectedOnce = false;
  private blocked = false;
  private drainWaiters: (() => void)[] = [];
  private readyAttempt = 0;
  private rebuildAttempt = 0;
  private lastBuildAt = 0;
  private readyTimer: Timer | undefined;
  private disconnectTimer: Timer | undefined;
  private rebuildTimer: Timer | undefined;

  constructor(
    private readonly context: SessionContext,
    readonly id: string,
    public data: MeshPeerData,
    readonly original: boolean,
    readonly initiator: boolean,
  ) {}

  get connection(): RTCPeerConnection | undefined {
    return this.peer?._pc;
  }

  /** The live peer connection, for the mesh's media operations. */
  peerLike(): PeerLike | undefined {
    return this.peer && !this.peer.destroyed ? this.peer : undefined;
  }

  /** Whether the connection is up; a signalling outage alone never takes it down. */
  get connected(): boolean {
    return this.state === 'connected' || this.state === 'restarting';
  }

  start(): void {
    this.build();
  }

  send(data: MeshData): void {
    this.context.sendDefault(this, data);
  }

  /** Queues one framed message; false when the caller should wait for {@link drained}. */
  write(message: MeshData): boolean {
    const peer = this.peer;
    if (!peer || peer.destroyed) return true;
    if (!peer.write(message)) this.blocked = true;
    return !this.blocked;
  }

  drained(): Promise<void> {
    if (!this.blocked || !this.peer) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  // --- inbound signalling --------------------------------------------------------------------

  receiveReady(payload: unknown): void {
    if (this.original) {
      if (!this.remoteReady) this.markRemoteReady();
      return;
    }
    const ready = readReady(payload);
    if (!ready) return this.context.count('invalidSignals');
    // a new session id from a peer we were paired with: it rebuilt its connection, so do we
    if (this.remoteSid !== undefined && ready.sid !== this.remoteSid) this.build();
    this.remoteSid ??= ready.sid;
    if (ready.peer === this.localSid) this.acked = true;
    if (!this.remoteReady) this.markRemoteReady();
    if (ready.peer !== this.localSid) this.sendReady();
    if (this.acked) this.clearTimer('readyTimer');
  }

  receiveSdp(payload: unknown): void {
    const sdp = readSdp(payload);
    if (!sdp) return this.context.count('invalidSignals');
    if (!this.current(sdp)) return;
    if (this.state === 'dialing') this.setState('negotiating');
    this.deliver({ type: sdp.type, sdp: filterSdp(sdp.sdp, this.context.filterCandidate) });
  }

  receiveCandidate(payload: unknown): void {
    const candidate = readCandidate(payload);
    if (!candidate) return this.context.count('invalidSignals');
    if (!this.current(candidate) || !this.context.filterCandidate(candidate.candidate)) return;
    const { sdpMid, sdpMLineIndex } = candidate;
    this.deliver({
      type: 'candidate',
      candidate: { candidate: candidate.candidate, sdpMid, sdpMLineIndex },
    });
  }

  receiveNegotiate(payload: unknown): void {
    const request = readNegotiate(payload ?? {});
    if (!request) return this.context.count('invalidSignals');
    if (!this.current(request) || !this.initiator || !this.peer) return;
    if (request.iceRestart) return this.restartIce();
    for (const kind of request.transceivers ?? []) {
      this.peer.addTransceiver(kind, { direction: 'recvonly' });
    }
    this.deliver({ type: 'renegotiate', renegotiate: true });
  }

  /** Asks the initiator for m-lines to send new tracks on (a non-initiator's `addStream`). */
  requestTransceivers(kinds: readonly string[]): void {
    if (this.initiator || this.original || kinds.length === 0) return;
    this.sendSignal('/negotiate', { requestOfferer: false, transceivers: kinds });
  }

  receiveRequestOffer(): void {
    if (this.initiator && this.peer && !this.peer.destroyed) this.peer.negotiate();
  }

  /** quickconnect's `/reconnect`: the sender rebuilt or wants us to; `{}` is the master's echo. */
  receiveReconnect(payload: unknown): void {
    const echo = payload !== undefined;
    if (echo && this.context.now() - this.lastBuildAt < ECHO_WINDOW_MS) return;
    this.build();
    if (this.original && this.context.isMaster(this.id)) this.signal('/reconnect', {});
  }

  /** Signals from an earlier connection of either side are dropped, counted. */
  private current(payload: { readonly sid?: string; readonly to?: string }): boolean {
    if (this.original) return true;
    const stale =
      payload.to !== this.localSid ||
      (this.remoteSid !== undefined && payload.sid !== this.remoteSid);
    if (stale) this.context.count('staleSignals');
    else this.acked = true;
    return !stale;
  }

  private deliver(signal: PeerSignal): void {
    if (!this.peer) {
      this.inbox.push(signal);
      return;
    }
    if (this.peer.destroyed) return;
    try {
      this.peer.signal(signal);
    } catch (error) {
      this.context.error(error, this);
    }
  }

  // --- outbound signalling -------------------------------------------------------------------

  private markRemoteReady(): void {
    this.remoteReady = true;
    for (const [command, payload] of this.outbox.splice(0)) this.signal(command, payload);
  }

  /** Sends now, or once the other side is ready. */
  private sendSignal(command: string, payload: Record<string, unknown>): void {
    if (this.remoteReady) this.signal(command, payload);
    else this.outbox.push([command, payload]);
  }

  private signal(command: string, payload: Record<string, unknown>): void {
    const sessions = this.original ? {} : { sid: this.localSid, to: this.remoteSid };
    this.context.signaller.to(this.id).send(command, { ...payload, ...sessions });
  }

  private sendReady(): void {
    const to = this.context.signaller.to(this.id);
    // an original's /ready handler reads its first argument as the source: no payload, ever
    if (this.original) return to.send('/ready');
    to.send(
      '/ready',
      this.remoteSid ? { sid: this.localSid, peer: this.remoteSid } : { sid: this.localSid },
    );
  }

  /**
   * Towards an original master, `/ready` waits until we are connected: it would make the
   * original offer too, and only our offer carries every local track (quickconnect's offers
   * carry its own kinds only).
   */
  get holdsReady(): boolean {
    return this.original && this.context.isMaster(this.id) !== true && !this.connectedOnce;
  }

  private scheduleReady(): void {
    this.clearTimer('readyTimer');
    if (this.state === 'closed' || this.holdsReady) return;
    if (this.remoteReady && (this.original || this.acked)) return;
    const delay = READY_DELAYS[Math.min(this.readyAttempt++, READY_DELAYS.length - 1)]!;
    this.readyTimer = setTimeout(() => {
      this.sendReady();
      this.scheduleReady();
    }, delay);
  }

  // --- the connection ------------------------------------------------------------------------

  /** (Re)builds the peer connection with a fresh session id. */
  private build(): void {
    this.clearTimer('rebuildTimer');
    this.clearTimer('disconnectTimer');
    this.teardown();
    const generation = ++this.generation;
    this.lastBuildAt = this.context.now();
    this.localSid = sessionId();
    this.remoteSid = undefined;
    this.acked = false;
    this.remoteReady = false;
    this.outbox = [];
    this.inbox = [];
    this.connectedOnce = false;
    this.readyAttempt = 0;
    this.setState('dialing');
    if (!this.holdsReady) this.sendReady();
    this.scheduleReady();
    this.context.iceServers(this.id).then(
      (iceServers) => {
        if (generation === this.generation && this.state !== 'closed') this.attach(iceServers);
      },
      (error: unknown) => {
        this.context.error(error, this);
        if (generation === this.generation) this.scheduleRebuild();
      },
    );
  }

  private attach(iceServers: readonly RTCIceServer[]): void {
    const generation = this.generation;
    const peer = this.context.createPeer(this, iceServers);
    this.peer = peer;
    const live = () => generation === this.generation;
    peer.on('signal', (signal) => live() && this.outgoing(signal));
    peer.on('iceStateChange', (state) => live() && this.iceState(state));
    peer.on('data', (data) => {
      const message = asMeshData(data);
      if (live() && message !== undefined) this.context.receive(this, message);
    });
    peer.on('stream', (stream) => {
      if (!live()) return;
      this.streams.push(stream);
      this.context.emit('peer:stream', this, stream);
    });
    peer.on(
      'track',
      (track, stream) => live() && this.context.emit('peer:track', this, track, stream),
    );
    peer.on('negotiated', () => {
      if (live() && peer.offerOptions.iceRestart) peer.offerOptions = {};
    });
    peer.on('drain', () => {
      this.blocked = false;
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    });
    peer.on('error', (error) => live() && this.context.error(error, this));
    peer.on('close', () => live() && this.scheduleRebuild());
    this.context.afterCreate(peer);
    for (const signal of this.inbox.splice(0)) this.deliver(signal);
  }

  private outgoing(signal: PeerSignal): void {
    switch (signal.type) {
      case 'offer':
      case 'answer':
        if (this.state === 'dialing') this.setState('negotiating');
        return this.sendSignal('/sdp', { sdp: signal.sdp, type: signal.type });
      case 'candidate': {
        const { candidate, sdpMid, sdpMLineIndex } = signal.candidate;
        if (!candidate || !this.context.filterCandidate(candidate)) return;
        return this.sendSignal('/candidate', { candidate, sdpMid, sdpMLineIndex });
      }
      case 'renegotiate':
        return this.sendSignal('/negotiate', { requestOfferer: false });
      case 'transceiverRequest':
        // rtc.io has no way to ask an original for a transceiver
        if (this.original) return;
        return this.sendSignal('/negotiate', {
          requestOfferer: false,
          transceivers: [signal.transceiverRequest.kind],
        });
    }
  }

  private iceState(state: RTCIceConnectionState): void {
    if (state === 'connected' || state === 'completed') {
      this.clearTimer('disconnectTimer');
      this.rebuildAttempt = 0;
      const first = !this.connectedOnce;
      this.connectedOnce = true;
      if (this.state !== 'connected') this.setState('connected');
      if (!first) return;
      // towards an original master, our held /ready goes out now (see holdsReady)
      if (this.original && this.context.isMaster(this.id) !== true) this.sendReady();
      this.context.emit('peer:connected', this);
    } else if (state === 'disconnected') {
      this.clearTimer('disconnectTimer');
      this.disconnectTimer = setTimeout(() => this.restartIce(), this.context.disconnectedMs);
    }
  }

  /** An ICE restart on the live connection; the non-initiator asks the initiator for it. */
  restartIce(): void {
    const peer = this.peer;
    if (!peer || peer.destroyed || this.state === 'closed') return;
    this.context.count('iceRestarts');
    this.setState('restarting');
    if (this.initiator) {
      peer.offerOptions = { ...peer.offerOptions, iceRestart: true };
      peer.negotiate();
    } else if (!this.original) {
      this.sendSignal('/negotiate', { requestOfferer: false, iceRestart: true });
    }
  }

  /** The connection closed (ICE failed, the channel closed): rebuild it, with backoff. */
  private scheduleRebuild(): void {
    if (this.state === 'closed') return;
    this.teardown();
    // a peer the room no longer holds is gone, not failing
    if (!this.context.announced(this.id)) return this.context.left(this, 'leave');
    if (this.rebuildAttempt >= this.context.maxRebuilds) return this.context.left(this, 'failed');
    this.setState('restarting');
    const delay = this.context.rebuildDelay(this.rebuildAttempt++);
    this.clearTimer('rebuildTimer');
    this.rebuildTimer = setTimeout(() => {
      this.context.count('rebuilds');
      this.build();
      if (this.original) this.context.signaller.to(this.id).send('/reconnect');
    }, delay);
  }

  /** Ends this peer for good. */
  close(): void {
    if (this.state === 'closed') return;
    this.generation++;
    for (const timer of ['readyTimer', 'disconnectTimer', 'rebuildTimer'] as const)
      this.clearTimer(timer);
    this.teardown();
    this.setState('closed');
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private teardown(): void {
    const peer = this.peer;
    this.peer = undefined;
    this.blocked = false;
    if (!peer) return;
    peer.removeAllListeners();
    // destroy() may still emit an error; nobody should hear it
    peer.on('error', () => undefined);
    peer.destroy();
  }

  private setState(state: MeshPeerState): void {
    if (this.state === state) return;
    this.state = state;
    this.context.emit('peer:state', this, state);
  }

  private clearTimer(name: 'readyTimer' | 'disconnectTimer' | 'rebuildTimer'): void {
    const timer = this[name];
    if (timer !== undefined) clearTimeout(timer);
    this[name] = undefined;
  }
}

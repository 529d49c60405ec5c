/**
 * `createMesh`: one simple-peer connection to every other member of a room, set up over the
 * signaller with rtc-quickconnect's messages (docs/protocol.md §8), so original quickconnect
 * apps join the same mesh.
 */
import { createEmitter, type Emitter } from '@switchyard/protocol';
import { simplePeerFactory } from '#simple-peer';
import { DEFAULT_CHANNEL, frame, unframe } from './framing.ts';
import { PeerSession } from './session.ts';
import type { SessionContext } from './session-context.ts';
import { filterSdp, MESH_CAPABILITY } from './wire.ts';
import type {
  Mesh,
  MeshChannel,
  MeshChannelEvents,
  MeshData,
  MeshEvents,
  MeshOptions,
  MeshPeer,
  MeshPeerData,
  MeshSignaller,
  MeshStats,
  PeerLike,
} from './types.ts';

const defaultRebuildDelay = (attempt: number) => Math.min(250 * 2 ** attempt, 5000);
/** Commands of the quickconnect message set the mesh answers; `/ping` and `/endofcandidates` are ignored. */
const HANDLERS = {
  ready: (session, payload) => session.receiveReady(payload),
  sdp: (session, payload) => session.receiveSdp(payload),
  candidate: (session, payload) => session.receiveCandidate(payload),
  negotiate: (session, payload) => session.receiveNegotiate(payload),
  requestoffer: (session) => session.receiveRequestOffer(),
  reconnect: (session, payload) => session.receiveReconnect(payload),
} satisfies Record<string, (session: PeerSession, payload: unknown) => void>;

/**
 * Creates a mesh over `signaller` and announces into `options.room`.
 *
 * @example
 * ```ts
 * const mesh = createMesh(signaller, { room: 'demo', streams: [camera] });
 * mesh.on('peer:connected', (peer) => peer.send(`hello from ${signaller.id}`));
 * mesh.on('peer:data', (peer, data) => console.log(peer.id, data));
 * mesh.on('peer:stream', (peer, stream) => show(peer.id, stream));
 * mesh.on('peer:left', (peer) => hide(peer.id));
 * ```
 */
export function createMesh(signaller: MeshSignaller, options: MeshOptions): Mesh {
  const myId = String(signaller.id);
  const events = createEmitter<MeshEvents>();
  const sessions = new Map<string, PeerSession>();
  const channels = new Map<string, ReturnType<typeof createChannel>>();
  const localStreams: MediaStream[] = [...(options.streams ?? [])];
  /** Track swaps (`replaceTrack`), keyed by the track first added, so new peers get them too. */
  const swaps = new Map<MediaStreamTrack, MediaStreamTrack>();
  const counters = { staleSignals: 0, invalidSignals: 0, iceRestarts: 0, rebuilds: 0 };
  const filterCandidate = options.filterCandidate ?? (() => true);
  const peerFactory = options.peerFactory ?? simplePeerFactory;
  const maxPeers = options.maxPeers ?? 8;
  let closed = false;

  const context: SessionContext = {
    signaller,
    filterCandidate,
    disconnectedMs: options.restart?.disconnectedMs ?? 2000,
    maxRebuilds: options.restart?.rebuilds ?? 5,
    rebuildDelay: options.restart?.rebuildDelay ?? defaultRebuildDelay,
    now: () => Date.now(),
    isMaster: (peerId) => myId < peerId,
    announced: (peerId) => signaller.peers.has(peerId),
    async iceServers(peerId) {
      const servers = options.iceServers ?? [];
      return typeof servers === 'function' ? servers(peerId) : servers;
    },
    createPeer(session, iceServers) {
      const peer = peerFactory({
        initiator: session.initiator,
        config: {
          iceServers: [...iceServers],
          iceTransportPolicy: options.iceTransportPolicy ?? 'all',
        },
        channelName: options.channelLabel ?? 'data',
        streams: localStreams,
        sdpTransform: (sdp) => filterSdp(sdp, filterCandidate),
        ...(options.wrtc ? { wrtc: options.wrtc } : {}),
      });
      if (session.initiator && (options.receiveMedia ?? true)) receiveEveryKind(peer);
      return peer;
    },
    afterCreate(peer) {
      for (const [added, current] of swaps) {
        const stream = localStreams.find((s) => s.getTracks().includes(added));
        if (stream && added !== current) peer.replaceTrack(added, current, stream);
      }
    },
    receive(session, message) {
      const unframed = unframe(message);
      if (!unframed) return void counters.invalidSignals++;
      if (unframed.channel === DEFAULT_CHANNEL) events.emit('peer:data', session, unframed.data);
      else channels.get(unframed.channel)?.deliver(session, unframed.data);
    },
    sendDefault(session, data) {
      session.write(frame(DEFAULT_CHANNEL, data));
    },
    emit: (event, ...args) => events.emit(event, ...args),
    error(error, session) {
      events.emit('error', error instanceof Error ? error : new Error(String(error)), session);
    },
    count(counter) {
      counters[counter]++;
    },
    left(session, reason) {
      if (sessions.get(session.id) !== session) return;
      sessions.delete(session.id);
      session.close();
      events.emit('peer:left', session, reason);
      // a free slot: connect to a peer that was over the cap, once the signaller has
      // forgotten the one that left (it does so after its `message:leave` listeners)
      queueMicrotask(() => {
        for (const peer of signaller.peers.values()) consider(peer.data);
      });
    },
  };

  /** As initiator, m-lines for kinds we do not send, so the other side can send them. */
  function receiveEveryKind(peer: PeerLike): void {
    const kinds = new Set(localStreams.flatMap((s) => s.getTracks().map((t) => t.kind)));
    for (const kind of ['audio', 'video']) {
      if (!kinds.has(kind)) peer.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  /** A peer announced (or re-announced): connect to it if it is ours to connect to. */
  function consider(data: MeshPeerData): void {
    if (closed) return;
    const id = String(data.id);
    if (id === myId) return;
    const existing = sessions.get(id);
    if (data.room !== options.room) {
      if (existing) context.left(existing, 'leave');
      return;
    }
    if (existing) {
      existing.data = data;
      return;
    }
    if (options.filter && !options.filter(data)) return;
    if (sessions.size >= maxPeers) return;
    const original = data[MESH_CAPABILITY] !== 1;
    const session = new PeerSession(context, id, data, original, original || myId < id);
    sessions.set(id, session);
    session.start();
  }

  function onLeave(payload: unknown, source: { id: string }): void {
    const id = source.id || String((payload as { id?: unknown } | undefined)?.id ?? '');
    const session = sessions.get(id);
    if (!session) return;
    const reason = (payload as { reason?: unknown } | undefined)?.reason;
    // the server lost the peer's signalling, not the peer: a live call goes on and ends by
    // itself if the peer is really gone (ICE fails, the channel closes)
    if (reason === 'disconnect' && session.connected && !session.original) return;
    context.left(session, 'leave');
  }

  /** rtc-signaller listeners get `(…payload, source, raw)`: the source is always second to last. */
  function route(handle: (session: PeerSession, payload: unknown) => void) {
    return (...args: unknown[]) => {
      const source = args[args.length - 2] as { id?: unknown } | undefined;
      const session = typeof source?.id === 'string' ? sessions.get(source.id) : undefined;
      if (session && session.state !== 'closed')
        handle(session, args.length >= 3 ? args[0] : undefined);
    };
  }

  const unsubscribe = [
    signaller.on('peer:announce', (data: MeshPeerData) => consider(data)),
    signaller.on('peer:update', (data: MeshPeerData) => consider(data)),
    signaller.on('message:leave', (payload: unknown, source: { id: string }) =>
      onLeave(payload, source),
    ),
    ...Object.entries(HANDLERS).map(([command, handle]) =>
      signaller.on(`message:${command}`, route(handle)),
    ),
  ];
  signaller.announce({ ...options.profile, room: options.room, [MESH_CAPABILITY]: 1 });
  // peers the signaller met before the mesh existed
  for (const peer of signaller.peers.values()) consider(peer.data);

  function createChannel(name: string) {
    const channelEvents = createEmitter<MeshChannelEvents>();
    const targets = (to?: string) =>
      to === undefined
        ? [...sessions.values()].filter((s) => !s.original)
        : [sessions.get(to)].filter((s): s is PeerSession => s !== undefined && !s.original);
    const channel: MeshChannel & { deliver(peer: MeshPeer, data: MeshData): void } = {
      name,
      on: channelEvents.on,
      once: channelEvents.once,
      off: channelEvents.off,
      listenerCount: channelEvents.listenerCount,
      send(data, to) {
        const message = frame(name, data);
        for (const session of targets(to)) session.write(message);
      },
      drained: (to) => sessions.get(to)?.drained() ?? Promise.resolve(),
      deliver: (peer, data) => channelEvents.emit('message', peer, data),
    };
    return channel;
  }

  function close(): void {
    if (closed) return;
    closed = true;
    for (const off of unsubscribe) off();
    for (const session of [...sessions.values()]) context.left(session, 'closed');
  }

  const emitter: Omit<Emitter<MeshEvents>, 'emit'> = {
    on: events.on,
    once: events.once,
    off: events.off,
    listenerCount: events.listenerCount,
  };
  return {
    ...emitter,
    peers: sessions,
    channel(name) {
      if (name === DEFAULT_CHANNEL) throw new RangeError('a channel needs a name');
      let channel = channels.get(name);
      if (!channel) channels.set(name, (channel = createChannel(name)));
      return channel;
    },
    broadcast(data) {
      const message = frame(DEFAULT_CHANNEL, data);
      for (const session of sessions.values()) session.write(message);
    },
    addStream(stream) {
      if (localStreams.includes(stream)) return;
      localStreams.push(stream);
      const kinds = stream.getTracks().map((track) => track.kind);
      for (const session of sessions.values()) {
        session.peerLike()?.addStream(stream);
        session.requestTransceivers(kinds);
      }
    },
    removeStream(stream) {
      const index = localStreams.indexOf(stream);
      if (index < 0) return;
      localStreams.splice(index, 1);
      for (const session of sessions.values()) session.peerLike()?.removeStream(stream);
    },
    replaceTrack(oldTrack, newTrack) {
      const added = [...swaps].find(([, current]) => current === oldTrack)?.[0] ?? oldTrack;
      const stream = localStreams.find((s) => s.getTracks().includes(added));
      if (!stream) throw new RangeError('replaceTrack: the track is not in a stream of this mesh');
      swaps.set(added, newTrack);
      for (const session of sessions.values())
        session.peerLike()?.replaceTrack(oldTrack, newTrack, stream);
    },
    restartIce(peerId) {
      sessions.get(peerId)?.restartIce();
    },
    stats: (): MeshStats => ({ ...counters }),
    close,
    async [Symbol.asyncDispose]() {
      close();
    },
  };
}

/**
 * Real WebRTC for Node tests: `@roamhq/wrtc` connections and `simple-peer` instances, negotiated
 * in-process over loopback only. wrtc gathers host candidates on every interface (here also
 * 192.0.2.2 and fd00::2); these helpers pass on only UDP candidates on 127.0.0.1, in trickle
 * events and in SDP alike.
 */
import wrtc from '@roamhq/wrtc';
import SimplePeer from 'simple-peer';
import { waitUntil } from '@switchyard/testing';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { isLoopbackCandidate, loopbackSdp } from './loopback.test-helper.ts';

export { isLoopbackCandidate, loopbackSdp };

const CONFIG: RTCConfiguration = { iceServers: [] };

/** A simple-peer signal with non-loopback candidates removed (undefined: drop it). */
export function loopbackSignal(data: SimplePeer.SignalData): SimplePeer.SignalData | undefined {
  if ('candidate' in data && data.candidate) {
    return isLoopbackCandidate(data.candidate.candidate) ? data : undefined;
  }
  if ('sdp' in data && typeof data.sdp === 'string') return { ...data, sdp: loopbackSdp(data.sdp) };
  return data;
}

/** Both ends of one data channel. */
export interface ChannelPair {
  readonly clientPc: RTCPeerConnection;
  readonly serverPc: RTCPeerConnection;
  readonly client: RTCDataChannel;
  readonly server: RTCDataChannel;
}

/**
 * What a negotiation passes on between the two sides: each side's candidates as the other
 * should see them (see `udpGate`). Without it, loopback candidates pass unchanged.
 */
export interface CandidatePath {
  readonly offerer: (candidate: string) => string;
  readonly answerer: (candidate: string) => string;
}

/** Every connection a test makes, closed together (wrtc keeps the process alive otherwise). */
export interface WebRtcKit extends AsyncDisposable {
  peerConnection(): RTCPeerConnection;
  simplePeer(options?: SimplePeer.Options): SimplePeer.Instance;
  /**
   * Offers from `offerer` to `answerer` and trickles loopback candidates both ways; with `path`
   * every candidate is rewritten by it and none travels in the SDP.
   */
  negotiate(
    offerer: RTCPeerConnection,
    answerer: RTCPeerConnection | SimplePeer.Instance,
    path?: CandidatePath,
  ): void;
  /** Forwards signals between two simple-peers (one of them the initiator). */
  wire(a: SimplePeer.Instance, b: SimplePeer.Instance): void;
  /** Two connected wrtc connections and the open `switchyard` channel between them. */
  channelPair(): Promise<ChannelPair>;
  /** Connections made so far that are not closed yet. */
  readonly open: number;
  close(): void;
}

/** Trickles `from`'s loopback candidates to `add` once `ready` (the far side's remote description). */
function trickle(
  from: RTCPeerConnection,
  ready: Promise<unknown>,
  add: (candidate: RTCIceCandidateInit) => unknown,
  rewrite: (candidate: string) => string = (candidate) => candidate,
): void {
  from.addEventListener('icecandidate', (event) => {
    const candidate = event.candidate;
    if (!candidate || !isLoopbackCandidate(candidate.candidate)) return;
    const init = {
      candidate: rewrite(candidate.candidate),
      sdpMid: candidate.sdpMid,
      sdpMLineIndex: candidate.sdpMLineIndex,
    };
    void ready.then(() => add(init)).catch(() => undefined);
  });
}

/** Creates a kit; `await using` it, or dispose it with the fixture that owns it. */
export function createWebRtcKit(): WebRtcKit {
  const connections = new Set<RTCPeerConnection>();
  const peers = new Set<SimplePeer.Instance>();
  let closed = false;
  const close = () => {
    closed = true;
    for (const peer of peers) peer.destroy();
    for (const pc of connections) pc.close();
    peers.clear();
    connections.clear();
  };
  return {
    peerConnection() {
      if (closed) throw new Error('the WebRTC kit is closed');
      const pc = new wrtc.RTCPeerConnection(CONFIG);
      connections.add(pc);
      return pc;
    },
    simplePeer(options = {}) {
      if (closed) throw new Error('the WebRTC kit is closed');
      const peer = new SimplePeer({ wrtc, config: CONFIG, sdpTransform: loopbackSdp, ...options });
      // a failed negotiation must fail the test by its deadline, not crash the worker
      peer.on('error', () => undefined);
      peers.add(peer);
      peer.once('close', () => peers.delete(peer));
      return peer;
    },
    negotiate(offerer, answerer, path) {
      // with a path, candidates only trickle (rewritten): none may reach the far side unchanged
      const sdpOf = (sdp: string) =>
        path ? sdp.replace(/a=candidate:[^\r]*\r\n/g, '') : loopbackSdp(sdp);
      let answered!: () => void;
      const remoteSet = new Promise<void>((resolve) => (answered = resolve));
      if (answerer instanceof SimplePeer) {
        // simple-peer queues candidates that arrive before its remote description
        trickle(
          offerer,
          Promise.resolve(),
          (candidate) =>
            answerer.signal({ type: 'candidate', candidate: candidate as RTCIceCandidate }),
          path?.offerer,
        );
        answerer.on('signal', (data: SimplePeer.SignalData) => {
          const signal = loopbackSignal(data);
          if (!signal) return;
          if ('candidate' in signal && signal.candidate) {
            const { candidate, sdpMid, sdpMLineIndex } = signal.candidate;
            const init = {
              candidate: path ? path.answerer(candidate) : candidate,
              sdpMid,
              sdpMLineIndex,
            };
            void remoteSet.then(() => offerer.addIceCandidate(init));
          } else if ('sdp' in signal && signal.type === 'answer') {
            void offerer
              .setRemoteDescription({ type: 'answer', sdp: sdpOf(signal.sdp!) })
              .then(answered);
          }
        });
        void (async () => {
          await offerer.setLocalDescription(await offerer.createOffer());
          answerer.signal({ type: 'offer', sdp: sdpOf(offerer.localDescription!.sdp) });
        })().catch(() => undefined);
        return;
      }
      let offered!: () => void;
      const answererReady = new Promise<void>((resolve) => (offered = resolve));
      trickle(
        offerer,
        answererReady,
        (candidate) => answerer.addIceCandidate(candidate),
        path?.offerer,
      );
      trickle(
        answerer,
        remoteSet,
        (candidate) => offerer.addIceCandidate(candidate),
        path?.answerer,
      );
      void (async () => {
        await offerer.setLocalDescription(await offerer.createOffer());
        await answerer.setRemoteDescription({
          type: 'offer',
          sdp: sdpOf(offerer.localDescription!.sdp),
        });
        offered();
        await answerer.setLocalDescription(await answerer.createAnswer());
        await offerer.setRemoteDescription({
          type: 'answer',
          sdp: sdpOf(answerer.localDescription!.sdp),
        });
        answered();
      })().catch(() => undefined);
    },
    wire(a, b) {
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        from.on('signal', (data: SimplePeer.SignalData) => {
          const signal = loopbackSignal(data);
          if (signal && !to.destroyed) to.signal(signal);
        });
      }
    },
    async channelPair() {
      const clientPc = this.peerConnection();
      const serverPc = this.peerConnection();
      const client = clientPc.createDataChannel(DATA_CHANNEL_LABEL);
      let server: RTCDataChannel | undefined;
      serverPc.addEventListener('datachannel', (event) => (server = event.channel));
      this.negotiate(clientPc, serverPc);
      await waitUntil(
        () => client.readyState === 'open' && server?.readyState === 'open',
        'the data channel to open',
      );
      return { clientPc, serverPc, client, server: server! };
    },
    get open() {
      return (
        [...connections].filter((pc) => pc.connectionState !== 'closed').length +
        [...peers].filter((peer) => !peer.destroyed).length
      );
    },
    close,
    async [Symbol.asyncDispose]() {
      close();
    },
  };
}

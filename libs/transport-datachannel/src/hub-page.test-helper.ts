/**
 * Page entry of the browser tests. This tab
 * - hosts a hub and serves it over native `RTCPeerConnection` data channels (the server half in
 *   Chromium), with guests of its own whose client half wraps native channels; the Node test
 *   drives it through `globalThis.hubPage` and hears guests through `__hubPageEvent`;
 * - opens client pipes for the bridge: each on a fresh native connection to a Node peer, whose
 *   answer comes back through `__dataChannelAnswer` (the client half in Chromium).
 */
import { createHub, type Hub } from '@switchyard/hub';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { installBridge } from '@switchyard/testing/bridge-page';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { dataChannelConnector } from './client.ts';
import { attachDataChannel } from './server.ts';
import { gathered, loopbackSdp } from './loopback.test-helper.ts';

/** What the page offers the Node test. */
export interface HubPage {
  start(graceMs: number): void;
  /** Answers a Node peer's offer (with its candidates) and serves its `switchyard` channels. */
  answer(offer: string): Promise<string>;
  /** A guest in this tab, on its own native peer connection to the hub; resolves on /roominfo. */
  guest(id: string, room: string): Promise<void>;
  send(id: string, command: string, payload: unknown): void;
  to(id: string, target: string, command: string, payload: unknown): void;
  members(room: string): string[];
  connections(): number;
  close(): void;
}

interface PageGlobals {
  hubPage?: HubPage;
  __hubPageEvent?: (id: string, message: string) => void;
  /** Node answers an offer for the hub named `target`. */
  __dataChannelAnswer?: (target: string, offer: string) => Promise<string>;
}

const scope = globalThis as PageGlobals;
const connections: RTCPeerConnection[] = [];
const guests = new Map<string, Signaller>();
let hub: Hub | undefined;

function serve(pc: RTCPeerConnection): void {
  pc.addEventListener('datachannel', ({ channel }) => {
    if (channel.label === DATA_CHANNEL_LABEL) {
      attachDataChannel(channel, hub!.accept, {}, { peerConnection: pc });
    }
  });
}

function newConnection(): RTCPeerConnection {
  const pc = new RTCPeerConnection({ iceServers: [] });
  connections.push(pc);
  return pc;
}

scope.hubPage = {
  start(graceMs) {
    hub = createHub({ graceMs });
  },
  async answer(offer) {
    const pc = newConnection();
    serve(pc);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription();
    await gathered(pc);
    return loopbackSdp(pc.localDescription!.sdp);
  },
  async guest(id, room) {
    const own = newConnection();
    const host = newConnection();
    serve(host);
    // the first channel is created before the offer; a reconnect opens a fresh one
    let first: RTCDataChannel | undefined = own.createDataChannel(DATA_CHANNEL_LABEL);
    // no trickle: each description carries its (loopback) candidates
    await own.setLocalDescription();
    await gathered(own);
    await host.setRemoteDescription({ type: 'offer', sdp: loopbackSdp(own.localDescription!.sdp) });
    await host.setLocalDescription();
    await gathered(host);
    await own.setRemoteDescription({
      type: 'answer',
      sdp: loopbackSdp(host.localDescription!.sdp),
    });
    const connector = dataChannelConnector(
      () => {
        const channel = first ?? own.createDataChannel(DATA_CHANNEL_LABEL);
        first = undefined;
        return channel;
      },
      { peerConnection: own },
    );
    const signaller = createSignaller(connector, { id });
    guests.set(id, signaller);
    signaller.on('rawdata', (message) => scope.__hubPageEvent?.(id, message));
    await new Promise<void>((resolve) => {
      const off = signaller.on('roominfo', () => {
        off();
        resolve();
      });
      signaller.announce({ room });
    });
  },
  send(id, command, payload) {
    guests.get(id)!.send(command, payload);
  },
  to(id, target, command, payload) {
    guests.get(id)!.to(target).send(command, payload);
  },
  members: (room) => hub!.roomMembers(room),
  connections: () => hub!.stats().connections,
  close() {
    for (const signaller of guests.values()) signaller.leave();
    for (const pc of connections) pc.close();
    hub?.close();
  },
};

// each bridged pipe: a fresh connection and channel to Node, closed with the pipe
installBridge((target) => async (options) => {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const channel = pc.createDataChannel(DATA_CHANNEL_LABEL);
  await pc.setLocalDescription();
  await gathered(pc);
  const answer = await scope.__dataChannelAnswer!(target, loopbackSdp(pc.localDescription!.sdp));
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  try {
    const pipe = await dataChannelConnector(() => channel, { peerConnection: pc })(options);
    pipe.onClose(() => pc.close());
    return pipe;
  } catch (error) {
    pc.close();
    throw error;
  }
});

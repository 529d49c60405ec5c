import type SimplePeer from 'simple-peer';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '@switchyard/hub';
import type { Connector, Pipe } from '@switchyard/protocol';
import { createSignaller, type Signaller, type SignallerOptions } from '@switchyard/signaller';
import {
  errorCodeOf,
  nextEvent,
  quietFor,
  rawClient,
  serveHalves,
  waitUntil,
} from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { webSocketServer } from '@switchyard/transport-ws/server';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { dataChannelConnector } from './client.ts';
import { relayDataChannel, type DataChannelServerHandle } from './server.ts';
import { createWebRtcKit, loopbackSignal, type WebRtcKit } from './webrtc.test-helper.ts';

/** A WebSocket hub, B's WebRTC link to C, and B relaying every Switchyard channel C opens. */
interface Setup {
  readonly hub: Hub;
  readonly kit: WebRtcKit;
  readonly url: string;
  /** B's end of each channel C opened, and its relay, in order. */
  readonly relayed: { channel: RTCDataChannel; relay: DataChannelServerHandle }[];
  /** C's peer connection to B. */
  readonly pcC: RTCPeerConnection;
  signaller(connector: Connector, options: SignallerOptions): Signaller;
}

describe('relay: C reaches room R only through B', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(upstream?: (ws: Connector) => Connector): Promise<Setup> {
    const hub = createHub({ graceMs: 300 });
    const served = await serveHalves(hub.accept, [webSocketServer()]);
    const kit = createWebRtcKit();
    cleanups.push(async () => {
      kit.close();
      hub.close();
      await served.close();
      expect(kit.open).toBe(0);
    });
    const url = served.url('/');
    const relayed: Setup['relayed'] = [];
    const pcB = kit.peerConnection();
    const pcC = kit.peerConnection();
    const viaB = upstream ? upstream(webSocketConnector(url)) : webSocketConnector(url);
    pcB.addEventListener('datachannel', ({ channel }) => {
      if (channel.label !== DATA_CHANNEL_LABEL) return;
      relayed.push({
        channel,
        relay: relayDataChannel(channel, viaB, { peerConnection: pcB }),
      });
    });
    // the link B–C exists before any signalling: an application channel negotiated it
    const app = pcC.createDataChannel('app');
    kit.negotiate(pcC, pcB);
    await waitUntil(() => app.readyState === 'open', 'the B–C link');
    return {
      hub,
      kit,
      url,
      relayed,
      pcC,
      signaller(connector, options) {
        const created = createSignaller(connector, { reconnectDelay: () => 20, ...options });
        cleanups.push(() => created.leave());
        return created;
      },
    };
  }

  const cConnector = (s: Setup) =>
    dataChannelConnector(() => s.pcC.createDataChannel(DATA_CHANNEL_LABEL), {
      peerConnection: s.pcC,
    });

  async function join(peer: Signaller, room: string): Promise<void> {
    const info = nextEvent(peer, 'roominfo');
    peer.announce({ room });
    await info;
  }

  /** Relays simple-peer signals as /sdp and /candidate over Switchyard, loopback only. */
  function signalOver(from: Signaller, to: string, peer: SimplePeer.Instance): void {
    peer.on('signal', (data: SimplePeer.SignalData) => {
      const signal = loopbackSignal(data);
      if (!signal) return;
      if ('candidate' in signal && signal.candidate)
        from.to(to).send('/candidate', signal.candidate);
      else from.to(to).send('/sdp', signal);
    });
    from.on('message:sdp', (sdp) => peer.signal(sdp as SimplePeer.SignalData));
    from.on('message:candidate', (candidate) =>
      peer.signal({ type: 'candidate', candidate: candidate as RTCIceCandidate }),
    );
  }

  it('C announces through B, meets A over a new WebRTC connection, cannot speak as B, and leaves after the grace window', async () => {
    const s = await setup();
    const a = s.signaller(webSocketConnector(s.url), { id: 'A' });
    const b = s.signaller(webSocketConnector(s.url), { id: 'B' });
    await join(a, 'R');
    await join(b, 'R');
    // C's own pipe, kept to send a raw frame later; no reconnect, so a closed channel stays closed
    let cPipe: Pipe | undefined;
    const toB = cConnector(s);
    const c = s.signaller(async (options) => (cPipe = await toB(options)), {
      id: 'C',
      reconnect: false,
    });

    const seenByA = nextEvent(a, 'peer:announce', (data) => data.id === 'C');
    await join(c, 'R');
    expect((await seenByA)[0]).toMatchObject({ id: 'C', room: 'R' });
    expect(s.hub.roomMembers('R')).toEqual(['A', 'B', 'C']);
    expect(s.relayed).toHaveLength(1);

    // A and C complete a real WebRTC connection, signalled through the hub and B's relay
    const appA = s.kit.simplePeer({ initiator: true });
    const appC = s.kit.simplePeer();
    signalOver(a, 'C', appA);
    signalOver(c, 'A', appC);
    const stampedAsC = nextEvent(a, 'message:sdp');
    await Promise.all(
      [appA, appC].map((peer) => new Promise((resolve) => peer.once('connect', resolve))),
    );
    const [answer, source] = await stampedAsC;
    expect(answer).toMatchObject({ type: 'answer' });
    expect((source as { id: string }).id).toBe('C');
    const heard = new Promise<string>((resolve) =>
      appC.once('data', (data) => resolve(String(data))),
    );
    appA.send('hello C, from A');
    expect(await heard).toBe('hello C, from A');

    // C's identity is bound: a raw frame claiming B's id is refused and reaches nobody
    const chats: string[] = [];
    for (const peer of [a, b]) peer.on('message:chat', () => chats.push('delivered'));
    const refused = nextEvent(c, 'error');
    cPipe!.send('/chat|B|{"text":"I am B"}');
    expect((await refused)[0]).toMatchObject({ code: 'sender-mismatch' });
    // nor can a second relayed connection take B's id: B answers its liveness probe
    const thief = await rawClient(cConnector(s));
    thief.say('/announce|B|{"id":"B","room":"R"}');
    expect(errorCodeOf(await thief.next())).toBe('id-taken');
    thief.pipe.close();
    await quietFor(100);
    expect(chats).toEqual([]);

    // B's channel to C closes: no /leave from the relay, the hub's grace window applies
    const leaves: unknown[] = [];
    a.on('message:leave', (data) => leaves.push(data));
    const started = Date.now();
    s.relayed[0]!.channel.close();
    await waitUntil(() => leaves.length > 0, "C's /leave", 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(leaves).toEqual([{ id: 'C', reason: 'disconnect' }]);
    expect(s.hub.roomMembers('R')).toEqual(['A', 'B']);
    expect(c.readyState).not.toBe('connected');
    expect(s.relayed[0]!.relay.state).toBe('closed');
  });

  it('holds what C sends while the upstream pipe opens, in order', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const s = await setup((ws) => async (options) => {
      await gate;
      return ws(options);
    });
    const a = s.signaller(webSocketConnector(s.url), { id: 'A' });
    await join(a, 'R');
    const early = await rawClient(cConnector(s));
    early.say('/announce|E|{"id":"E","room":"R"}');
    for (let i = 0; i < 5; i++) early.say(`/n|E|${i}`);
    await waitUntil(() => s.relayed.length === 1, 'the relay');
    expect(s.relayed[0]!.relay.state).toBe('opening');
    const got: unknown[] = [];
    a.on('message:n', (n) => got.push(n));
    release();
    expect(await early.next()).toBe('/roominfo|{"memberCount":2}');
    await waitUntil(() => got.length === 5, 'five messages');
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(s.relayed[0]!.relay.state).toBe('open');
  });

  it('answers binary from C itself; a dropped upstream closes the channel and C comes back through a fresh one', async () => {
    const s = await setup();
    const a = s.signaller(webSocketConnector(s.url), { id: 'A' });
    await join(a, 'R');
    const c = s.signaller(cConnector(s), { id: 'C' });
    await join(c, 'R');
    // binary from C never reaches the hub: B's relay answers it
    const probe = s.pcC.createDataChannel(DATA_CHANNEL_LABEL);
    const replies: string[] = [];
    probe.addEventListener('message', (event) => replies.push(String(event.data)));
    await waitUntil(() => probe.readyState === 'open', 'the probe channel');
    probe.send(new Uint8Array([1, 2, 3]));
    const reply = await waitUntil(() => replies.find((r) => r.startsWith('/error|')), 'the reply');
    expect(errorCodeOf(reply)).toBe('malformed');
    expect(s.hub.stats().errorsSent.malformed).toBeUndefined();
    probe.close();

    // the hub drops C's upstream connection: the relay closes C's channel, C reconnects
    const updates: string[] = [];
    const leaves: string[] = [];
    a.on('peer:update', (data) => updates.push(String(data.id)));
    a.on('message:leave', (data) => leaves.push(JSON.stringify(data)));
    const channels = s.relayed.length;
    const reconnected = nextEvent(c, 'connected');
    expect(s.hub.disconnect('C')).toBe(true);
    await reconnected;
    await waitUntil(() => updates.includes('C'), "C's re-announce");
    expect(s.relayed.length).toBe(channels + 1);
    expect(s.relayed[channels - 1]!.relay.state).toBe('closed');
    await quietFor(400);
    expect(leaves).toEqual([]);
    expect(s.hub.roomMembers('R')).toEqual(['A', 'C']);
  });

  it('an upstream that cannot open closes the channel', async () => {
    const s = await setup(() => async () => {
      throw new Error('no route to the hub');
    });
    const c = s.signaller(cConnector(s), { id: 'C', reconnect: false });
    const disconnected = nextEvent(c, 'disconnected');
    c.announce({ room: 'R' });
    await disconnected;
    await waitUntil(() => s.relayed[0]?.relay.state === 'closed', 'the relay to close');
    expect(['closing', 'closed']).toContain(s.relayed[0]!.channel.readyState);
    expect(s.hub.roomMembers('R')).toEqual([]);
  });
});

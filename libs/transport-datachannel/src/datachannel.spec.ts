import type SimplePeer from 'simple-peer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '@switchyard/hub';
import { PipeClosedError, type CloseInfo } from '@switchyard/protocol';
import { createSignaller } from '@switchyard/signaller';
import {
  describeConformance,
  errorCodeOf,
  nextEvent,
  quietFor,
  rawClient,
  waitUntil,
} from '@switchyard/testing';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { dataChannelConnector, dataChannelPipe } from './client.ts';
import { attachDataChannel } from './server.ts';
import { createWebRtcKit, type WebRtcKit } from './webrtc.test-helper.ts';

// each connection is a fresh wrtc pair: the client end a native-API RTCDataChannel, the server
// end a simple-peer instance (objectMode), so both channel shapes carry the whole suite
describeConformance('datachannel', async (hub) => {
  const kit = createWebRtcKit();
  return {
    connector: dataChannelConnector(() => {
      const client = kit.peerConnection();
      const server = kit.simplePeer({ objectMode: true });
      attachDataChannel(server, hub.accept);
      const channel = client.createDataChannel(DATA_CHANNEL_LABEL);
      kit.negotiate(client, server);
      return channel;
    }),
    async dispose() {
      kit.close();
    },
  };
});

describe('datachannel transport specifics', () => {
  let kit: WebRtcKit;
  let hub: Hub | undefined;
  beforeEach(() => {
    kit = createWebRtcKit();
  });
  afterEach(() => {
    hub?.close();
    hub = undefined;
    kit.close();
    expect(kit.open).toBe(0);
  });

  const startHub = (graceMs = 200) => (hub = createHub({ graceMs }));
  const textsOf = (channel: RTCDataChannel) => {
    const texts: string[] = [];
    channel.addEventListener('message', (event) => {
      if (typeof event.data === 'string') texts.push(event.data);
    });
    return texts;
  };

  it('wraps only open, ordered, reliable channels', async () => {
    const pc = kit.peerConnection();
    const connecting = pc.createDataChannel(DATA_CHANNEL_LABEL);
    expect(() => dataChannelPipe(connecting)).toThrow(/needs an open channel/);
    for (const init of [{ ordered: false }, { maxRetransmits: 0 }, { maxPacketLifeTime: 100 }]) {
      const lossy = pc.createDataChannel(DATA_CHANNEL_LABEL, init);
      expect(() => attachDataChannel(lossy, () => undefined)).toThrow(/ordered, reliable/);
      await expect(dataChannelConnector(() => lossy)({})).rejects.toThrow(/ordered, reliable/);
    }
    // a channel that never opens is closed after the timeout and never reaches the hub
    const accepted: unknown[] = [];
    const handle = attachDataChannel(
      connecting,
      (pipe) => accepted.push(pipe),
      {},
      {
        openTimeoutMs: 100,
      },
    );
    expect(handle.state).toBe('opening');
    await waitUntil(() => handle.state === 'closed', 'the attachment to give up');
    expect(['closing', 'closed']).toContain(connecting.readyState);
    expect(accepted).toEqual([]);
    // and a connector attempt can be aborted while the channel opens
    const abort = new AbortController();
    const pending = pc.createDataChannel(DATA_CHANNEL_LABEL);
    const attempt = dataChannelConnector(() => pending)({ signal: abort.signal });
    abort.abort();
    await expect(attempt).rejects.toThrow(/aborted/);
    expect(['closing', 'closed']).toContain(pending.readyState);
  });

  it('the server half answers binary with /error malformed; the client half drops it with a note', async () => {
    const hub = startHub();
    const toHub = await kit.channelPair();
    attachDataChannel(toHub.server, hub.accept, {}, { peerConnection: toHub.serverPc });
    const replies = textsOf(toHub.client);
    // the server half first says it listens (U+0006), and answers each such probe
    await waitUntil(() => replies.length === 1, 'the readiness message');
    expect(replies).toEqual(['\u0006']);
    toHub.client.send(new Uint8Array([1, 2, 3]));
    await waitUntil(() => replies.length === 2, 'the /error reply');
    expect(errorCodeOf(replies[1]!)).toBe('malformed');
    toHub.client.send('\u0006');
    toHub.client.send('/announce|B|{"id":"B","room":"r"}');
    await waitUntil(() => replies.length === 4, '/roominfo');
    expect(replies.slice(2)).toEqual(['\u0006', '/roominfo|{"memberCount":1}']);
    expect(hub.stats().errorsSent).toEqual({});

    const toClient = await kit.channelPair();
    const notes: string[] = [];
    const pipe = dataChannelPipe(toClient.client, { debug: (note) => notes.push(note) });
    const got: string[] = [];
    pipe.onMessage((message) => got.push(message));
    toClient.server.send(new Uint8Array([0xff]));
    toClient.server.send('/after|S|1');
    await waitUntil(() => got.length === 1, 'the text message');
    expect(got).toEqual(['/after|S|1']);
    expect(notes).toEqual([expect.stringMatching(/ignored a binary message/)]);
    expect(await pipe.isAlive!(100)).toBe(true);
    expect(toClient.server.readyState).toBe('open');
  });

  it('simple-peer without objectMode: UTF-8 text is decoded from Buffers, invalid bytes are binary', async () => {
    const hub = startHub();
    const client = kit.peerConnection();
    const server = kit.simplePeer(); // default mode: every message arrives as a Buffer
    attachDataChannel(server, hub.accept);
    const channel = client.createDataChannel(DATA_CHANNEL_LABEL);
    kit.negotiate(client, server);
    const peer = await rawClient(dataChannelConnector(() => channel));
    peer.say('/announce|Zoë|{"id":"Zoë","room":"café ☕"}');
    expect(await peer.next()).toBe('/roominfo|{"memberCount":1}');
    expect(hub.roomMembers('café ☕')).toEqual(['Zoë']);
    channel.send(new Uint8Array([0xc3, 0x28]));
    expect(errorCodeOf(await peer.next())).toBe('malformed');
  });

  it('closes with the channel, with the peer connection, and says who closed', async () => {
    const local = await kit.channelPair();
    const pipe = dataChannelPipe(local.client, { peerConnection: local.clientPc });
    const far = dataChannelPipe(local.server);
    const farClosed = new Promise<CloseInfo>((resolve) => far.onClose(resolve));
    pipe.close(1000, 'done');
    const info = await new Promise<CloseInfo>((resolve) => pipe.onClose(resolve));
    expect(info).toMatchObject({ local: true, code: 1000, reason: 'done' });
    expect((await farClosed).local).toBe(false);
    expect(() => pipe.send('/x|A|1')).toThrow(PipeClosedError);

    // the same over simple-peer, which reports its own close first
    const mine = kit.simplePeer({ initiator: true, channelName: DATA_CHANNEL_LABEL });
    const theirs = kit.simplePeer();
    kit.wire(mine, theirs);
    await waitUntil(() => mine.connected && theirs.connected, 'simple-peer to connect');
    const peerPipe = dataChannelPipe(mine);
    const theirPipe = dataChannelPipe(theirs);
    const theirClose = new Promise<CloseInfo>((resolve) => theirPipe.onClose(resolve));
    peerPipe.close(4009, 'taken over');
    expect(await new Promise<CloseInfo>((resolve) => peerPipe.onClose(resolve))).toMatchObject({
      local: true,
      code: 4009,
      reason: 'taken over',
    });
    expect((await theirClose).local).toBe(false);
    expect(mine.destroyed).toBe(true);

    // the far end closes its whole peer connection
    const remote = await kit.channelPair();
    const viaPc = dataChannelPipe(remote.client, { peerConnection: remote.clientPc });
    const closed = new Promise<CloseInfo>((resolve) => viaPc.onClose(resolve));
    remote.serverPc.close();
    expect((await closed).local).toBe(false);
    // this side closes its peer connection under an open pipe
    const own = await kit.channelPair();
    const ownPipe = dataChannelPipe(own.client, { peerConnection: own.clientPc });
    const ownClosed = new Promise<CloseInfo>((resolve) => ownPipe.onClose(resolve));
    own.clientPc.close();
    await ownClosed;
  });

  it('the connector waits for the server half, even one that attaches late, and gives up at its deadline', async () => {
    const hub = startHub();
    const silent = await kit.channelPair();
    const refused = dataChannelConnector(() => silent.client, { openTimeoutMs: 200 })({});
    await expect(refused).rejects.toThrow(/did not answer/);
    expect(['closing', 'closed']).toContain(silent.client.readyState);

    // the probe reaches a channel nobody listens to yet; attaching answers it anyway
    const late = await kit.channelPair();
    let connected = false;
    const pending = dataChannelConnector(() => late.client)({}).then((pipe) => {
      connected = true;
      return pipe;
    });
    await quietFor(100);
    expect(connected).toBe(false);
    attachDataChannel(late.server, hub.accept);
    const peer = await rawClient(() => pending, ['L', 'r']);
    expect(hub.roomMembers('r')).toEqual(['L']);
    peer.pipe.close();
  });

  it('keeps order from the first message on channels opened over a live connection', async () => {
    // wrtc can deliver the first messages of a channel its far side just announced out of
    // order; the connector's readiness handshake waits until the server half listens
    const hub = startHub(0);
    const link = await kit.channelPair();
    link.serverPc.addEventListener('datachannel', ({ channel }) => {
      if (channel.label === DATA_CHANNEL_LABEL) attachDataChannel(channel, hub.accept);
    });
    const late = dataChannelConnector(() => link.clientPc.createDataChannel(DATA_CHANNEL_LABEL));
    for (let i = 0; i < 30; i++) {
      const peer = await rawClient(late);
      peer.say(`/announce|E${i}|{"id":"E${i}","room":"r${i}"}`);
      for (let n = 0; n < 3; n++) peer.say(`/n|E${i}|${n}`);
      expect([i, await peer.next()]).toEqual([i, '/roominfo|{"memberCount":1}']);
      await quietFor(0);
      expect(peer.take()).toEqual([]);
      peer.pipe.close();
    }
    expect(hub.stats().errorsSent).toEqual({});
  });

  it('peer-hosted hub in Node: guests reach it only over data channels', async () => {
    const hub = startHub(300);
    const joined: string[] = [];
    hub.on('peer:joined', (peer) => joined.push(`${peer.id}:${peer.transport}`));
    const guests: SimplePeer.Instance[] = [];
    // the host answers each guest's simple-peer with its own and serves the channel
    const guest = (id: string) => {
      const mine = kit.simplePeer({ initiator: true, channelName: DATA_CHANNEL_LABEL });
      const host = kit.simplePeer();
      attachDataChannel(host, hub.accept);
      kit.wire(mine, host);
      guests.push(mine);
      const signaller = createSignaller(
        dataChannelConnector(() => mine),
        { id, reconnect: false },
      );
      return signaller;
    };
    const [ann, bob] = [guest('ann'), guest('bob')];
    try {
      const seen = nextEvent(ann, 'peer:announce');
      ann.announce({ room: 'lan' });
      await nextEvent(ann, 'roominfo');
      bob.announce({ room: 'lan' });
      expect((await seen)[0]).toMatchObject({ id: 'bob', room: 'lan' });
      expect(joined).toEqual(['ann:datachannel', 'bob:datachannel']);
      const direct = nextEvent(bob, 'message:hi');
      ann.to('bob').send('/hi', { text: 'a|b' });
      expect((await direct)[0]).toEqual({ text: 'a|b' });
      // bob's liveness is proven by his open channel, so his id cannot be taken
      const thief = kit.simplePeer({ initiator: true, channelName: DATA_CHANNEL_LABEL });
      const thiefHost = kit.simplePeer();
      attachDataChannel(thiefHost, hub.accept);
      kit.wire(thief, thiefHost);
      const stolen = await rawClient(dataChannelConnector(() => thief));
      stolen.say('/announce|bob|{"id":"bob","room":"lan"}');
      expect(errorCodeOf(await stolen.next())).toBe('id-taken');
      // bob's peer connection goes away without /leave: ann sees /leave after the grace window
      const left = nextEvent(ann, 'message:leave');
      const started = Date.now();
      guests[1]!.destroy();
      expect((await left)[0]).toEqual({ id: 'bob' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(hub.roomMembers('lan')).toEqual(['ann']);
    } finally {
      ann.leave();
      bob.leave();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import {
  ConnectTimeoutError,
  PipeClosedError,
  type CloseInfo,
  type ConnectionContext,
} from '@switchyard/protocol';
import { createSignaller } from '@switchyard/signaller';
import {
  cleanupStack,
  describeConformance,
  describePipeContract,
  errorCodeOf,
  inbox,
  nextEvent,
  quietFor,
  rawClient,
  waitUntil,
} from '@switchyard/testing';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { dataChannelConnector, dataChannelPipe } from './client.ts';
import { attachDataChannel, dataChannelServer } from './server.ts';
import { dataChannelSetup } from './setup.test-helper.ts';
import { createWebRtcKit } from './webrtc.test-helper.ts';

describeConformance('datachannel', dataChannelSetup());
describePipeContract({
  name: 'datachannel',
  setup: dataChannelSetup(),
  unsupported: {
    closeCodes:
      'data channels carry no close code: the far end sees a plain close, the /error sent before it says why',
    liveness:
      'isAlive is local state (channel open, ICE not disconnected): a silent peer fails it only once ICE notices, about 5 s on (failure.spec.ts)',
  },
});

describe('datachannel transport specifics', () => {
  /** A hub and a WebRTC kit; disposing closes the hub, then every connection. */
  function fixture(graceMs = 200) {
    const stack = cleanupStack();
    const kit = stack.use(createWebRtcKit());
    const hub = createHub({ graceMs });
    stack.defer(() => hub.close());
    return {
      kit,
      hub,
      defer: stack.defer,
      [Symbol.asyncDispose]: () => stack[Symbol.asyncDispose](),
    };
  }

  const textsOf = (channel: RTCDataChannel) => {
    const texts = inbox<string>('a text message');
    channel.addEventListener('message', (event) => {
      if (typeof event.data === 'string') texts.push(event.data);
    });
    return texts;
  };

  it('wraps only open, ordered, reliable channels; closes channels it gives up on', async () => {
    await using f = fixture();
    const pc = f.kit.peerConnection();
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
    await handle.closed;
    expect(handle.state).toBe('closed');
    expect(['closing', 'closed']).toContain(connecting.readyState);
    expect(accepted).toEqual([]);
    // an attempt aborted while the channel opens closes the channel
    const abort = new AbortController();
    const pending = pc.createDataChannel(DATA_CHANNEL_LABEL);
    const attempt = dataChannelConnector(() => pending)({ signal: abort.signal });
    abort.abort();
    await expect(attempt).rejects.toMatchObject({ name: 'AbortError' });
    expect(['closing', 'closed']).toContain(pending.readyState);
    // and an attempt aborted before it starts never asks for a channel
    let asked = 0;
    const never = dataChannelConnector(() => {
      asked += 1;
      return pc.createDataChannel(DATA_CHANNEL_LABEL);
    });
    await expect(never({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(asked).toBe(0);
  });

  it('readiness: the server half says it listens and answers each probe; the client half drops binary with a log line', async () => {
    await using f = fixture();
    const toHub = await f.kit.channelPair();
    const replies = textsOf(toHub.client);
    attachDataChannel(toHub.server, f.hub.accept, {}, { peerConnection: toHub.serverPc });
    // the server half first says it listens (U+0006), and answers each such probe
    expect(await replies.next()).toBe('\u0006');
    toHub.client.send('\u0006');
    toHub.client.send('/announce|B|{"id":"B","room":"r"}');
    expect(await replies.next()).toBe('\u0006');
    expect(await replies.next()).toBe('/roominfo|{"memberCount":1}');
    // binary reaches the hub as unreadable: the hub answers it, counted with its own errors
    toHub.client.send(new Uint8Array([1, 2, 3]));
    expect(errorCodeOf(await replies.next())).toBe('malformed');
    expect(f.hub.stats().errorsSent).toEqual({ malformed: 1 });

    const toClient = await f.kit.channelPair();
    const lines: string[] = [];
    const pipe = dataChannelPipe(toClient.client, {
      log: (level, message) => lines.push(`${level} ${message}`),
    });
    const got = inbox<string>();
    pipe.onMessage(got.push);
    toClient.server.send(new Uint8Array([0xff]));
    toClient.server.send('/after|S|1');
    expect(await got.next()).toBe('/after|S|1');
    expect(lines).toEqual([expect.stringMatching(/^debug ignored a binary message/)]);
    expect(await pipe.isAlive!(100)).toBe(true);
    expect(toClient.server.readyState).toBe('open');
  });

  it('simple-peer without objectMode: UTF-8 text is decoded from Buffers, invalid bytes are binary', async () => {
    await using f = fixture();
    const client = f.kit.peerConnection();
    const server = f.kit.simplePeer(); // default mode: every message arrives as a Buffer
    attachDataChannel(server, f.hub.accept);
    const channel = client.createDataChannel(DATA_CHANNEL_LABEL);
    f.kit.negotiate(client, server);
    await using peer = await rawClient(dataChannelConnector(() => channel));
    peer.say('/announce|Zoë|{"id":"Zoë","room":"café ☕"}');
    expect(await peer.next()).toBe('/roominfo|{"memberCount":1}');
    expect(f.hub.roomMembers('café ☕')).toEqual(['Zoë']);
    channel.send(new Uint8Array([0xc3, 0x28]));
    expect(errorCodeOf(await peer.next())).toBe('malformed');
  });

  it('closes with the channel, with the peer connection, and says who closed', async () => {
    await using f = fixture();
    const local = await f.kit.channelPair();
    const pipe = dataChannelPipe(local.client, { peerConnection: local.clientPc });
    const far = dataChannelPipe(local.server);
    const farClosed = new Promise<CloseInfo>((resolve) => far.onClose(resolve));
    pipe.close(1000, 'done');
    const info = await new Promise<CloseInfo>((resolve) => pipe.onClose(resolve));
    expect(info).toMatchObject({ local: true, code: 1000, reason: 'done' });
    expect((await farClosed).local).toBe(false);
    expect(() => pipe.send('/x|A|1')).toThrow(PipeClosedError);

    // the same over simple-peer, which reports its own close first
    const mine = f.kit.simplePeer({ initiator: true, channelName: DATA_CHANNEL_LABEL });
    const theirs = f.kit.simplePeer();
    f.kit.wire(mine, theirs);
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
    const remote = await f.kit.channelPair();
    const viaPc = dataChannelPipe(remote.client, { peerConnection: remote.clientPc });
    const closed = new Promise<CloseInfo>((resolve) => viaPc.onClose(resolve));
    remote.serverPc.close();
    expect((await closed).local).toBe(false);
    // this side closes its peer connection under an open pipe
    const own = await f.kit.channelPair();
    const ownPipe = dataChannelPipe(own.client, { peerConnection: own.clientPc });
    const ownClosed = new Promise<CloseInfo>((resolve) => ownPipe.onClose(resolve));
    own.clientPc.close();
    await ownClosed;
  });

  it('the connector waits for the server half, even one that attaches late, and closes the channel at its deadline', async () => {
    await using f = fixture();
    const silent = await f.kit.channelPair();
    const refused = dataChannelConnector(() => silent.client, { openTimeoutMs: 200 })({});
    await expect(refused).rejects.toBeInstanceOf(ConnectTimeoutError);
    expect(['closing', 'closed']).toContain(silent.client.readyState);

    // the probe reaches a channel nobody listens to yet; attaching answers it anyway
    const late = await f.kit.channelPair();
    let connected = false;
    const pending = dataChannelConnector(() => late.client)({}).then((pipe) => {
      connected = true;
      return pipe;
    });
    await quietFor(100);
    expect(connected).toBe(false);
    attachDataChannel(late.server, f.hub.accept);
    await using _peer = await rawClient(() => pending, ['L', 'r']);
    expect(f.hub.roomMembers('r')).toEqual(['L']);
  });

  it('keeps order from the first message on channels opened over a live connection', async () => {
    // wrtc can deliver the first messages of a channel its far side just announced out of
    // order; the connector's readiness handshake waits until the server half listens
    await using f = fixture(0);
    const link = await f.kit.channelPair();
    link.serverPc.addEventListener('datachannel', ({ channel }) => {
      if (channel.label === DATA_CHANNEL_LABEL) attachDataChannel(channel, f.hub.accept);
    });
    const late = dataChannelConnector(() => link.clientPc.createDataChannel(DATA_CHANNEL_LABEL));
    for (let i = 0; i < 30; i++) {
      await using peer = await rawClient(late);
      peer.say(`/announce|E${i}|{"id":"E${i}","room":"r${i}"}`);
      for (let n = 0; n < 3; n++) peer.say(`/n|E${i}|${n}`);
      expect([i, await peer.next()]).toEqual([i, '/roominfo|{"memberCount":1}']);
      await quietFor(0);
      expect(peer.take()).toEqual([]);
    }
    expect(f.hub.stats().errorsSent).toEqual({});
  });

  it('peer-hosted hub in Node: guests reach it only over data channels, and an open channel holds its id', async () => {
    await using f = fixture(300);
    const server = dataChannelServer(f.hub.accept);
    f.defer(() => server.close());
    const joined: string[] = [];
    f.hub.on('peer:joined', (peer) => joined.push(`${peer.id}:${peer.transport}`));
    // the host answers each guest's simple-peer with its own and serves the channel
    const guestPeer = () => {
      const mine = f.kit.simplePeer({ initiator: true, channelName: DATA_CHANNEL_LABEL });
      const host = f.kit.simplePeer();
      server.serve(host);
      f.kit.wire(mine, host);
      return mine;
    };
    const guest = (id: string) => {
      const mine = guestPeer();
      const signaller = createSignaller(
        dataChannelConnector(() => mine),
        { id, reconnect: false },
      );
      f.defer(() => signaller.leave());
      return signaller;
    };
    const [ann, bob] = [guest('ann'), guest('bob')];
    const seen = nextEvent(ann, 'peer:announce');
    ann.announce({ room: 'lan' });
    await nextEvent(ann, 'roominfo');
    bob.announce({ room: 'lan' });
    expect((await seen)[0]).toMatchObject({ id: 'bob', room: 'lan' });
    expect(joined).toEqual(['ann:datachannel', 'bob:datachannel']);
    expect(server.connections).toBe(2);
    const direct = nextEvent(bob, 'message:hi');
    ann.to('bob').send('/hi', { text: 'a|b' });
    expect((await direct)[0]).toEqual({ text: 'a|b' });
    // bob's liveness is proven by his open channel, so his id cannot be taken
    const thief = guestPeer();
    await using stolen = await rawClient(dataChannelConnector(() => thief));
    stolen.say('/announce|bob|{"id":"bob","room":"lan"}');
    expect(errorCodeOf(await stolen.next())).toBe('id-taken');
    expect(f.hub.roomMembers('lan')).toEqual(['ann', 'bob']);
  });

  it('dataChannelServer counts the channels it serves, closes them all, and then serves no more', async () => {
    await using f = fixture();
    const contexts = inbox<ConnectionContext>('a connection');
    f.hub.on('connection:opened', contexts.push);
    const server = dataChannelServer(f.hub.accept);
    expect(server.transport).toBe('datachannel');
    const pairs = [await f.kit.channelPair(), await f.kit.channelPair()];
    // the channels are open already: each reaches the hub at once
    const handles = pairs.map((pair) =>
      server.serve(pair.server, { remoteAddress: '192.0.2.7' }, { peerConnection: pair.serverPc }),
    );
    expect(handles.map((handle) => handle.state)).toEqual(['open', 'open']);
    expect(server.connections).toBe(2);
    expect(await contexts.next()).toEqual({ transport: 'datachannel', remoteAddress: '192.0.2.7' });
    await using one = await rawClient(
      dataChannelConnector(() => pairs[0]!.client),
      ['P1', 'r'],
    );
    await using two = await rawClient(
      dataChannelConnector(() => pairs[1]!.client),
      ['P2', 'r'],
    );
    // a channel the far side closes leaves the count
    const another = await f.kit.channelPair();
    const third = server.serve(another.server);
    expect(server.connections).toBe(3);
    another.client.close();
    await third.closed;
    expect(server.connections).toBe(2);

    await server.close();
    expect(handles.map((handle) => handle.state)).toEqual(['closed', 'closed']);
    expect(server.connections).toBe(0);
    // no close code crosses a data channel: the clients see a plain close
    for (const client of [one, two]) {
      const info = await client.closed();
      expect(info.local).toBe(false);
      expect(info.code).toBeUndefined();
    }
    expect(f.hub.stats().connections).toBe(0);

    // closed: a channel served now is closed at once and never reaches the hub
    const late = await f.kit.channelPair();
    const refused = server.serve(late.server);
    expect(refused.state).toBe('closed');
    await waitUntil(() => late.client.readyState === 'closed', 'the late channel to close');
    await quietFor(50);
    expect(contexts.received).toHaveLength(3);
  });
});

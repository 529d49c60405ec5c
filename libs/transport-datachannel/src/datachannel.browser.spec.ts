import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Connector } from '@switchyard/protocol';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import {
  describeConformance,
  errorCodeOf,
  nextEvent,
  rawClient,
  waitUntil,
} from '@switchyard/testing';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { openWebRtcPage, type WebRtcPage } from './chromium-webrtc.test-helper.ts';
import { dataChannelConnector } from './client.ts';
import { attachDataChannel } from './server.ts';
import type { HubPage } from './hub-page.test-helper.ts';
import { gathered, loopbackSdp } from './loopback.test-helper.ts';
import { createWebRtcKit } from './webrtc.test-helper.ts';

let browser: WebRtcPage | undefined;
const heardInTab: [id: string, message: string][] = [];
const kit = createWebRtcKit();
const signallers: Signaller[] = [];

beforeAll(async () => {
  browser = await openWebRtcPage(
    fileURLToPath(new URL('./hub-page.test-helper.ts', import.meta.url)),
  );
  await browser.page.exposeFunction('__hubPageEvent', (id: string, message: string) =>
    heardInTab.push([id, message]),
  );
}, 60_000);
afterEach(async () => {
  for (const signaller of signallers.splice(0)) signaller.leave();
  await hubPage('close').catch(() => undefined);
  kit.close();
  expect(kit.open).toBe(0);
});
afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
});

/** Calls a method of the page's `hubPage`. */
async function hubPage<M extends keyof HubPage>(
  method: M,
  ...args: Parameters<HubPage[M]>
): Promise<Awaited<ReturnType<HubPage[M]>>> {
  const result = await browser!.page.evaluate(
    ([name, values]) => {
      const page = (
        globalThis as unknown as { hubPage: Record<string, (...args: unknown[]) => unknown> }
      ).hubPage;
      return page[name]!(...values);
    },
    [method, args] as [string, unknown[]],
  );
  return result as Awaited<ReturnType<HubPage[M]>>;
}

/** A Node peer (wrtc) connected to the tab; signalling goes through Playwright. */
async function nodeGuest(): Promise<{
  pc: RTCPeerConnection;
  connector: Connector;
  channels: RTCDataChannel[];
}> {
  const pc = kit.peerConnection();
  const channels = [pc.createDataChannel(DATA_CHANNEL_LABEL)];
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const answer = await hubPage('answer', loopbackSdp(pc.localDescription!.sdp));
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  let fresh = true;
  const connector = dataChannelConnector(
    () => {
      // the first connection uses the negotiated channel, a reconnect opens another
      if (!fresh) channels.push(pc.createDataChannel(DATA_CHANNEL_LABEL));
      fresh = false;
      return channels.at(-1)!;
    },
    { peerConnection: pc },
  );
  return { pc, connector, channels };
}

function signaller(connector: Connector, id: string): Signaller {
  const created = createSignaller(connector, { id });
  signallers.push(created);
  return created;
}

async function join(peer: Signaller, room: string): Promise<void> {
  const info = nextEvent(peer, 'roominfo');
  peer.announce({ room });
  await info;
}

it('a hub inside Chromium serves Node peers (wrtc) and peers in the tab over real data channels', async () => {
  await hubPage('start', 300);
  const one = await nodeGuest();
  const two = await nodeGuest();
  const n1 = signaller(one.connector, 'n1');
  const n2 = signaller(two.connector, 'n2');
  await join(n1, 'lan');
  await join(n2, 'lan');
  const tabSeen = nextEvent(n1, 'peer:announce', (data) => data.id === 'tab');
  await hubPage('guest', 'tab', 'lan');
  expect((await tabSeen)[0]).toMatchObject({ id: 'tab', room: 'lan', browser: 'chrome' });
  expect(await hubPage('members', 'lan')).toEqual(['n1', 'n2', 'tab']);

  // Node → tab, directed; tab → Node, broadcast, stamped with the tab's id
  n1.to('tab').send('/hi', { from: 'n1' });
  await waitUntil(
    () =>
      heardInTab.some(([id, m]) => id === 'tab' && m === '/to|tab|/hi|{"id":"n1"}|{"from":"n1"}'),
    '/hi in the tab',
  );
  const atN2 = nextEvent(n2, 'message:chat');
  await hubPage('send', 'tab', '/chat', { text: 'from the tab' });
  const [payload, source] = await atN2;
  expect(payload).toEqual({ text: 'from the tab' });
  expect((source as { id: string }).id).toBe('tab');

  // the server half in Chromium: binary is refused, identities are bound
  const three = await nodeGuest();
  const raw = await rawClient(three.connector, ['raw', 'lan']);
  three.channels[0]!.send(new Uint8Array([1, 2, 3]));
  const isError = (message: string) => message.startsWith('/error|');
  expect(errorCodeOf(await raw.next(isError))).toBe('malformed');
  raw.say('/chat|n1|{"text":"spoofed"}');
  expect(errorCodeOf(await raw.next(isError))).toBe('sender-mismatch');
  raw.pipe.close();

  // n2's peer connection goes away without /leave: the room hears /leave after the grace window
  const left = nextEvent(n1, 'message:leave', (data) => (data as { id: string }).id === 'n2');
  const started = Date.now();
  two.pc.close();
  await left;
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  await waitUntil(
    () => heardInTab.some(([id, m]) => id === 'tab' && m.startsWith('/leave|{"id":"n2"}')),
    "n2's /leave in the tab",
  );
  expect(await hubPage('members', 'lan')).toEqual(['n1', 'tab']);
  expect(browser!.console.filter((line) => line.startsWith('pageerror'))).toEqual([]);
});

// the whole suite with the client half in Chromium (native RTCPeerConnection) and the server
// half in Node (wrtc): each connection is a fresh pair, its answer relayed through Playwright
const answerers = new Map<string, (offer: string) => Promise<string>>();
let answering: Promise<unknown> | undefined;
describeConformance('datachannel, client half in Chromium', async (accept) => {
  answering ??= browser!.page.exposeFunction(
    '__dataChannelAnswer',
    (target: string, offer: string) => answerers.get(target)!(offer),
  );
  await answering;
  const target = `hub-${answerers.size + 1}`;
  const serverSide = createWebRtcKit();
  answerers.set(target, async (offer) => {
    const pc = serverSide.peerConnection();
    pc.addEventListener('datachannel', ({ channel }) =>
      attachDataChannel(channel, accept, {}, { peerConnection: pc }),
    );
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    return loopbackSdp(pc.localDescription!.sdp);
  });
  return {
    connector: browser!.connector(target),
    async [Symbol.asyncDispose]() {
      answerers.delete(target);
      serverSide.close();
    },
  };
});

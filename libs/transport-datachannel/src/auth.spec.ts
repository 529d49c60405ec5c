import { describe, expect, it } from 'vitest';
import { createJwtAuthority } from '@switchyard/auth';
import { createHub } from '@switchyard/hub';
import type { Accept, Connector } from '@switchyard/protocol';
import { createSignaller } from '@switchyard/signaller';
import {
  describeAuthentication,
  errorCodeOf,
  mintToken,
  rawClient,
  serveHalves,
  TEST_JWT_SECRET,
  waitUntil,
} from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { webSocketServer } from '@switchyard/transport-ws/server';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { dataChannelConnector } from './client.ts';
import { relayDataChannel } from './server.ts';
import { createWebRtcKit } from './webrtc.test-helper.ts';

/**
 * A WebSocket hub; peer B, itself authenticated (connect-time token for principal `relayer`),
 * relays every Switchyard channel peer C opens over their existing WebRTC link. B's upstream
 * for C is a connector of its own without B's token: a relayed peer borrows no credentials.
 */
async function relayed(accept: Accept, upstreamToken?: string) {
  const served = await serveHalves(accept, [webSocketServer()]);
  const url = served.url('/');
  const kit = createWebRtcKit();
  const b = createSignaller(
    webSocketConnector(url, { token: await mintToken({ sub: 'relayer' }) }),
  );
  b.announce({ room: 'relayers' });
  const pcB = kit.peerConnection();
  const pcC = kit.peerConnection();
  const upstream = webSocketConnector(url, upstreamToken ? { token: upstreamToken } : {});
  pcB.addEventListener('datachannel', ({ channel }) => {
    if (channel.label === DATA_CHANNEL_LABEL)
      relayDataChannel(channel, upstream, { peerConnection: pcB });
  });
  const app = pcC.createDataChannel('app');
  kit.negotiate(pcC, pcB);
  await waitUntil(() => app.readyState === 'open' || undefined, 'the B–C link');
  const viaB: Connector = dataChannelConnector(() => pcC.createDataChannel(DATA_CHANNEL_LABEL), {
    peerConnection: pcC,
  });
  return {
    connector: () => viaB,
    async [Symbol.asyncDispose]() {
      b.leave();
      kit.close();
      await served.close();
    },
  };
}

describeAuthentication({
  name: 'datachannel relay',
  noConnectTimeToken:
    'a relayed peer has no connection of its own to the hub: its token goes in its announce',
  setup: (accept) => relayed(accept),
});

describe('relay credentials', () => {
  it('a relayed token must name the principal of the upstream connection, so a relay lends no identity', async () => {
    const tokens = createJwtAuthority({ secret: TEST_JWT_SECRET });
    const hub = createHub({}, { tokens });
    // misconfigured on purpose: the upstream for relayed peers carries B's own token
    await using relay = await relayed(hub.accept, await mintToken({ sub: 'relayer' }));
    const c = await rawClient(relay.connector());
    const own = await mintToken({ sub: 'carol' });
    c.say(`/announce|C|${JSON.stringify({ id: 'C', room: 'r', token: own })}`);
    expect(errorCodeOf(await c.next())).toBe('unauthorized');
    expect(hub.roomMembers('r')).toEqual([]);
    hub.close();
  });
});

import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createJwtAuthority } from '@switchyard/auth';
import { createHub } from '@switchyard/hub';
import {
  describeAuthentication,
  errorCodeOf,
  mintToken,
  rawClient,
  serveHalves,
  TEST_JWT_SECRET,
  waitUntil,
} from '@switchyard/testing';
import { webSocketConnector } from './client.ts';
import { webSocketServer } from './server.ts';

describeAuthentication({
  name: 'ws',
  async setup(accept) {
    const served = await serveHalves(accept, [webSocketServer()]);
    return {
      connector: (token) => webSocketConnector(served.url('/'), token ? { token } : {}),
      [Symbol.asyncDispose]: () => served.close(),
    };
  },
});

describe('ws tokens at connect time', () => {
  it('takes a token from the subprotocol list, selects "switchyard", never echoes the token', async () => {
    const tokens = createJwtAuthority({ secret: TEST_JWT_SECRET });
    const hub = createHub({}, { tokens });
    await using served = await serveHalves(hub.accept, [webSocketServer()]);
    const token = await mintToken({ sub: 'alice' });
    const socket = new WebSocket(served.url('/').replace('http', 'ws'), [
      'switchyard',
      `bearer.${token}`,
    ]);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    expect(socket.protocol).toBe('switchyard');
    socket.send('/announce|A|{"id":"A","room":"r"}');
    await waitUntil(() => hub.roomMembers('r').includes('A') || undefined, 'A in r');
    socket.close();
    hub.close();
  });

  it('sends the token as ?token= with tokenIn: query, and keeps it out of error messages', async () => {
    const tokens = createJwtAuthority({ secret: TEST_JWT_SECRET });
    const hub = createHub({}, { tokens });
    await using served = await serveHalves(hub.accept, [webSocketServer()]);
    const good = await mintToken({ sub: 'bob' });
    const client = await rawClient(
      webSocketConnector(served.url('/'), { token: good, tokenIn: 'query' }),
    );
    client.say('/announce|B|{"id":"B","room":"r"}');
    await client.next((message) => message.startsWith('/roominfo|'));
    const bad = await rawClient(
      webSocketConnector(served.url('/'), { token: 'forged', tokenIn: 'query' }),
    );
    expect(errorCodeOf(await bad.next())).toBe('unauthorized');
    expect((await bad.closed()).code).toBe(4001);
    const refused = webSocketConnector('http://127.0.0.1:1/', {
      token: 'secret-token',
      tokenIn: 'query',
    });
    await expect(refused({})).rejects.toThrow(/^(?!.*secret-token)/);
    await client[Symbol.asyncDispose]();
    hub.close();
  });
});

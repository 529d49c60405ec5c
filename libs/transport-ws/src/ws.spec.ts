import { connect as tcpConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createHub, type HubServices } from '@switchyard/hub';
import type { HttpServerHalf } from '@switchyard/http';
import {
  describeConformance,
  describePipeContract,
  errorCodeOf,
  quietFor,
  rawClient,
  serveHalves,
  waitUntil,
} from '@switchyard/testing';
import { endpointUrls, toWebSocketUrl, webSocketConnector } from './client.ts';
import { rawWebSocket } from './raw-ws.test-helper.ts';
import { webSocketServer, type WebSocketServerOptions } from './server.ts';
import { wsSetup } from './setup.test-helper.ts';

describeConformance('ws', wsSetup());
describePipeContract({ name: 'ws', setup: wsSetup() });

/** A half that claims `path` and takes no upgrades there: the host refuses them with 400. */
function claimOnly(path: string): HttpServerHalf {
  return {
    transport: `claims ${path}`,
    paths: [path],
    start: () => undefined,
    connections: 0,
    describe: () => `nothing at ${path}`,
    close: async () => undefined,
  };
}

describe('ws transport specifics', () => {
  async function start(options: WebSocketServerOptions = {}, services: HubServices = {}) {
    const hub = createHub({ graceMs: 200 }, services);
    const served = await serveHalves(hub.accept, [webSocketServer(options), claimOnly('/fail')]);
    return {
      hub,
      served,
      async [Symbol.asyncDispose]() {
        hub.close();
        await served.close();
      },
    };
  }

  function socket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
    const ws = new WebSocket(url.replace('http', 'ws'), { headers });
    ws.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`refused with ${response.statusCode ?? 0}`)),
      );
      ws.once('error', reject);
    });
  }

  const nextText = (ws: WebSocket) =>
    new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));

  it('maps http(s) URLs like messenger-ws and adds the token', () => {
    expect(toWebSocketUrl('http://127.0.0.1:3000')).toBe('ws://127.0.0.1:3000/');
    expect(toWebSocketUrl('https://example.test/primus', 'a b')).toBe(
      'wss://example.test/primus?token=a+b',
    );
    expect(toWebSocketUrl('ws://h:1/x')).toBe('ws://h:1/x');
  });

  it('tries endpoints in order, like messenger-ws failover (docs/conformance.md items 49, 50)', async () => {
    expect(endpointUrls('http://h:1/', ['/', '/primus'])).toEqual([
      'http://h:1/',
      'http://h:1/primus',
    ]);
    await using s = await start();
    const url = s.served.url('/');
    await using client = await rawClient(
      webSocketConnector(url, { endpoints: ['/fail', '/primus'] }),
      ['E', 'r'],
    );
    expect(s.hub.roomMembers('r')).toEqual(['E']);
    await expect(webSocketConnector(url, { endpoints: ['/fail'] })({})).rejects.toMatchObject({
      name: 'ConnectRefusedError',
      target: expect.stringMatching(/\/fail$/),
    });
    client.pipe.close();
  });

  it('keeps idle connections open across many ping cycles (docs/conformance.md item 45)', async () => {
    await using s = await start({ pingIntervalMs: 50 });
    await using idle = await rawClient(webSocketConnector(s.served.url('/')), ['IDLE', 'r']);
    await quietFor(600);
    expect(idle.closeInfo).toBeUndefined();
    expect(s.hub.roomMembers('r')).toEqual(['IDLE']);
  });

  it('takes upgrades on every path no other half claims; a claimed path is refused', async () => {
    await using s = await start();
    for (const path of ['/', '/primus', '/any/thing?x=1']) {
      const ws = await socket(s.served.url(path));
      ws.send('/announce|P|{"id":"P","room":"r"}');
      expect(await nextText(ws)).toBe('/roominfo|{"memberCount":1}');
      ws.close();
      await new Promise((resolve) => ws.once('close', resolve));
    }
    await expect(socket(s.served.url('/fail/x'))).rejects.toThrow(/400/);
  });

  it('survives a frame with a reserved opcode: ws closes it with 1002, nothing crashes', async () => {
    await using s = await start();
    const tcp: Socket = tcpConnect(s.served.http.port, '127.0.0.1');
    try {
      await new Promise((resolve) => tcp.once('connect', resolve));
      tcp.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      await new Promise((resolve) => tcp.once('data', resolve));
      tcp.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
      await new Promise((resolve) => tcp.once('close', resolve));
    } finally {
      tcp.destroy();
    }
    await using _peer = await rawClient(webSocketConnector(s.served.url('/')), ['ALIVE', 'r']);
    expect(s.hub.roomMembers('r')).toEqual(['ALIVE']);
  });

  it('closes a frame over the transport limit with 1009; the hub limit answers /error', async () => {
    await using s = await start({ maxPayload: 200_000 });
    const ws = await socket(s.served.url('/'));
    ws.send('/announce|P|{"id":"P","room":"r"}');
    await nextText(ws);
    ws.send(`/x|P|${'a'.repeat(70_000)}`);
    expect(errorCodeOf(await nextText(ws))).toBe('frame-too-large');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(`/x|P|${'a'.repeat(300_000)}`);
    expect(await closed).toBe(1009);
  });

  it('enforces the Origin allow-list and hands the token query to the hub', async () => {
    const tokens: (string | undefined)[] = [];
    await using s = await start(
      { allowedOrigins: ['http://app.test'] },
      {
        authenticate: ({ context }) => {
          tokens.push(context.credentials?.token);
          return context.credentials?.token === 'good'
            ? { ok: true }
            : { ok: false, code: 'unauthorized' };
        },
      },
    );
    await expect(socket(s.served.url('/'), { Origin: 'http://evil.test' })).rejects.toThrow(/403/);
    const allowed = await socket(s.served.url('/?token=good'), { Origin: 'http://app.test' });
    allowed.send('/announce|A|{"id":"A","room":"r"}');
    expect(await nextText(allowed)).toBe('/roominfo|{"memberCount":1}');
    const denied = await socket(s.served.url('/?token=bad'));
    const closed = new Promise<number>((resolve) => denied.once('close', (code) => resolve(code)));
    denied.send('/announce|B|{"id":"B","room":"r"}');
    expect(errorCodeOf(await nextText(denied))).toBe('unauthorized');
    expect(await closed).toBe(4001);
    expect(tokens).toEqual(['good', 'bad']);
    allowed.terminate();
  });

  it('terminates a socket that stops answering pings', async () => {
    await using s = await start({ pingIntervalMs: 100 });
    await using silent = await rawWebSocket(s.served.url('/'));
    silent.say('/announce|S|{"id":"S","room":"r"}');
    await waitUntil(() => s.hub.roomMembers('r').length === 1, 'S to join');
    // one interval to ping, the next to find no pong: a hard disconnect (1006), not a close
    expect(await silent.closed()).toBe(1006);
    await waitUntil(() => s.hub.stats().inGrace === 1, 'S in its grace window');
  });
});

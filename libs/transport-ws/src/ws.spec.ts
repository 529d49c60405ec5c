import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createHub, type Hub } from '@switchyard/hub';
import { createSignaller } from '@switchyard/signaller';
import {
  describeConformance,
  errorCodeOf,
  nextEvent,
  rawClient,
  waitUntil,
} from '@switchyard/testing';
import { endpointUrls, toWebSocketUrl, webSocketConnector } from './client.ts';
import { attachWebSocket, type WebSocketServerOptions } from './server.ts';

async function listen(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const urlOf = (server: Server, path = '/') =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;

describeConformance('ws', async (hub) => {
  const server = await listen();
  const ws = attachWebSocket(server, hub.accept);
  return {
    connector: webSocketConnector(urlOf(server)),
    async dispose() {
      await ws.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

describe('ws transport specifics', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(
    options: WebSocketServerOptions = {},
    graceMs = 200,
  ): Promise<{ server: Server; hub: Hub }> {
    const hub = createHub({ graceMs });
    const server = await listen();
    const handle = attachWebSocket(server, hub.accept, options);
    cleanups.push(async () => {
      hub.close();
      await handle.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return { server, hub };
  }

  function socket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
    const ws = new WebSocket(url.replace('http', 'ws'), { headers });
    cleanups.push(() => ws.terminate());
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
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

  it('tries endpoints in order, like messenger-ws failover (items 49, 50)', async () => {
    expect(endpointUrls('http://h:1/', ['/', '/primus'])).toEqual([
      'http://h:1/',
      'http://h:1/primus',
    ]);
    const { server, hub } = await start({ excludePaths: ['/fail'] });
    server.on('upgrade', (request, sock: Socket) => {
      if (request.url === '/fail') sock.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
    const client = await rawClient(
      webSocketConnector(urlOf(server), { endpoints: ['/fail', '/primus'] }),
      ['E', 'r'],
    );
    expect(hub.roomMembers('r')).toEqual(['E']);
    client.pipe.close();
    await expect(webSocketConnector(urlOf(server), { endpoints: ['/fail'] })({})).rejects.toThrow(
      /Unable to connect to url: .*\/fail: /,
    );
  });

  it('keeps idle connections open across many ping cycles (item 45)', async () => {
    const { server, hub } = await start({ pingIntervalMs: 50 });
    const idle = await rawClient(webSocketConnector(urlOf(server)), ['IDLE', 'r']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(idle.closeInfo).toBeUndefined();
    expect(hub.roomMembers('r')).toEqual(['IDLE']);
    idle.pipe.close();
  });

  it('accepts any path except the excluded ones', async () => {
    const { server } = await start({ excludePaths: ['/socket.io/'] });
    for (const path of ['/', '/primus', '/any/thing?x=1']) {
      const ws = await socket(urlOf(server, path));
      ws.send('/announce|P|{"id":"P","room":"r"}');
      expect(await nextText(ws)).toBe('/roominfo|{"memberCount":1}');
      ws.close();
      await new Promise((resolve) => ws.once('close', resolve));
    }
    // an excluded path is left to its owner (here a stand-in that answers 404)
    server.on('upgrade', (request, sock: Socket) => {
      if (request.url?.startsWith('/socket.io/'))
        sock.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
    await expect(socket(urlOf(server, '/socket.io/?EIO=4'))).rejects.toThrow(/404/);
  });

  it('answers a binary frame with /error and survives a reserved opcode', async () => {
    const { server, hub } = await start();
    const ws = await socket(urlOf(server));
    ws.send(Buffer.from([1, 2, 3]));
    expect(errorCodeOf(await nextText(ws))).toBe('malformed');
    // a raw client sends a frame with reserved opcode 0x3: ws closes it with 1002, nothing crashes
    const port = (server.address() as AddressInfo).port;
    const tcp: Socket = tcpConnect(port, '127.0.0.1');
    cleanups.push(() => void tcp.destroy());
    await new Promise((resolve) => tcp.once('connect', resolve));
    tcp.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise((resolve) => tcp.once('data', resolve));
    tcp.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
    await new Promise((resolve) => tcp.once('close', resolve));
    const peer = await rawClient(webSocketConnector(urlOf(server)), ['ALIVE', 'r']);
    expect(hub.roomMembers('r')).toEqual(['ALIVE']);
    peer.pipe.close();
  });

  it('closes a frame over the transport limit with 1009; the hub limit answers /error', async () => {
    const { server } = await start({ maxPayload: 200_000 });
    const ws = await socket(urlOf(server));
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
    const hub = createHub(
      {},
      {
        authenticate: ({ context }) => {
          tokens.push(context.credentials?.token);
          return context.credentials?.token === 'good'
            ? { ok: true }
            : { ok: false, code: 'unauthorized' };
        },
      },
    );
    const server = await listen();
    const handle = attachWebSocket(server, hub.accept, { allowedOrigins: ['http://app.test'] });
    cleanups.push(async () => {
      hub.close();
      await handle.close();
      await new Promise((resolve) => server.close(resolve));
    });
    await expect(socket(urlOf(server), { Origin: 'http://evil.test' })).rejects.toThrow(/403/);
    const allowed = await socket(urlOf(server, '/?token=good'), { Origin: 'http://app.test' });
    allowed.send('/announce|A|{"id":"A","room":"r"}');
    expect(await nextText(allowed)).toBe('/roominfo|{"memberCount":1}');
    const denied = await socket(urlOf(server, '/?token=bad'));
    const closed = new Promise<number>((resolve) => denied.once('close', (code) => resolve(code)));
    denied.send('/announce|B|{"id":"B","room":"r"}');
    expect(errorCodeOf(await nextText(denied))).toBe('unauthorized');
    expect(await closed).toBe(4001);
    expect(tokens).toEqual(['good', 'bad']);
  });

  it('a killed socket becomes /leave after the grace window', async () => {
    const { server, hub } = await start({}, 300);
    const watcher = createSignaller(webSocketConnector(urlOf(server)));
    cleanups.push(() => watcher.leave());
    const info = nextEvent(watcher, 'roominfo');
    watcher.announce({ room: 'r' });
    await info;
    const victim = await socket(urlOf(server));
    victim.send('/announce|V|{"id":"V","room":"r"}');
    await nextText(victim);
    const started = Date.now();
    const left = nextEvent(watcher, 'message:leave');
    victim.terminate();
    expect((await left)[0]).toEqual({ id: 'V' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(hub.roomMembers('r')).toEqual([String(watcher.id)]);
  });

  it('terminates a socket that stops answering pings, and probes liveness for id claims', async () => {
    const { server, hub } = await start({ pingIntervalMs: 100 }, 0);
    const silent = new WebSocket(urlOf(server).replace('http', 'ws'), { autoPong: false });
    cleanups.push(() => silent.terminate());
    await new Promise((resolve) => silent.once('open', resolve));
    silent.send('/announce|S|{"id":"S","room":"r"}');
    await waitUntil(() => hub.roomMembers('r').length === 1, 'S to join');
    // a newcomer claiming S: the holder does not answer the probe, so it is replaced
    const claimer = await rawClient(webSocketConnector(urlOf(server)));
    claimer.say('/announce|S|{"id":"S","room":"r"}');
    expect(await claimer.next()).toBe('/roominfo|{"memberCount":1}');
    claimer.pipe.close();
    const dead = new WebSocket(urlOf(server).replace('http', 'ws'), { autoPong: false });
    cleanups.push(() => dead.terminate());
    const closed = new Promise((resolve) => dead.once('close', resolve));
    await new Promise((resolve) => dead.once('open', resolve));
    await closed;
  });
});

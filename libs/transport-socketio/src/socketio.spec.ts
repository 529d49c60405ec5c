import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Socket as NetSocket,
} from 'node:net';
import { io as ioClient, type Socket as ClientSocket, type ManagerOptions } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub, type HubOptions, type HubServices } from '@switchyard/hub';
import { createSignaller } from '@switchyard/signaller';
import {
  describeConformance,
  errorCodeOf,
  nextEvent,
  quietFor,
  rawClient,
  waitUntil,
} from '@switchyard/testing';
import { socketIoConnector } from './client.ts';
import { CLOSE_EVENT, PROBE_EVENT, SIGNAL_EVENT } from './events.ts';
import { rawEngine } from './raw-engine.test-helper.ts';
import { attachSocketIo, type SocketIoServerOptions } from './server.ts';

async function listen(handler?: RequestListener): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describeConformance('socket.io', async (hub) => {
  const server = await listen();
  const io = attachSocketIo(server, hub.accept);
  return {
    connector: socketIoConnector(urlOf(server)),
    async dispose() {
      await io.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

describeConformance('socket.io, long-polling only', async (hub) => {
  const server = await listen();
  const io = attachSocketIo(server, hub.accept, { transports: ['polling'] });
  return {
    connector: socketIoConnector(urlOf(server), { transports: ['polling'] }),
    async dispose() {
      await io.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

describe('socket.io transport specifics', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(
    options: SocketIoServerOptions = {},
    hubOptions: HubOptions & HubServices = {},
    handler?: RequestListener,
  ): Promise<{ server: Server; hub: Hub; url: string; close: () => Promise<void> }> {
    const { authenticate, ...limits } = hubOptions;
    const hub = createHub({ graceMs: 200, ...limits }, authenticate ? { authenticate } : {});
    const server = await listen(handler);
    const handle = attachSocketIo(server, hub.accept, options);
    cleanups.push(async () => {
      hub.close();
      await handle.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return { server, hub, url: urlOf(server), close: () => handle.close() };
  }

  /** A plain socket.io-client, as an application (or rtc-signaller-socket.io) would create it. */
  function plainClient(url: string, options: Partial<ManagerOptions> = {}): ClientSocket {
    const socket = ioClient(url, { forceNew: true, reconnection: false, ...options });
    cleanups.push(() => socket.disconnect());
    return socket;
  }

  const connected = (socket: ClientSocket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });

  function signals(socket: ClientSocket): { next(): Promise<string> } {
    const received: unknown[] = [];
    let cursor = 0;
    socket.on(SIGNAL_EVENT, (message: unknown) => received.push(message));
    return {
      next: () =>
        waitUntil(
          () => (cursor < received.length ? String(received[cursor++]) : undefined),
          `an ${SIGNAL_EVENT} event`,
        ),
    };
  }

  it('connects over WebSocket first, without a long-polling request', async () => {
    const { server, url, hub } = await start();
    const seen: string[] = [];
    server.on('request', (request) => seen.push(`request ${request.url ?? ''}`));
    server.on('upgrade', (request) => seen.push(`upgrade ${request.url ?? ''}`));
    const client = await rawClient(socketIoConnector(url), ['W', 'r']);
    expect(hub.roomMembers('r')).toEqual(['W']);
    expect(seen).toEqual([
      expect.stringMatching(/^upgrade \/socket\.io\/\?EIO=4&transport=websocket/),
    ]);
    client.pipe.close();
  });

  it('falls back to long-polling when the WebSocket upgrade is refused', async () => {
    const { server, url, hub } = await start({ transports: ['polling'] });
    // a proxy that refuses WebSocket upgrades
    server.on('upgrade', (_request, socket: NetSocket) =>
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'),
    );
    await expect(socketIoConnector(url, { transports: ['websocket'] })({})).rejects.toThrow(
      /Unable to connect to url: http:\/\/127\.0\.0\.1:\d+ /,
    );
    const client = await rawClient(socketIoConnector(url), ['P', 'r']);
    expect(hub.roomMembers('r')).toEqual(['P']);
    client.pipe.close();
  });

  it('gives up opening after openTimeoutMs, or at once when aborted', async () => {
    // a server that accepts TCP connections and never answers
    const held: NetSocket[] = [];
    const mute = createTcpServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of held) socket.destroy();
      return new Promise((resolve) => mute.close(resolve));
    });
    const url = `http://127.0.0.1:${(mute.address() as AddressInfo).port}`;
    const startedAt = performance.now();
    await expect(socketIoConnector(url, { openTimeoutMs: 200 })({})).rejects.toThrow(/timeout/);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(190);
    const controller = new AbortController();
    const opening = socketIoConnector(url)({ signal: controller.signal });
    controller.abort();
    await expect(opening).rejects.toThrow('aborted');
  });

  it('hands auth.token or the token query to the hub and enforces the Origin allow-list', async () => {
    const tokens: (string | undefined)[] = [];
    const { url } = await start(
      { allowedOrigins: ['http://app.test'] },
      {
        authenticate: ({ context }) => {
          tokens.push(context.credentials?.token);
          return context.credentials?.token?.startsWith('good')
            ? { ok: true }
            : { ok: false, code: 'unauthorized' };
        },
      },
    );
    const fromAuth = await rawClient(socketIoConnector(url, { token: 'good-auth' }), ['A', 'r']);
    expect(fromAuth.received).toEqual(['/roominfo|{"memberCount":1}']);
    const fromQuery = plainClient(url, { query: { token: 'good-query' } });
    const atQuery = signals(fromQuery);
    await connected(fromQuery);
    fromQuery.emit(SIGNAL_EVENT, '/announce|Q|{"id":"Q","room":"r"}');
    expect(await atQuery.next()).toBe('/roominfo|{"memberCount":2}');
    const denied = await rawClient(socketIoConnector(url, { token: 'bad' }));
    denied.say('/announce|D|{"id":"D","room":"r"}');
    expect(errorCodeOf(await denied.next())).toBe('unauthorized');
    expect(tokens).toEqual(['good-auth', 'good-query', 'bad']);
    const evil = plainClient(url, {
      transports: ['websocket'],
      extraHeaders: { origin: 'http://evil.test' },
    });
    await expect(connected(evil)).rejects.toThrow();
    const app = plainClient(url, {
      transports: ['websocket'],
      extraHeaders: { origin: 'http://app.test' },
    });
    await connected(app);
    // long-polling from a browser page: CORS answers follow the same list
    const handshake = `${url}/socket.io/?EIO=4&transport=polling`;
    const fromApp = await fetch(handshake, { headers: { origin: 'http://app.test' } });
    expect(fromApp.headers.get('access-control-allow-origin')).toBe('http://app.test');
    const fromEvil = await fetch(handshake, { headers: { origin: 'http://evil.test' } });
    expect([fromEvil.status, fromEvil.headers.get('access-control-allow-origin')]).toEqual([
      403,
      null,
    ]);
    fromAuth.pipe.close();
  });

  it('answers anything but one string on rtc-signal with /error malformed, and keeps working', async () => {
    const { url } = await start();
    const socket = plainClient(url, { transports: ['websocket'] });
    const at = signals(socket);
    await connected(socket);
    const bad: [string, ...unknown[]][] = [
      [SIGNAL_EVENT, 42],
      [SIGNAL_EVENT, { text: '/x' }],
      [SIGNAL_EVENT, Buffer.from('/announce|B|{}')],
      [SIGNAL_EVENT, '/announce|B|{"id":"B","room":"r"}', 'extra'],
      [SIGNAL_EVENT],
      ['message', '/announce|B|{"id":"B","room":"r"}'],
      [SIGNAL_EVENT, '/announce|B|{"id":"B","room":"r"}', () => undefined],
    ];
    for (const [event, ...args] of bad) {
      socket.emit(event, ...args);
      expect([event, args, errorCodeOf(await at.next())]).toEqual([event, args, 'malformed']);
    }
    socket.emit(SIGNAL_EVENT, '/announce|B|{"id":"B","room":"r"}');
    expect(await at.next()).toBe('/roominfo|{"memberCount":1}');
  });

  it('closes a message over maxHttpBufferSize with 1009; one over the hub limit gets /error', async () => {
    const { url } = await start({ maxHttpBufferSize: 200_000 });
    for (const transports of [['websocket'], ['polling']] as const) {
      const client = await rawClient(socketIoConnector(url, { transports }), ['F', 'r']);
      client.say(`/x|F|${'a'.repeat(70_000)}`);
      expect(errorCodeOf(await client.next())).toBe('frame-too-large');
      client.say(`/x|F|${'a'.repeat(300_000)}`);
      expect([transports[0], await client.closed()]).toMatchObject([
        transports[0],
        { local: false, code: 1009 },
      ]);
    }
  });

  it('carries server close codes to the client half; the signaller stops after 4001', async () => {
    const { url, hub } = await start(
      {},
      {
        authenticate: ({ id }) =>
          id === 'NO' ? { ok: false, code: 'unauthorized' } : { ok: true },
      },
    );
    const client = await rawClient(socketIoConnector(url), ['T', 'r']);
    expect(hub.disconnect('T', 4009, 'id taken over')).toBe(true);
    expect(await client.closed()).toEqual({ local: false, code: 4009, reason: 'id taken over' });

    let opened = 0;
    hub.on('connection:opened', () => (opened += 1));
    const refused = createSignaller(socketIoConnector(url), { id: 'NO', reconnectDelay: () => 10 });
    cleanups.push(() => refused.leave());
    const stopped = nextEvent(refused, 'error', (error) =>
      /\(4001 unauthorized\); not reconnecting/.test(error.message),
    );
    refused.announce({ room: 'r' });
    await stopped;
    await quietFor(200);
    expect(opened).toBe(1);
    expect(refused.readyState).toBe('disconnected');
  });

  it('a killed engine (no disconnect packet) becomes /leave after the grace window', async () => {
    const graceMs = 400;
    const { url, hub } = await start({}, { graceMs });
    const watcher = createSignaller(socketIoConnector(url));
    cleanups.push(() => watcher.leave());
    const info = nextEvent(watcher, 'roominfo');
    watcher.announce({ room: 'r' });
    await info;
    const victim = plainClient(url, { transports: ['websocket'] });
    const at = signals(victim);
    await connected(victim);
    victim.emit(SIGNAL_EVENT, '/announce|V|{"id":"V","room":"r"}');
    await at.next();
    const leaves: number[] = [];
    watcher.on('message:leave', () => leaves.push(performance.now()));
    const killedAt = performance.now();
    victim.io.engine.close(); // the transport goes without a Socket.IO disconnect packet
    await waitUntil(() => hub.stats().inGrace === 1, 'V in its grace window');
    expect(hub.roomMembers('r')).toContain('V');
    await waitUntil(() => leaves.length === 1, '/leave for V', graceMs + 2000);
    expect(leaves[0]! - killedAt).toBeGreaterThanOrEqual(graceMs - 1);
    expect(leaves[0]! - killedAt).toBeLessThan(graceMs + 1000);
    expect(hub.roomMembers('r')).toEqual([String(watcher.id)]);
  });

  it('engine.io heartbeat: a peer that answers pings stays, a silent one is dropped and leaves', async () => {
    const timing = { pingIntervalMs: 100, pingTimeoutMs: 100 };
    const { url, hub } = await start(timing, { graceMs: 100 });
    const idle = await rawClient(socketIoConnector(url), ['IDLE', 'r']);
    const silent = await rawEngine(url, { answerPings: false });
    cleanups.push(() => silent[Symbol.asyncDispose]());
    const left: string[] = [];
    hub.on('peer:left', (peer) => left.push(`${peer.id} ${peer.reason}`));
    const startedAt = performance.now();
    silent.emit(SIGNAL_EVENT, '/announce|S|{"id":"S","room":"r"}');
    await silent.next();
    await waitUntil(() => left.length === 1, 'S to leave', 3000);
    // dead after one unanswered ping (interval + timeout), then the grace window
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(250);
    expect(left).toEqual(['S disconnect']);
    expect(silent.pings).toBeGreaterThanOrEqual(1);
    await quietFor(300);
    expect(idle.closeInfo).toBeUndefined();
    expect(hub.roomMembers('r')).toEqual(['IDLE']);
    idle.pipe.close();
  });

  it('probes liveness for id claims: a Switchyard holder keeps its id, a silent one is replaced', async () => {
    const { url } = await start({}, { livenessTimeoutMs: 300 });
    const holder = await rawClient(socketIoConnector(url), ['L', 'r']);
    const thief = await rawClient(socketIoConnector(url));
    thief.say('/announce|L|{"id":"L","room":"r"}');
    expect(errorCodeOf(await thief.next())).toBe('id-taken');
    expect(holder.closeInfo).toBeUndefined();
    // an original client has no rtc-probe listener, so it never acknowledges: it reads as gone
    const original = await rawEngine(url);
    cleanups.push(() => original[Symbol.asyncDispose]());
    original.emit(SIGNAL_EVENT, '/announce|O|{"id":"O","room":"r"}');
    await original.next((event) => String(event.args[1]).startsWith('/roominfo'));
    const claimer = await rawClient(socketIoConnector(url));
    claimer.say('/announce|O|{"id":"O","room":"r"}');
    expect(await claimer.next()).toBe('/roominfo|{"memberCount":2}');
    expect((await original.next((event) => event.args[0] === PROBE_EVENT)).ackId).toEqual(
      expect.any(Number),
    );
    // the replaced holder learns why before the disconnect packet
    expect((await original.next((event) => event.args[0] === CLOSE_EVENT)).args).toEqual([
      CLOSE_EVENT,
      4009,
      'id taken over',
    ]);
    expect(await original.closed()).toBeGreaterThan(0);
    for (const client of [holder, claimer]) client.pipe.close();
  });

  it('counts what engine.io has not written yet: a peer that stops reading is closed (4008)', async () => {
    const { url, hub } = await start({}, { rateLimit: false, highWaterMark: 256 * 1024 });
    const reader = await rawEngine(url);
    cleanups.push(() => reader[Symbol.asyncDispose]());
    reader.emit(SIGNAL_EVENT, '/announce|R|{"id":"R","room":"r"}');
    await reader.next();
    const writer = await rawClient(socketIoConnector(url), ['W', 'r']);
    const chunk = 'x'.repeat(32 * 1024);
    // a peer that reads may receive far more than the high-water mark in total
    for (let i = 0; i < 40; i++) writer.say(`/to|R|/bulk|W|${chunk}`);
    const bulk = () =>
      reader.events.filter((event) => String(event.args[1]).startsWith('/to|R|/bulk'));
    await waitUntil(() => bulk().length === 40, '40 bulk messages at R');
    expect(hub.stats().closed.slowConsumer).toBe(0);
    reader.ws.pause(); // TCP backpressure: the kernel buffers fill, then engine.io's queue grows
    for (let sent = 0; sent < 2000 && hub.stats().closed.slowConsumer === 0; sent++) {
      writer.say(`/to|R|/bulk|W|${chunk}`);
      if (sent % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitUntil(() => hub.stats().closed.slowConsumer === 1, 'R closed as slow consumer');
    expect(hub.roomMembers('r')).toContain('W');
    reader.ws.resume();
    expect((await reader.next((event) => event.args[0] === CLOSE_EVENT)).args).toEqual([
      CLOSE_EVENT,
      4008,
      'slow consumer',
    ]);
    writer.pipe.close();
  });

  it('accepts Engine.IO v3 clients (socket.io-client 2.x) unless allowEIO3 is false', async () => {
    const { url, hub } = await start();
    const base = `${url}/socket.io/?EIO=3&transport=polling`;
    const opening = await (await fetch(base)).text();
    const sid = /"sid":"([^"]+)"/.exec(opening)?.[1];
    expect(sid).toEqual(expect.any(String));
    // EIO3 payloads are `<length>:<packet>`; 42 is a Socket.IO event on the main namespace
    const packet = `42${JSON.stringify([SIGNAL_EVENT, '/announce|V2|{"id":"V2","room":"r"}'])}`;
    const posted = await fetch(`${base}&sid=${sid!}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: `${packet.length}:${packet}`,
    });
    expect(posted.status).toBe(200);
    const polled = await (await fetch(`${base}&sid=${sid!}`)).text();
    expect(polled).toContain(`42${JSON.stringify([SIGNAL_EVENT, '/roominfo|{"memberCount":1}'])}`);
    expect(hub.roomMembers('r')).toEqual(['V2']);

    const strict = await start({ allowEIO3: false });
    const refused = await fetch(`${strict.url}/socket.io/?EIO=3&transport=polling`);
    expect([refused.status, await refused.text()]).toEqual([
      400,
      expect.stringContaining('Unsupported protocol version'),
    ]);
  });

  it('close() closes sockets with 1001 and gives /socket.io/ back to the server', async () => {
    const { url, close } = await start({}, {}, (request, response) =>
      response.end(`app ${request.url ?? ''}`),
    );
    const handshake = `${url}/socket.io/?EIO=4&transport=polling`;
    expect(await (await fetch(handshake)).text()).toMatch(/^0\{"sid":/);
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('app /healthz');
    const client = await rawClient(socketIoConnector(url), ['C', 'r']);
    await close();
    expect(await client.closed()).toMatchObject({ local: false, code: 1001 });
    expect(await (await fetch(handshake)).text()).toBe('app /socket.io/?EIO=4&transport=polling');
  });

  it('leaves upgrades on other paths to their owner, however slow (destroyUpgrade: false)', async () => {
    const { server } = await start();
    // another transport that takes longer than engine.io's 1 s destroyUpgradeTimeout to answer
    server.on('upgrade', (request, socket: NetSocket) => {
      if (request.url !== '/slow') return;
      setTimeout(
        () =>
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'),
        1200,
      );
    });
    const status = await new Promise<number | string>((resolve) => {
      const port = (server.address() as AddressInfo).port;
      const request = httpRequest({
        host: '127.0.0.1',
        port,
        path: '/slow',
        headers: { connection: 'Upgrade', upgrade: 'websocket' },
      });
      request.on('response', (response) => resolve(response.statusCode ?? 0));
      request.on('error', (error) => resolve(error.message));
      request.end();
    });
    expect(status).toBe(404);
  });
});

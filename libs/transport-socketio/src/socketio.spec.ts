import { io as ioClient, type Socket as ClientSocket, type ManagerOptions } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createHub, type HubOptions, type HubServices } from '@switchyard/hub';
import {
  describeConformance,
  describePipeContract,
  errorCodeOf,
  inbox,
  quietFor,
  rawClient,
  serveHalves,
  waitUntil,
} from '@switchyard/testing';
import { socketIoConnector } from './client.ts';
import { CLOSE_EVENT, PROBE_EVENT, SIGNAL_EVENT } from './events.ts';
import { isEvent, rawEngine } from './raw-engine.test-helper.ts';
import { socketIoServer, type SocketIoServerOptions } from './server.ts';
import { socketIoSetup } from './setup.test-helper.ts';

describeConformance('socket.io', socketIoSetup());
describeConformance(
  'socket.io, long-polling only',
  socketIoSetup({ transports: ['polling'] }, { transports: ['polling'] }),
);
describePipeContract({ name: 'socket.io', setup: socketIoSetup() });

describe('socket.io transport specifics', () => {
  async function start(
    options: SocketIoServerOptions = {},
    limits: HubOptions = {},
    services: HubServices = {},
  ) {
    const hub = createHub({ graceMs: 200, ...limits }, services);
    const served = await serveHalves(hub.accept, [socketIoServer(options)]);
    return {
      hub,
      served,
      url: served.url(),
      async [Symbol.asyncDispose]() {
        hub.close();
        await served.close();
      },
    };
  }

  /** A plain socket.io-client, as an application (or rtc-signaller-socket.io) would create it. */
  function plainClient(
    url: string,
    options: Partial<ManagerOptions> = {},
  ): ClientSocket & AsyncDisposable {
    const socket = ioClient(url, { forceNew: true, reconnection: false, ...options });
    return Object.assign(socket, { [Symbol.asyncDispose]: async () => void socket.disconnect() });
  }

  const connected = (socket: ClientSocket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });

  /** What arrives as `rtc-signal` on `socket`. */
  function signals(socket: ClientSocket) {
    const received = inbox<string>(`an ${SIGNAL_EVENT} event`);
    socket.on(SIGNAL_EVENT, (message: unknown) => received.push(String(message)));
    return received;
  }

  /** The HTTP status a WebSocket upgrade on `url` gets, or 101 when it opens. */
  function upgradeStatus(url: string): Promise<number> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    ws.on('error', () => undefined);
    return new Promise((resolve) => {
      ws.once('open', () => {
        ws.terminate();
        resolve(101);
      });
      ws.once('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        ws.terminate();
      });
    });
  }

  it('connects over WebSocket first, without a long-polling request', async () => {
    await using s = await start();
    const seen: string[] = [];
    s.served.http.server.on('request', (request) => seen.push(`request ${request.url ?? ''}`));
    s.served.http.server.on('upgrade', (request) => seen.push(`upgrade ${request.url ?? ''}`));
    await using _client = await rawClient(socketIoConnector(s.url), ['W', 'r']);
    expect(s.hub.roomMembers('r')).toEqual(['W']);
    expect(seen).toEqual([
      expect.stringMatching(/^upgrade \/socket\.io\/\?EIO=4&transport=websocket/),
    ]);
  });

  it('falls back to long-polling when the WebSocket upgrade is refused', async () => {
    // a server without WebSocket refuses the upgrade, as a proxy that strips upgrades would
    await using s = await start({ transports: ['polling'] });
    await expect(socketIoConnector(s.url, { transports: ['websocket'] })({})).rejects.toMatchObject(
      { name: 'ConnectRefusedError', target: s.url },
    );
    await using _client = await rawClient(socketIoConnector(s.url), ['P', 'r']);
    expect(s.hub.roomMembers('r')).toEqual(['P']);
  });

  it('hands auth.token or the token query to the hub and enforces the Origin allow-list', async () => {
    const tokens: (string | undefined)[] = [];
    await using s = await start(
      { allowedOrigins: ['http://app.test'] },
      {},
      {
        authenticate: ({ context }) => {
          tokens.push(context.credentials?.token);
          return context.credentials?.token?.startsWith('good')
            ? { ok: true }
            : { ok: false, code: 'unauthorized' };
        },
      },
    );
    const url = s.url;
    await using fromAuth = await rawClient(socketIoConnector(url, { token: 'good-auth' }), [
      'A',
      'r',
    ]);
    expect(fromAuth.received).toEqual(['/roominfo|{"memberCount":1}']);
    await using fromQuery = plainClient(url, { query: { token: 'good-query' } });
    const atQuery = signals(fromQuery);
    await connected(fromQuery);
    fromQuery.emit(SIGNAL_EVENT, '/announce|Q|{"id":"Q","room":"r"}');
    expect(await atQuery.next()).toBe('/roominfo|{"memberCount":2}');
    await using denied = await rawClient(socketIoConnector(url, { token: 'bad' }));
    denied.say('/announce|D|{"id":"D","room":"r"}');
    expect(errorCodeOf(await denied.next())).toBe('unauthorized');
    expect(tokens).toEqual(['good-auth', 'good-query', 'bad']);
    await using evil = plainClient(url, {
      transports: ['websocket'],
      extraHeaders: { origin: 'http://evil.test' },
    });
    await expect(connected(evil)).rejects.toThrow();
    await using app = plainClient(url, {
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
    // a session opened without an Origin cannot then be read or written from a foreign page
    const open = await (await fetch(handshake)).text();
    const sid = (JSON.parse(open.slice(open.indexOf('{'))) as { sid: string }).sid;
    const session = `${handshake}&sid=${sid}`;
    const evilHeaders = { origin: 'http://evil.test', 'content-type': 'text/plain' };
    const evilPost = await fetch(session, { method: 'POST', headers: evilHeaders, body: '40' });
    const evilRead = await fetch(session, { headers: { origin: 'http://evil.test' } });
    expect([evilPost.status, evilRead.status]).toEqual([403, 403]);
    // JSONP is read through <script>, which sends no Origin at all: refused outright
    const jsonp = await fetch(`${url}/socket.io/?EIO=3&transport=polling&j=0`);
    expect(jsonp.status).toBe(400);
    expect(await jsonp.text()).toMatch(/JSONP polling is not served/);
  });

  it('answers anything but one string on rtc-signal with /error malformed, and keeps working', async () => {
    await using s = await start();
    await using socket = plainClient(s.url, { transports: ['websocket'] });
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
    await using s = await start({ maxHttpBufferSize: 200_000 });
    for (const transports of [['websocket'], ['polling']] as const) {
      await using client = await rawClient(socketIoConnector(s.url, { transports }), ['F', 'r']);
      client.say(`/x|F|${'a'.repeat(70_000)}`);
      expect(errorCodeOf(await client.next())).toBe('frame-too-large');
      client.say(`/x|F|${'a'.repeat(300_000)}`);
      expect([transports[0], await client.closed()]).toMatchObject([
        transports[0],
        { local: false, code: 1009 },
      ]);
    }
  });

  it('engine.io heartbeat: a peer that answers pings stays, a silent one is dropped and leaves', async () => {
    await using s = await start({ pingIntervalMs: 100, pingTimeoutMs: 100 }, { graceMs: 100 });
    await using idle = await rawClient(socketIoConnector(s.url), ['IDLE', 'r']);
    await using silent = await rawEngine(s.url, { answerPings: false });
    const left: string[] = [];
    s.hub.on('peer:left', (peer) => left.push(`${peer.id} ${peer.reason}`));
    const startedAt = performance.now();
    silent.say('/announce|S|{"id":"S","room":"r"}');
    await silent.inbox.next();
    await waitUntil(() => left.length === 1, 'S to leave', 3000);
    // dead after one unanswered ping (interval + timeout), then the grace window
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(250);
    expect(left).toEqual(['S disconnect']);
    expect(silent.pings).toBeGreaterThanOrEqual(1);
    await quietFor(300);
    expect(idle.closeInfo).toBeUndefined();
    expect(s.hub.roomMembers('r')).toEqual(['IDLE']);
  });

  it('an original client never acknowledges rtc-probe: its Engine.IO pong keeps its id; a silent one is replaced (4009)', async () => {
    await using s = await start({}, { livenessTimeoutMs: 300 });
    // like rtc-signaller-socket.io, this client has no rtc-probe listener
    await using original = await rawEngine(s.url);
    original.say('/announce|O|{"id":"O","room":"r"}');
    await original.inbox.next((message) => message.startsWith('/roominfo|'));
    await using claimer = await rawClient(socketIoConnector(s.url));
    claimer.say('/announce|O|{"id":"O","room":"r"}');
    expect(errorCodeOf(await claimer.next())).toBe('id-taken');
    expect(original.pings).toBeGreaterThanOrEqual(1); // the probe's extra Engine.IO ping
    // a client that stops answering pings too is taken over, told why before the disconnect
    await using silent = await rawEngine(s.url, { answerPings: false });
    silent.say('/announce|S|{"id":"S","room":"r"}');
    await silent.inbox.next((message) => message.startsWith('/roominfo|'));
    await using taker = await rawClient(socketIoConnector(s.url));
    taker.say('/announce|S|{"id":"S","room":"r"}');
    expect(await taker.next()).toBe('/roominfo|{"memberCount":2}');
    expect(await silent.packets.next(isEvent(PROBE_EVENT))).toEqual({
      kind: 'event',
      args: [PROBE_EVENT],
      ackId: expect.any(Number),
    });
    expect(await silent.packets.next(isEvent(CLOSE_EVENT))).toMatchObject({
      args: [CLOSE_EVENT, 4009, 'id taken over'],
    });
    // the very next packet is the Socket.IO disconnect
    expect(await silent.packets.next()).toEqual({ kind: 'disconnect' });
    expect(await silent.closed()).toBe(4009);
    expect(s.hub.roomMembers('r')).toEqual(['O', 'S']);
  });

  it('accepts Engine.IO v3 clients (socket.io-client 2.x) unless allowEIO3 is false', async () => {
    await using s = await start();
    const base = `${s.url}/socket.io/?EIO=3&transport=polling`;
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
    expect(s.hub.roomMembers('r')).toEqual(['V2']);

    await using strict = await start({ allowEIO3: false });
    const refused = await fetch(`${strict.url}/socket.io/?EIO=3&transport=polling`);
    expect([refused.status, await refused.text()]).toEqual([
      400,
      expect.stringContaining('Unsupported protocol version'),
    ]);
  });

  it('close() closes sockets with 1001; afterwards the host no longer routes /socket.io/', async () => {
    await using s = await start();
    const handshake = `${s.url}/socket.io/?EIO=4&transport=polling`;
    expect(await (await fetch(handshake)).text()).toMatch(/^0\{"sid":/);
    await using client = await rawClient(socketIoConnector(s.url), ['C', 'r']);
    await using original = await rawEngine(s.url);
    await s.served.served.close();
    expect(await client.closed()).toMatchObject({ local: false, code: 1001 });
    expect(await original.closed()).toBe(1001);
    // the HTTP server keeps running; a request listener of its own now sees /socket.io/ alone
    s.served.http.server.on('request', (request, response) =>
      response.end(`app ${request.url ?? ''}`),
    );
    expect(await (await fetch(handshake)).text()).toBe('app /socket.io/?EIO=4&transport=polling');
  });

  it('an upgrade on another path never reaches engine.io: the host answers 404', async () => {
    await using s = await start();
    const query = '?EIO=4&transport=websocket';
    expect(await upgradeStatus(s.served.url(`/socket.io/${query}`))).toBe(101);
    // engine.io would open these (it does not check the path): the host never hands them over
    for (const path of ['/', '/other/', '/socket.iox/'])
      expect([path, await upgradeStatus(s.served.url(`${path}${query}`))]).toEqual([path, 404]);
  });
});

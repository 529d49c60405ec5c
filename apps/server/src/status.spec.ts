import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rawClient, waitFor, type RawClient } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { ConfigError, parseConfig } from './config.ts';
import { rawGet } from './http-get.test-helper.ts';
import { startServer, type RunningServer } from './server.ts';
import { isLoopback, isLoopbackHost, type StatusDocument } from './status.ts';

const ADMIN = 'an-admin-token-of-32-characters!';
let pages: string;
const servers: RunningServer[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  pages = await mkdtemp(join(tmpdir(), 'switchyard-status-'));
  await writeFile(join(pages, 'status.html'), '<!doctype html><title>status</title>');
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.pipe.close();
  for (const server of servers.splice(0)) await server.close();
});
afterAll(() => rm(pages, { recursive: true, force: true }));

async function serve(options: { adminToken?: string; demoDir?: string } = {}) {
  const server = await startServer({
    port: 0,
    transports: ['ws', 'sse'],
    demoDir: pages,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  servers.push(server);
  return server;
}

async function joinOver(server: RunningServer, id: string, room: string): Promise<RawClient> {
  const client = await rawClient(webSocketConnector(server.url), [id, room]);
  clients.push(client);
  return client;
}

const get = (server: RunningServer, path: string, headers: Record<string, string> = {}) =>
  rawGet(server.url, path, headers);

async function status(server: RunningServer, headers: Record<string, string> = {}) {
  const response = await get(server, '/status.json', headers);
  expect(response.status).toBe(200);
  return JSON.parse(response.body) as StatusDocument;
}

describe('GET /status.json', () => {
  it('shows rooms, members with their transport and state, and counts per transport to loopback', async () => {
    const server = await serve();
    await joinOver(server, 'A', 'lobby');
    await joinOver(server, 'B', 'lobby');
    await joinOver(server, 'C', 'side');
    const document = await status(server);
    expect(document).toMatchObject({
      names: true,
      auth: 'none',
      transports: { ws: 3, sse: 0 },
      stats: { connections: 3, members: 3, rooms: 2 },
      moreRooms: 0,
    });
    expect(document.rooms).toEqual([
      {
        name: 'lobby',
        size: 2,
        transports: { ws: 2 },
        members: [
          { id: 'A', transport: 'ws', state: 'connected' },
          { id: 'B', transport: 'ws', state: 'connected' },
        ],
      },
      {
        name: 'side',
        size: 1,
        transports: { ws: 1 },
        members: [{ id: 'C', transport: 'ws', state: 'connected' }],
      },
    ]);
  });

  it('reports message rates from the hub counters, sampled each second', async () => {
    const server = await serve();
    const a = await joinOver(server, 'A', 'r');
    const b = await joinOver(server, 'B', 'r');
    for (let n = 0; n < 50; n++) a.say(`/chat|A|${n}`);
    await b.next((message) => message === '/chat|A|49');
    // the rate is counted against the samples, so it shows once a sample after the burst exists
    const rates = await waitFor(
      async () => {
        const { rates } = await status(server);
        return rates.messagesIn >= 5 ? rates : undefined;
      },
      'a message rate',
      3000,
    );
    expect(rates.messagesOut).toBeGreaterThanOrEqual(5);
  });

  it('hides room names and peer ids from a page whose Host is not loopback (DNS rebinding)', async () => {
    const server = await serve();
    await joinOver(server, 'A', 'secret-room');
    const rebound = await status(server, { host: `rebind.example:${server.port}` });
    expect(rebound.names).toBe(false);
    expect(rebound.rooms).toEqual([
      { size: 1, transports: { ws: 1 }, members: [{ transport: 'ws', state: 'connected' }] },
    ]);
    expect(JSON.stringify(rebound)).not.toContain('secret-room');
    expect((await status(server, { host: `localhost:${server.port}` })).names).toBe(true);
  });

  it('with an admin token, shows names only to callers that send it, loopback included', async () => {
    const server = await serve({ adminToken: ADMIN });
    await joinOver(server, 'A', 'secret-room');
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${ADMIN}`, `Bearer ${ADMIN}x`]) {
      const document = await status(server, authorization ? { authorization } : {});
      expect(document.names).toBe(false);
      expect(JSON.stringify(document)).not.toContain('secret-room');
    }
    const admitted = await status(server, { authorization: `Bearer ${ADMIN}` });
    expect(admitted.names).toBe(true);
    expect(admitted.rooms[0]?.name).toBe('secret-room');
  });
});

describe('GET /', () => {
  it('gives curl plain text: transports, counts, rates and the largest rooms', async () => {
    const server = await serve();
    await joinOver(server, 'A', 'lobby');
    const text = await get(server, '/', { accept: '*/*' });
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.body).toMatch(/^switchyard \S+: rtc-signaller signalling, up \d+ s\./);
    expect(text.body).toContain('connections 1 (ws 1, sse 0)');
    expect(text.body).toContain('rooms 1, members 1 (0 in their grace window)');
    expect(text.body).toContain('messages per second:');
    expect(text.body).toContain('  lobby: 1 (ws 1)');
  });

  it('gives browsers the status page with a content security policy, and text when it is not built', async () => {
    const server = await serve();
    const page = await get(server, '/', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(page.body).toBe('<!doctype html><title>status</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");

    const unbuilt = await serve({ demoDir: join(pages, 'missing') });
    const fallback = await get(unbuilt, '/', { accept: 'text/html' });
    expect(fallback.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(fallback.body).toContain('the status page is not built: run npm run build');
  });
});

describe('who counts as the machine itself', () => {
  it('loopback addresses and Host names', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      expect(isLoopback(address), address).toBe(true);
    for (const address of [undefined, '10.0.0.1', '::ffff:10.0.0.1', '::2', '128.0.0.1', 'fe80::1'])
      expect(isLoopback(address), address).toBe(false);
    for (const host of ['localhost:3000', 'LOCALHOST', '127.0.0.1:80', '[::1]:3000', '127.0.0.2'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [
      undefined,
      'example.com',
      '127.0.0.1.nip.io:3000',
      '[::2]:1',
      'localhost.evil',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('--admin-token and SWITCHYARD_ADMIN_TOKEN, 16 characters or more, never in --help', () => {
    expect(parseConfig(['--admin-token', ADMIN], {}).adminToken).toBe(ADMIN);
    expect(parseConfig([], { SWITCHYARD_ADMIN_TOKEN: ADMIN }).adminToken).toBe(ADMIN);
    expect(parseConfig([], {}).adminToken).toBeUndefined();
    expect(() => parseConfig(['--admin-token', 'short'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--admin-token', 'short'], {})).toThrow(/16 characters/);
  });
});

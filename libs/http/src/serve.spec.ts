import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Accept } from '@switchyard/protocol';
import { listenHttp, waitUntil } from '@switchyard/test-kit';
import { checkHalves, serveTransports } from './serve.ts';
import { pathMatches, type HttpServerHalf } from './server-half.ts';

/** A half that answers requests and upgrades with its name, and records what it saw. */
function half(transport: string, paths: string[], extra: Partial<HttpServerHalf> = {}) {
  const seen: string[] = [];
  let closedWith: number | undefined;
  const served: HttpServerHalf & { seen: string[]; closedWith: () => number | undefined } = {
    transport,
    paths,
    seen,
    closedWith: () => closedWith,
    start: () => undefined,
    handleRequest(request, response) {
      seen.push(`request ${request.url ?? ''}`);
      response.end(transport);
    },
    handleUpgrade(request, socket) {
      seen.push(`upgrade ${request.url ?? ''}`);
      socket.end(`HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    },
    connections: 0,
    describe: () => transport,
    async close(code) {
      closedWith = code;
    },
    ...extra,
  };
  return served;
}

/** Sends an upgrade request; resolves with the status line and whether the socket was closed. */
function upgrade(port: number, path: string): Promise<{ status: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('close', () => resolve({ status: data.split('\r\n')[0] ?? '', closed: true }));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    );
  });
}

const accept: Accept = () => undefined;

describe('serveTransports', () => {
  it('matches a path and everything below it', () => {
    expect(pathMatches('/sse', '/sse')).toBe(true);
    expect(pathMatches('/sse', '/sse/abc')).toBe(true);
    expect(pathMatches('/sse', '/ssex')).toBe(false);
    expect(pathMatches('/socket.io/', '/socket.io/')).toBe(true);
  });

  it('routes requests and upgrades by path; the fallback half takes unclaimed upgrades', async () => {
    await using http = await listenHttp();
    const sse = half('sse', ['/sse']);
    const ws = half('ws', [], { fallbackUpgrades: true });
    const app: string[] = [];
    const served = await serveTransports(http.server, accept, [sse, ws], {
      fallback: (request, response) => {
        app.push(request.url ?? '');
        response.end('app');
      },
    });
    expect(await (await fetch(http.url('/sse/s1?x=1'))).text()).toBe('sse');
    expect(await (await fetch(http.url('/healthz'))).text()).toBe('app');
    expect((await upgrade(http.port, '/primus')).status).toContain('418');
    expect((await upgrade(http.port, '/sse')).status).toContain('418');
    expect(sse.seen).toEqual(['request /sse/s1?x=1', 'upgrade /sse']);
    expect(ws.seen).toEqual(['upgrade /primus']);
    expect(app).toEqual(['/healthz']);
    await served.close(4000);
    expect([sse.closedWith(), ws.closedWith()]).toEqual([4000, 4000]);
    // detached: nothing answers any more, so the server's default (no listener) applies
    await expect(fetch(http.url('/sse'), { signal: AbortSignal.timeout(300) })).rejects.toThrow();
  });

  it('answers and ends upgrades nobody serves, so no socket is left open', async () => {
    await using http = await listenHttp();
    await serveTransports(http.server, accept, [
      half('sse', ['/sse'], { handleUpgrade: undefined }),
    ]);
    expect(await upgrade(http.port, '/nowhere')).toEqual({
      status: 'HTTP/1.1 404 Not Found',
      closed: true,
    });
    expect(await upgrade(http.port, '/sse')).toEqual({
      status: 'HTTP/1.1 400 Bad Request',
      closed: true,
    });
    await waitUntil(
      () => new Promise((resolve) => http.server.getConnections((_e, n) => resolve(n === 0))),
      'every connection to close',
    );
    const response = await new Promise<number>((resolve) => {
      const request = httpRequest({ port: http.port, path: '/nothing', host: '127.0.0.1' });
      request.on('response', (answer) => resolve(answer.statusCode ?? 0));
      request.end();
    });
    expect(response).toBe(404);
  });

  it('a half that throws costs one request, not the server', async () => {
    await using http = await listenHttp();
    await serveTransports(http.server, accept, [
      half('broken', ['/x'], {
        handleRequest: () => {
          throw new Error('bug');
        },
      }),
    ]);
    expect((await fetch(http.url('/x'))).status).toBe(500);
    expect((await fetch(http.url('/y'))).status).toBe(404);
  });

  it('refuses halves that cannot share a server', () => {
    expect(() => checkHalves([half('a', ['/a']), half('a', ['/b'])])).toThrow(/two halves serve a/);
    expect(() => checkHalves([half('a', ['/a']), half('b', ['/a/b'])])).toThrow(
      /b and a both claim \/a\/b/,
    );
    expect(() =>
      checkHalves([
        half('a', [], { fallbackUpgrades: true }),
        half('b', [], { fallbackUpgrades: true }),
      ]),
    ).toThrow(/only one half/);
    expect(() => checkHalves([half('a', ['relative'])])).toThrow(/not a path/);
  });

  it('a half that fails to start closes those started before it', async () => {
    await using http = await listenHttp();
    const first = half('first', ['/first']);
    const failing = half('second', ['/second'], {
      start: () => Promise.reject(new Error('broker refused')),
    });
    await expect(serveTransports(http.server, accept, [first, failing])).rejects.toThrow(
      'broker refused',
    );
    expect(first.closedWith()).toBe(1001);
  });

  it('destroys a connection that sends no complete request headers in time; served ones stay', async () => {
    await using http = await listenHttp();
    const held: Socket[] = [];
    const ws = half('ws', [], {
      fallbackUpgrades: true,
      handleUpgrade: (_request, socket) => void held.push(socket as Socket),
    });
    await using _served = await asDisposable(
      serveTransports(http.server, accept, [ws], { headersTimeoutMs: 300 }),
    );
    const opened = (write?: string) => {
      const socket = connect(http.port, '127.0.0.1', () => write && socket.write(write));
      const closed = new Promise<number>((resolve) => {
        const started = Date.now();
        socket.on('close', () => resolve(Date.now() - started));
      });
      socket.on('error', () => undefined);
      return { socket, closed };
    };
    const silent = opened();
    const slowloris = opened('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const upgraded = opened(
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    const keptAlive = opened('GET /x HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await silent.closed).toBeGreaterThanOrEqual(250);
    expect(await slowloris.closed).toBeLessThan(5_000);
    await waitUntil(() => held.length === 1, 'the upgrade at the half');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect([upgraded.socket.destroyed, keptAlive.socket.destroyed]).toEqual([false, false]);
    upgraded.socket.destroy();
    keptAlive.socket.destroy();
    for (const socket of held) socket.destroy();
    expect(http.server.requestTimeout).toBe(15_000);
  });
});

async function asDisposable(served: ReturnType<typeof serveTransports>) {
  const halves = await served;
  return Object.assign(halves, { [Symbol.asyncDispose]: () => halves.close() });
}

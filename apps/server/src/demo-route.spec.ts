import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawGet } from './http-get.test-helper.ts';
import { startServer, type RunningServer } from './server.ts';

let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-demo-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
  await writeFile(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)');
  await writeFile(join(tmpdir(), 'switchyard-demo-secret.txt'), 'outside');
  server = await startServer({ port: 0, demoDir: dir, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string) => rawGet(server.url, path);

describe('GET /demo/', () => {
  it('serves the built page and its hashed assets, redirects /demo, and nothing outside the folder', async () => {
    const page = await get('/demo/?room=r&transport=ws');
    expect([page.status, page.headers['content-type'], page.body]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<!doctype html><title>demo</title>',
    ]);
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await get('/demo/assets/app-1a2b.js');
    expect([asset.status, asset.headers['cache-control']]).toEqual([
      200,
      'public, max-age=31536000, immutable',
    ]);
    const bare = await get('/demo?room=r');
    expect([bare.status, bare.headers['location']]).toEqual([308, '/demo/?room=r']);
    for (const path of [
      '/demo/../switchyard-demo-secret.txt',
      '/demo/%2e%2e/switchyard-demo-secret.txt',
      '/demo/nope.js',
    ]) {
      const refused = await get(path);
      expect(refused.status, path).toBe(404);
      expect(refused.body).not.toContain('outside');
    }
    expect((await get('/demo/%E0%A4%A')).status).toBe(400);
  });

  it('says how to build the demo when it is not built', async () => {
    await using bare = await startServer({
      port: 0,
      demoDir: join(dir, 'missing'),
      logger: pino({ level: 'silent' }),
    });
    const response = await fetch(`${bare.url}/demo/`);
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/the demo is not built: run npm run build/);
  });
});

/**
 * The packages as a user gets them: every public workspace packed with `npm pack` (its
 * `prepack` builds it), the tarballs installed into a fresh folder outside the repo, and a small
 * app run there: a `switchyard` server with JWT auth and peers on four transports. Nothing
 * from the monorepo is on that app's module path.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installTarballs, pack, publicWorkspaces, run } from './packages.test-helper.ts';

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

const APP = `
import { SignJWT } from 'jose';
import { startServer } from '@switchyard/server';
import { createSignaller } from '@switchyard/signaller';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { sseConnector } from '@switchyard/transport-sse/client';
import { socketIoConnector } from '@switchyard/transport-socketio/client';
import { mqttConnector } from '@switchyard/transport-mqtt/client';
import { pino } from 'pino';

const secret = 'a-secret-for-the-tarball-test-0123456789';
const server = await startServer({
  port: 0, mqtt: 'embedded', mqttPort: 0, jwt: { secret }, logger: pino({ level: 'silent' }),
});
const broker = server.transports.halves.find((half) => half.transport === 'mqtt').broker.url;
const token = () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('user')
  .sign(new TextEncoder().encode(secret));
const peers = [
  webSocketConnector(server.url, { token }), sseConnector(server.url, { token }),
  socketIoConnector(server.url, { token }), mqttConnector(broker, { token }),
].map((connector, i) => createSignaller(connector, { id: 'peer' + i }));
const seen = new Set();
for (const peer of peers) peer.on('peer:announce', (data) => seen.add(peer.id + '<' + data.id));
for (const peer of peers) peer.announce({ room: 'tarballs' });
const deadline = Date.now() + 15000;
while (seen.size < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ seen: seen.size, members: server.hub.roomMembers('tarballs').sort() }));
for (const peer of peers) peer.leave();
await server.close();
process.exit(0);
`;

describe('installable packages', () => {
  it('every public package packs with dist and sources, no build caches, and runs installed from its tarball', async () => {
    const tarballs = await mkdtemp(join(tmpdir(), 'switchyard-tarballs-'));
    const app = await mkdtemp(join(tmpdir(), 'switchyard-app-'));
    folders.push(tarballs, app);
    const workspaces = await publicWorkspaces();
    const manifests = await pack(
      workspaces.map((w) => w.path),
      tarballs,
    );
    expect(manifests.map((m) => m.name).sort()).toEqual(workspaces.map((w) => w.name).sort());
    for (const manifest of manifests) {
      const paths = manifest.files.map((file) => file.path);
      expect(paths, manifest.name).toContain('dist/index.js');
      expect(
        paths.filter((path) => /tsbuildinfo|\.spec\.|test-helper/.test(path)),
        manifest.name,
      ).toEqual([]);
      // every source map names sources that ship beside it
      for (const map of paths.filter((path) => path.endsWith('.js.map'))) {
        expect(paths, `${manifest.name} ${map}`).toContain(
          map.replace(/^dist\//, 'src/').replace(/\.js\.map$/, '.ts'),
        );
      }
    }
    // a Node client of SSE brings its EventSource (an optional peer, kept out of browser installs)
    await installTarballs(app, tarballs, manifests, {
      jose: '6.2.18',
      pino: '10.4.0',
      eventsource: '4.1.1',
    });
    await writeFile(join(app, 'app.mjs'), APP);
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      seen: 12,
      members: ['peer0', 'peer1', 'peer2', 'peer3'],
    });
  }, 240_000);
});

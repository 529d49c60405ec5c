/**
 * The packages as a user gets them: every public workspace packed with `npm pack` (its
 * `prepack` builds it), the tarballs installed into a fresh folder outside the repo, and a small
 * app run there: a `switchyard` server with JWT auth and peers on four transports. Nothing
 * from the monorepo is on that app's module path.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

/** The public workspaces, by path, from the root package's workspaces. */
async function publicWorkspaces(): Promise<{ path: string; name: string }[]> {
  const found: { path: string; name: string }[] = [];
  for (const parent of ['libs', 'apps']) {
    for (const entry of await readdir(join(ROOT, parent))) {
      const path = join(parent, entry);
      const manifest = JSON.parse(await readFile(join(ROOT, path, 'package.json'), 'utf8')) as {
        name: string;
        private?: boolean;
      };
      if (!manifest.private) found.push({ path, name: manifest.name });
    }
  }
  return found;
}

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
    const packed = await run(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        tarballs,
        ...workspaces.flatMap((w) => ['-w', w.path]),
      ],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    );
    const manifests = JSON.parse(packed.stdout) as {
      name: string;
      filename: string;
      files: { path: string }[];
    }[];
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
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'tarball-app',
        private: true,
        type: 'module',
        dependencies: {
          ...Object.fromEntries(
            manifests.map((m) => [m.name, `file:${join(tarballs, m.filename)}`]),
          ),
          jose: '6.2.18',
          pino: '10.4.0',
        },
      }),
    );
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      {
        cwd: app,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    await writeFile(join(app, 'app.mjs'), APP);
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      seen: 12,
      members: ['peer0', 'peer1', 'peer2', 'peer3'],
    });
  }, 240_000);
});

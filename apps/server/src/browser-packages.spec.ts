/**
 * The client packages as a browser app gets them: packed, installed from the tarballs into a
 * folder outside the repo (client halves only: no server dependency may come along), bundled
 * with esbuild and with vite, with no shims, defines or polyfills, and run in headless
 * Chromium against a live server on all four browser transports. Gzipped sizes per transport
 * are printed for docs/bundles.md.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build as esbuild } from 'esbuild';
import { pino } from 'pino';
import { build as vite } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { openBrowserPage, WEBRTC_FLAGS } from '@switchyard/testing';
import { installTarballs, pack } from './packages.test-helper.ts';
import { startServer } from './server.ts';

const CLIENTS = [
  'libs/protocol',
  'libs/signaller',
  'libs/transport-ws',
  'libs/transport-sse',
  'libs/transport-socketio',
  'libs/transport-mqtt',
  'libs/mesh',
];

const ENTRY = `
import { createSignaller } from '@switchyard/signaller';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { sseConnector } from '@switchyard/transport-sse/client';
import { socketIoConnector } from '@switchyard/transport-socketio/client';
import { mqttConnector } from '@switchyard/transport-mqtt/client';
import { createMesh } from '@switchyard/mesh';
globalThis.tarball = { createSignaller, webSocketConnector, sseConnector, socketIoConnector, mqttConnector, createMesh };
`;

/** One transport's client half with the signaller, for its size. */
const SIZE_ENTRIES: Record<string, string> = {
  ws: `import { webSocketConnector as c } from '@switchyard/transport-ws/client';`,
  sse: `import { sseConnector as c } from '@switchyard/transport-sse/client';`,
  'socket.io': `import { socketIoConnector as c } from '@switchyard/transport-socketio/client';`,
  mqtt: `import { mqttConnector as c } from '@switchyard/transport-mqtt/client';`,
  'mesh (+ ws, simple-peer)': `import { webSocketConnector } from '@switchyard/transport-ws/client';\nimport { createMesh } from '@switchyard/mesh';\nconst c = [webSocketConnector, createMesh];`,
};

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function esbuildBundle(app: string, entry: string, minify = false): Promise<string> {
  const result = await esbuild({
    entryPoints: [entry],
    absWorkingDir: app,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    minify,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

async function viteBundle(app: string, entry: string): Promise<string> {
  const result = await vite({
    root: app,
    configFile: false,
    logLevel: 'silent',
    build: { write: false, lib: { entry, formats: ['iife'], name: 'tarball', fileName: 'b' } },
  });
  const outputs = Array.isArray(result) ? result : [result];
  for (const output of outputs) {
    if (!('output' in output)) continue;
    const chunk = output.output.find((item) => item.type === 'chunk');
    if (chunk?.type === 'chunk') return chunk.code;
  }
  throw new Error('vite produced no bundle');
}

describe('client packages in a browser, from their tarballs', () => {
  it('install without server dependencies, bundle with esbuild and vite unshimmed, and meet on ws, SSE, Socket.IO and MQTT in Chromium; two meshes call each other', async () => {
    const tarballs = await mkdtemp(join(tmpdir(), 'switchyard-client-tarballs-'));
    const app = await mkdtemp(join(tmpdir(), 'switchyard-browser-app-'));
    folders.push(tarballs, app);
    await installTarballs(app, tarballs, await pack(CLIENTS, tarballs));
    const serverOnly = ['aedes', 'socket.io', 'engine.io', 'eventsource', '@switchyard/http'];
    expect(serverOnly.filter((name) => existsSync(join(app, 'node_modules', name)))).toEqual([]);

    const entry = join(app, 'entry.js');
    await writeFile(entry, ENTRY);
    const bundles = {
      esbuild: await esbuildBundle(app, entry),
      vite: await viteBundle(app, entry),
    };

    const sizes: Record<string, number> = {};
    for (const [transport, line] of Object.entries(SIZE_ENTRIES)) {
      const file = join(app, `size-${transport.replace(/\W/g, '')}.js`);
      await writeFile(
        file,
        `import { createSignaller } from '@switchyard/signaller';\n${line}\nglobalThis.x = [createSignaller, c];`,
      );
      sizes[transport] = gzipSync(await esbuildBundle(app, file, true)).length;
    }
    console.info(`gzipped, esbuild --minify, signaller + client half: ${JSON.stringify(sizes)}`);

    await using server = await startServer({
      port: 0,
      mqtt: 'embedded',
      mqttPort: 0,
      logger: pino({ level: 'silent' }),
    });
    for (const [bundler, code] of Object.entries(bundles)) {
      await using browser = await openBrowserPage(code, { launchArgs: WEBRTC_FLAGS });
      const room = `tarball-${bundler}`;
      const seen = await browser.page.evaluate(
        async ({ url, room }) => {
          type Api = Record<string, (...args: unknown[]) => unknown>;
          const api = (globalThis as unknown as { tarball: Api }).tarball;
          const ws = url.replace('http', 'ws');
          const connectors = [
            api['webSocketConnector']!(url),
            api['sseConnector']!(url),
            api['socketIoConnector']!(url),
            api['mqttConnector']!(`${ws}/mqtt`),
          ];
          const seen = new Set<string>();
          const peers = connectors.map((connector, i) => {
            const peer = api['createSignaller']!(connector, { id: `${room}-${i}` }) as {
              on(event: string, listener: (data: { id: string }) => void): void;
              announce(data: object): void;
              leave(): void;
            };
            peer.on('peer:announce', (data) => seen.add(`${i}<${data.id}`));
            return peer;
          });
          for (const peer of peers) peer.announce({ room });
          const deadline = Date.now() + 15_000;
          while (seen.size < 12 && Date.now() < deadline)
            await new Promise((resolve) => setTimeout(resolve, 50));
          for (const peer of peers) peer.leave();
          return seen.size;
        },
        { url: server.url, room },
      );
      expect(seen, `${bundler}: ${browser.console.join('\n')}`).toBe(12);

      // the mesh from its tarball: two meshes in the page call each other over loopback
      const said = await browser.page.evaluate(
        async ({ url, room }) => {
          type Api = Record<string, (...args: unknown[]) => unknown>;
          type Mesh = {
            on(
              event: string,
              listener: (peer: { id: string; send(d: string): void }, data?: unknown) => void,
            ): void;
            close(): void;
          };
          const api = (globalThis as unknown as { tarball: Api }).tarball;
          const loopback = (c: string) => / udp \d+ 127\.0\.0\.1 /i.test(c);
          const heard: string[] = [];
          const signallers = ['m-a', 'm-b'].map(
            (id) =>
              api['createSignaller']!(api['webSocketConnector']!(url), { id }) as { leave(): void },
          );
          const meshes = signallers.map((signaller) => {
            const mesh = api['createMesh']!(signaller, { room, filterCandidate: loopback }) as Mesh;
            mesh.on('peer:connected', (peer) => peer.send('hi'));
            mesh.on('peer:data', (peer, data) => heard.push(`${peer.id}:${String(data)}`));
            return mesh;
          });
          const deadline = Date.now() + 15_000;
          while (heard.length < 2 && Date.now() < deadline)
            await new Promise((resolve) => setTimeout(resolve, 50));
          for (const mesh of meshes) mesh.close();
          for (const signaller of signallers) signaller.leave();
          return heard.sort();
        },
        { url: server.url, room: `${room}-mesh` },
      );
      expect(said, `${bundler}: ${browser.console.join('\n')}`).toEqual(['m-a:hi', 'm-b:hi']);
    }
  }, 240_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { mintToken, TEST_JWT_SECRET, waitUntil } from '@switchyard/testing';
import { originalSignaller, type OriginalSignaller } from './original-client.test-helper.ts';
import { killServers, runSwitchyard, SWITCHYARD_MAIN } from './server-process.test-helper.ts';

const main = SWITCHYARD_MAIN;
const run = runSwitchyard;
/** Processes a test spawned itself (refused starts, a second server). */
const spawned: ChildProcess[] = [];

const originals: OriginalSignaller[] = [];
const devices: MqttClient[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const device of devices.splice(0)) await device.endAsync(true);
  for (const signaller of originals.splice(0)) signaller.leave();
  killServers();
  for (const child of spawned.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('switchyard binary', () => {
  it('serves an original rtc-signaller@6.3.0 client: announce → /roominfo memberCount 1', async () => {
    const { port } = await run([]);
    const original = originalSignaller(`http://127.0.0.1:${port}`);
    originals.push(original);
    const roominfo = new Promise<[unknown, string]>((resolve) =>
      original.once('message:roominfo', (data: unknown, raw: string) => resolve([data, raw])),
    );
    original.announce({ room: 'interop' });
    const [data, raw] = await roominfo;
    expect(data).toEqual({ memberCount: 1 });
    expect(raw).toBe('/roominfo|{"memberCount":1}');
  });

  it('logs JSON, answers /healthz and shuts down on SIGTERM with close code 1001', async () => {
    const { child, port, lines } = await run(['--log-level', 'info']);
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<
      string,
      unknown
    >;
    expect(health).toMatchObject({ status: 'ok', connections: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await exited).toBe(0);
    expect(lines.map((line) => line['msg'])).toEqual(
      expect.arrayContaining(['switchyard listening', 'signal received', 'stopped']),
    );
  });

  it('npm start defaults: an embedded MQTT broker on the same process; a device meets a WebSocket peer', async () => {
    const { port, lines } = await run(['--mqtt', 'embedded', '--mqtt-port', '0']);
    const listening = lines.find((line) => line['msg'] === 'switchyard listening')!;
    expect(listening['transports']).toEqual(['ws', 'socket.io', 'sse', 'mqtt']);
    const mqtt = (listening['served'] as string[]).find((line) => line.startsWith('MQTT'));
    expect(mqtt).toMatch(
      /embedded broker at mqtt:\/\/127\.0\.0\.1:\d+, MQTT over WebSocket at \/mqtt/,
    );
    const brokerPort = Number(/127\.0\.0\.1:(\d+)/.exec(mqtt ?? '')?.[1]);
    expect(brokerPort).toBeGreaterThan(0);
    // a device with no Switchyard code: raw MQTT.js on the documented topics
    const device = await connectAsync(`mqtt://127.0.0.1:${brokerPort}`, {
      clientId: 'cam1',
      will: {
        topic: 'switchyard/status/cam1',
        payload: Buffer.from('offline'),
        qos: 1,
        retain: false,
      },
    });
    devices.push(device);
    const down: string[] = [];
    device.on('message', (_topic, payload) => down.push(payload.toString()));
    await device.subscribeAsync('switchyard/down/cam1', { qos: 1 });
    await device.publishAsync('switchyard/up/cam1', '/announce|cam1|{"id":"cam1","room":"iot"}', {
      qos: 1,
    });
    // PUBACK only says the broker has it; the hub has it once the device hears its /roominfo
    await waitUntil(
      () => down.includes('/roominfo|{"memberCount":1}'),
      `the device's /roominfo: ${JSON.stringify(down)}`,
    );
    const web = new WebSocket(`ws://127.0.0.1:${port}/`);
    sockets.push(web);
    const atWeb: string[] = [];
    web.on('message', (data) => atWeb.push(data.toString()));
    await new Promise((resolve) => web.once('open', resolve));
    web.send('/announce|web|{"id":"web","room":"iot"}');
    await waitUntil(
      () => atWeb.includes('/roominfo|{"memberCount":2}'),
      `the browser to join the device: ${JSON.stringify(atWeb)} ${JSON.stringify(down)}`,
    );
    web.send('/to|cam1|/offer|web|{"sdp":"v=0"}');
    await waitUntil(
      () => down.includes('/to|cam1|/offer|web|{"sdp":"v=0"}'),
      'the offer at the device',
    );
    await device.publishAsync('switchyard/up/cam1', '/to|web|/answer|cam1|{"sdp":"v=0"}', {
      qos: 1,
    });
    await waitUntil(
      () => atWeb.includes('/to|web|/answer|cam1|{"sdp":"v=0"}'),
      'the answer at the browser',
    );
  });

  it('--transports runs only those; unserved paths and upgrades are answered, never left hanging', async () => {
    const { port, lines } = await run(['--transports', 'ws,sse']);
    const listening = lines.find((line) => line['msg'] === 'switchyard listening')!;
    expect(listening['transports']).toEqual(['ws', 'sse']);
    const index = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(index).toContain('WebSocket on every path');
    expect(index).toContain('SSE at GET /sse');
    expect(index).not.toContain('Socket.IO');
    const polling = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(404);
    // an upgrade on the SSE path: refused with 400 and the socket ended
    const refused = new WebSocket(`ws://127.0.0.1:${port}/sse`);
    sockets.push(refused);
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_request, response) =>
        resolve(response.statusCode ?? 0),
      );
      refused.once('error', () => resolve(-1));
    });
    expect(status).toBe(400);
  });

  it('rejects a bad flag or environment variable with a clear message and exit code', async () => {
    const refused = async (args: string[], env: Record<string, string> = {}) => {
      const child = spawn(process.execPath, [main, ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      spawned.push(child);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).not.toBe(0);
      return stderr;
    };
    expect(await refused(['--port', 'eighty'])).toMatch(
      /port must be an integer from 0 to 65535, got "eighty"/,
    );
    expect(await refused([], { SWITCHYARD_PORT: 'eighty' })).toMatch(
      /^switchyard: SWITCHYARD_PORT: port must be an integer from 0 to 65535, got "eighty"/,
    );
  });

  it('reports a taken port instead of crashing', async () => {
    const { port } = await run([]);
    const second = spawn(process.execPath, [main, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    spawned.push(second);
    let stdout = '';
    second.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await new Promise((resolve) => second.once('exit', resolve))).toBe(1);
    expect(stdout).toContain(`port ${port} on 127.0.0.1 is in use`);
  });

  it('--jwt-secret: a connection without a token gets 4001, one with a token joins; --help and /healthz show it', async () => {
    const secret = TEST_JWT_SECRET;
    const help = spawn(process.execPath, [main, '--help'], {
      env: { ...process.env, SWITCHYARD_JWT_SECRET: secret },
    });
    spawned.push(help);
    let text = '';
    help.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await new Promise((resolve) => help.once('exit', resolve));
    expect(text).toMatch(/--jwt-secret <secret>[\s\S]*--jwt-jwks <url\|file>/);
    expect(text).not.toContain(secret); // a default in --help would print the secret

    const { port } = await run([], { SWITCHYARD_JWT_SECRET: secret });
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
      auth: string;
    };
    expect(health.auth).toMatch(/^jwt: secret/);
    const open = async (url: string) => {
      const ws = new WebSocket(url);
      sockets.push(ws);
      const frames: string[] = [];
      ws.on('message', (data) => frames.push(data.toString()));
      await new Promise((resolve) => ws.once('open', resolve));
      return { ws, frames };
    };
    const anonymous = await open(`ws://127.0.0.1:${port}/`);
    const closed = new Promise<number>((resolve) =>
      anonymous.ws.once('close', (code) => resolve(code)),
    );
    anonymous.ws.send('/announce|A|{"id":"A","room":"r"}');
    expect(await closed).toBe(4001);
    expect(anonymous.frames[0]).toMatch(/^\/error\|\{"code":"unauthorized"/);
    const token = await mintToken({ sub: 'alice', rooms: ['r'] });
    const member = await open(`ws://127.0.0.1:${port}/?token=${token}`);
    member.ws.send('/announce|B|{"id":"B","room":"r"}');
    await waitUntil(
      () => member.frames.find((frame) => frame.startsWith('/roominfo|')),
      'roominfo',
    );
    // the original rtc-signaller@6.3.0 authenticates with an announce attribute
    const original = originalSignaller(`http://127.0.0.1:${port}`);
    originals.push(original);
    const joined = new Promise((resolve) => original.once('message:roominfo', resolve));
    original.announce({ room: 'r', token: await mintToken({ sub: 'carol' }) });
    expect(await joined).toEqual({ memberCount: 2 });
    const relayed = await waitUntil(
      () => member.frames.find((frame) => frame.startsWith('/announce|')),
      'the original announce',
    );
    expect(relayed).not.toContain('token');
    const refused = spawn(process.execPath, [main, '--port', '0', '--jwt-secret', 'short'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    spawned.push(refused);
    let stderr = '';
    refused.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((resolve) => refused.once('exit', resolve))).toBe(2);
    expect(stderr).toContain('at least 32 bytes');
  });
});

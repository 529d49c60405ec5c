/**
 * The liveness probe decides on evidence, not on a timer racing the server's own work: a holder
 * in another process whose pong arrived while the server's loop was stalled keeps its id.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import { cleanupStack, inbox, rawClient, serveHalves, waitUntil } from '@switchyard/testing';
import { webSocketConnector } from './client.ts';
import { webSocketServer } from './server.ts';

/** A holder of `id` in a child process: `ws` answers pings there on its own loop. */
function holderProcess(url: string, id: string) {
  const script = `
    const { WebSocket } = require('ws');
    // pongs 100 ms late, so that this one arrives while the server is busy
    const ws = new WebSocket(process.argv[1], { autoPong: false });
    ws.on('ping', (data) => setTimeout(() => ws.pong(data), 100));
    ws.on('open', () => ws.send('/announce|${id}|{"id":"${id}","room":"r"}'));
    ws.on('message', (data) => process.stdout.write(String(data) + '\\n'));
    ws.on('close', (code) => { process.stdout.write('closed ' + code + '\\n'); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: new URL('.', import.meta.url).pathname,
  });
  const lines = inbox<string>('a line from the holder process');
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(line);
  });
  return { child, lines };
}

/** Blocks the loop for `ms` inside a socket's data callback (the poll phase). */
async function stallInIoCallback(ms: number): Promise<void> {
  const server = createServer((socket) =>
    socket.once('data', () => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // the server's own work
      }
      socket.end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1', () =>
    client.write('x'),
  );
  await new Promise((resolve) => client.once('close', resolve));
  await new Promise((resolve) => server.close(resolve));
}

describe('liveness probe under load', () => {
  it('a live holder whose pong waits behind a stalled loop keeps its id', async () => {
    await using stack = cleanupStack();
    const hub = createHub({ livenessTimeoutMs: 300 });
    stack.defer(() => hub.close());
    const served = stack.use(await serveHalves(hub.accept, [webSocketServer()]));
    const holder = holderProcess(served.url('/').replace('http', 'ws'), 'H');
    stack.defer(() => holder.child.kill('SIGKILL'));
    await holder.lines.next((line) => line.startsWith('/roominfo'), 5000);

    const claimant = stack.use(await rawClient(webSocketConnector(served.url('/'))));
    claimant.say('/announce|H|{"id":"H","room":"r"}');
    // the probe's ping is on its way; now the server is busy far past the probe's deadline,
    // inside an I/O callback as when it handles a broadcast storm: the timers run first after it
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stallInIoCallback(1000);
    const refused = await claimant.next((m) => m.startsWith('/error|'));
    expect(refused).toContain('"code":"id-taken"');
    await waitUntil(() => hub.roomMembers('r').join() === 'H', 'H still in the room');
    expect(holder.lines.received.some((line) => line.startsWith('closed'))).toBe(false);
  });
});

#!/usr/bin/env node
/**
 * `npm run bench:auth`: what a flood of bad tokens costs a `switchyard --jwt-secret` server,
 * against a flood of bad frames in the same run (docs/benchmarks.md, "Bad tokens"). Server CPU
 * is read from /proc; every flood is counted to its last `/error` reply.
 */
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { spawnServer, type ServerProcess } from './server-process.ts';

const program = new Command('switchyard-bench-auth')
  .description('CPU per refused message and per refused connection: bad tokens versus bad frames.')
  .option('--messages <n>', 'messages per message flood', (v) => Number(v), 20_000)
  .option('--connections <n>', 'connections per connection flood', (v) => Number(v), 1000)
  .option('--senders <n>', 'connections sending the message floods', (v) => Number(v), 20);
program.parse();
const options = program.opts<{ messages: number; connections: number; senders: number }>();

const SECRET = randomBytes(32).toString('hex');
const forged = (n: number) =>
  new SignJWT({ sub: 'mallory', n })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(`not-the-secret-${SECRET}`));
const valid = (sub: string) =>
  new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

function open(url: string, onMessage: (text: string) => void = () => undefined) {
  return new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on('message', (data) => onMessage(data.toString()));
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Server CPU seconds spent until `done` resolves. */
async function cpuOf(server: ServerProcess, run: () => Promise<void>): Promise<number> {
  const before = server.cpuSeconds();
  await run();
  return server.cpuSeconds() - before;
}

/** `senders` members send `frames(i)` round-robin and wait for one `/error` per frame. */
async function messageFlood(
  server: ServerProcess,
  frames: string[],
): Promise<{ cpuSeconds: number; answered: number }> {
  let errors = 0;
  const senders = await Promise.all(
    Array.from({ length: options.senders }, async (_, s) => {
      const id = `m${s}`;
      let joined!: () => void;
      const member = new Promise<void>((resolve) => (joined = resolve));
      const socket = await open(`${server.url}?token=${await valid(id)}`, (text) => {
        if (text.startsWith('/error|')) errors += 1;
        else if (text.startsWith('/roominfo|')) joined();
      });
      socket.send(`/announce|{"id":"${id}"}|{"id":"${id}","room":"flood"}`);
      await member;
      return { id, socket };
    }),
  );
  return cpuOf(server, async () => {
    frames.forEach((frame, i) => {
      const sender = senders[i % senders.length]!;
      sender.socket.send(frame.replaceAll('$ID', sender.id));
    });
    // every frame is answered, except those dropped behind a pending token check (one
    // `rate-limited` a second says so): done when all are answered or the server goes quiet
    const deadline = Date.now() + 60_000;
    let seen = -1;
    while (errors < frames.length && errors !== seen && Date.now() < deadline) {
      seen = errors;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    for (const { socket } of senders) socket.terminate();
  }).then((cpuSeconds) => ({ cpuSeconds, answered: errors }));
}

/** Connections that each get refused once and closed, `parallel` at a time. */
async function connectionFlood(
  server: ServerProcess,
  attempt: (n: number) => Promise<void>,
): Promise<number> {
  return cpuOf(server, async () => {
    const parallel = 50;
    for (let start = 0; start < options.connections; start += parallel)
      await Promise.all(
        Array.from({ length: Math.min(parallel, options.connections - start) }, (_, i) =>
          attempt(start + i),
        ),
      );
  });
}

/** Opens a socket, lets `act` provoke one `/error`, waits for it (and for the close if any). */
function refusedOnce(url: string, act: (socket: WebSocket) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => act(socket));
    socket.on('message', (data) => {
      if (!data.toString().startsWith('/error|')) return;
      socket.once('close', () => resolve());
      socket.close();
    });
    socket.once('error', reject);
  });
}

const server = await spawnServer('switchyard', { serverArgs: ['--jwt-secret', SECRET] });
const rows: { flood: string; count: number; cpuSeconds: number; answered?: number }[] = [];
try {
  const n = options.messages;
  const tokens = await Promise.all(Array.from({ length: n }, (_, i) => forged(i)));
  console.log(
    `switchyard --jwt-secret …, ${n} messages from ${options.senders} members, ${options.connections} connections per connection flood`,
  );
  const floods: [string, string[]][] = [
    ['frames: sender-mismatch', Array.from({ length: n }, () => '/chat|someone-else|x')],
    ['frames: invalid announce', Array.from({ length: n }, () => '/announce|$ID|{"id":')],
    [
      'tokens: made-up sender tokens',
      tokens.map((token) => `/chat|{"id":"$ID","token":"${token}"}|x`),
    ],
  ];
  for (const [flood, frames] of floods)
    rows.push({ flood, count: n, ...(await messageFlood(server, frames)) });
  const connections = options.connections;
  rows.push({
    flood: 'connections: one bad frame each',
    count: connections,
    cpuSeconds: await connectionFlood(server, () =>
      refusedOnce(server.url, (socket) => socket.send('not a command')),
    ),
  });
  rows.push({
    flood: 'connections: bad connect-time token',
    count: connections,
    cpuSeconds: await connectionFlood(server, (i) =>
      refusedOnce(`${server.url}?token=${tokens[i % tokens.length]!}`, () => undefined),
    ),
  });
  rows.push({
    flood: 'connections: bad announce token',
    count: connections,
    cpuSeconds: await connectionFlood(server, (i) =>
      refusedOnce(server.url, (socket) =>
        socket.send(`/announce|A|{"id":"A","room":"r","token":"${tokens[i % tokens.length]!}"}`),
      ),
    ),
  });
} finally {
  await server.stop();
}
const perUnit = (row: (typeof rows)[number]) => (row.cpuSeconds / row.count) * 1e6;
const baseline = (prefix: string) => perUnit(rows.find((row) => row.flood.startsWith(prefix))!);
console.table(
  rows.map((row) => {
    const base = row.flood.startsWith('connections') ? baseline('connections') : baseline('frames');
    return {
      flood: row.flood,
      count: row.count,
      'answered /error': row.answered ?? row.count,
      'server CPU s': row.cpuSeconds.toFixed(3),
      'µs each': perUnit(row).toFixed(1),
      '× bad frames': (perUnit(row) / base).toFixed(2),
    };
  }),
);

/**
 * Hostile input: a seeded fuzzer throws random and mutated frames at a live server while two
 * honest clients keep talking. The server must not crash, its memory must stay bounded, and the
 * honest clients must lose nothing.
 *
 * `SWITCHYARD_FUZZ_FRAMES` (default 100000) and `SWITCHYARD_FUZZ_SEED` make a longer soak:
 *   SWITCHYARD_FUZZ_FRAMES=2000000 npx vitest run --config apps/server/vitest.config.ts src/hostile
 */
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { nextEvent, waitUntil } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { startServer, type RunningServer } from '../server.ts';
import { FrameFuzzer } from './frame-fuzzer.test-helper.ts';

const FRAMES = Number(process.env['SWITCHYARD_FUZZ_FRAMES'] ?? 100_000);
const SEED = Number(process.env['SWITCHYARD_FUZZ_SEED'] ?? 20261126);
const FUZZ_CONNECTIONS = 8;
const HONEST_MESSAGES = 2000;

let server: RunningServer | undefined;
const sockets = new Set<WebSocket>();
const honest: Signaller[] = [];
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  for (const signaller of honest) signaller.leave();
  await server?.close();
});

/** A fuzzing connection that reopens itself when the server closes it (1009, 4008, 4009…). */
function fuzzSocket(url: string, closes: Map<number, number>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    sockets.add(socket);
    socket.on('message', () => undefined); // read replies so the server never sees a slow consumer
    socket.on('error', () => undefined);
    socket.once('close', (code) => {
      sockets.delete(socket);
      closes.set(code, (closes.get(code) ?? 0) + 1);
    });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('hostile input', () => {
  it(`survives ${FRAMES} fuzzed frames (seed ${SEED}) while honest peers lose nothing`, async () => {
    server = await startServer({
      port: 0,
      logger: pino({ level: 'silent' }),
      // the fuzzer must reach the parser, not just the rate limiter (floods are tested elsewhere)
      hub: { graceMs: 200, rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } },
    });
    const url = server.url.replace('http', 'ws');

    // two honest peers, one per dialect, in the room the fuzzer also attacks
    const alice = createSignaller(webSocketConnector(server.url), {
      id: 'alice',
      metadata: 'json',
    });
    const bob = createSignaller(webSocketConnector(server.url), { id: 'bob', metadata: 'bare' });
    honest.push(alice, bob);
    for (const peer of [alice, bob]) {
      const joined = nextEvent(peer, 'roominfo');
      peer.announce({ room: 'honest' });
      await joined;
    }
    const received = { alice: [] as number[], bob: [] as number[] };
    alice.on('message:seq', (n, source) => {
      if ((source as { id?: string } | undefined)?.id === 'bob' || source === 'bob')
        received.alice.push(n as number);
    });
    bob.on('message:seq', (n, source) => {
      if ((source as { id?: string } | undefined)?.id === 'alice' || source === 'alice')
        received.bob.push(n as number);
    });

    const closes = new Map<number, number>();
    const pool = await Promise.all(
      Array.from({ length: FUZZ_CONNECTIONS }, () => fuzzSocket(url, closes)),
    );
    const fuzzer = new FrameFuzzer(SEED, { room: 'honest', honestIds: ['alice', 'bob'] });
    const heapBefore = process.memoryUsage().heapUsed;
    let sent = 0;
    let honestSent = 0;
    while (sent < FRAMES) {
      for (let slot = 0; slot < pool.length && sent < FRAMES; slot++) {
        let socket = pool[slot]!;
        if (socket.readyState !== WebSocket.OPEN) {
          socket = pool[slot] = await fuzzSocket(url, closes);
        }
        for (let i = 0; i < 50 && sent < FRAMES; i++, sent++) {
          const frame = fuzzer.next();
          socket.send(frame.data, { binary: frame.binary });
        }
      }
      // honest traffic interleaved with the attack: alternately a /to and a broadcast
      if (honestSent < HONEST_MESSAGES && sent % 1000 < 400) {
        (honestSent % 2 ? alice.to('bob') : alice).send('/seq', honestSent);
        (honestSent % 2 ? bob.to('alice') : bob).send('/seq', honestSent);
        honestSent += 1;
      }
      // let replies drain so neither side buffers without bound
      await new Promise((resolve) => setImmediate(resolve));
    }
    while (honestSent < HONEST_MESSAGES) {
      alice.to('bob').send('/seq', honestSent);
      bob.to('alice').send('/seq', honestSent);
      honestSent += 1;
    }

    const expected = Array.from({ length: HONEST_MESSAGES }, (_, i) => i);
    await waitUntil(
      () => received.alice.length >= HONEST_MESSAGES && received.bob.length >= HONEST_MESSAGES,
      `honest messages (alice ${received.alice.length}, bob ${received.bob.length})`,
      30_000,
    );
    expect(received.alice).toEqual(expected);
    expect(received.bob).toEqual(expected);
    expect(alice.readyState).toBe('connected');
    expect(bob.readyState).toBe('connected');

    // the server is still whole: counters moved, errors were answered, state returns to the honest two
    const stats = server.hub.stats();
    expect(stats.messagesIn).toBeGreaterThan(FRAMES * 0.9);
    expect(Object.values(stats.errorsSent).reduce((a, b) => a + b, 0)).toBeGreaterThan(FRAMES / 4);
    for (const socket of sockets) socket.terminate();
    await waitUntil(
      () => server!.hub.stats().connections === 2,
      'fuzz connections to close',
      10_000,
    );
    await waitUntil(() => server!.hub.stats().members === 2, 'fuzz members to expire', 10_000);
    expect(server.hub.roomMembers('honest').sort()).toEqual(['alice', 'bob']);
    // bounded memory: what 100k frames leave behind is not proportional to them
    const growth = process.memoryUsage().heapUsed - heapBefore;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    console.info(
      `fuzz: ${sent} frames, ${stats.messagesIn} processed, errors ${JSON.stringify(stats.errorsSent)}, ` +
        `closes ${JSON.stringify(Object.fromEntries(closes))}, heap growth ${(growth / 2 ** 20).toFixed(1)} MiB`,
    );
  }, 180_000);
});

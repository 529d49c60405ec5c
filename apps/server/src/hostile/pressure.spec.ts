/**
 * More of issue 12's attacks against a real `switchyard` process, with honest peers talking
 * throughout: expensive JSON inside the rate limit (item 7), Socket.IO clients that flood and
 * never read (item 1), SSE sessions that acknowledge what they never read (item 2), and a crowd
 * claiming a live id (item 4). What must hold, as in attacks.spec.ts: bounded memory, no honest
 * message lost, every attacker closed or limited, `/healthz` back to the honest baseline.
 * `SWITCHYARD_SOAK_SECONDS` stretches the attack window (the soak mode; default 6 s).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { waitUntil } from '@switchyard/testing';
import { killServers, runSwitchyard } from '../server-process.test-helper.ts';
import { health, honestTraffic, peer } from './live.test-helper.ts';

/** RSS the attacks may add to the server, all of them together. */
const RSS_BOUND = 200 * 1024 * 1024;
const WINDOW_MS = Number(process.env['SWITCHYARD_SOAK_SECONDS'] ?? 6) * 1000;

afterAll(() => killServers());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `burst()` every 100 ms until `ms` have passed or every socket is closed. */
async function during(
  sockets: WebSocket[],
  burst: (ws: WebSocket, i: number) => void,
  ms = WINDOW_MS,
) {
  const until = Date.now() + ms;
  while (Date.now() < until && sockets.some((ws) => ws.readyState === WebSocket.OPEN)) {
    sockets.forEach((ws, i) => ws.readyState === WebSocket.OPEN && burst(ws, i));
    await sleep(100);
  }
}

const opened = (ws: WebSocket) =>
  new Promise<WebSocket>((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

/** The event-loop delay the server reports, in seconds (prom-client, reset at each scrape). */
async function loopLagMax(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('switchyard_nodejs_eventloop_lag_max_seconds'));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('pressure on a live server', () => {
  it(
    'expensive JSON, Socket.IO floods, SSE sinks that do not read, an id-claim crowd: honest peers lose nothing',
    async () => {
      const server = await runSwitchyard(['--transports', 'ws,socket.io,sse']);
      const { port } = server;
      const alice = await peer(port, 'alice', 'honest');
      const bob = await peer(port, 'bob', 'honest');
      const baseline = await health(port);
      const rssBefore = server.rssBytes();
      let rssPeak = rssBefore;
      let lagPeak = await loopLagMax(port);
      const sample = setInterval(() => {
        rssPeak = Math.max(rssPeak, server.rssBytes());
        void loopLagMax(port).then(
          (lag) => (lagPeak = Math.max(lagPeak, lag)),
          () => undefined,
        );
      }, 250);
      const honest = honestTraffic(alice, bob, 'alice', 'bob');

      // item 7: 40 members each sending 90 messages a second of 60 KiB JSON built to be slow to
      // parse (deeply nested announces) or parsed on the sender check (60 KiB json senders)
      const depth = 15_000;
      const cpu = await Promise.all(
        // each alone in its room: the cost measured is the server's parsing, not relaying
        Array.from({ length: 40 }, (_, i) => peer(port, `cpu${i}`, `cpu${i}`).then((p) => p.ws)),
      );
      const nested = (i: number) =>
        `/announce|cpu${i}|{"id":"cpu${i}","room":"cpu${i}","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const fatSender = (i: number) => `/chat|{"id":"cpu${i}","pad":"${'x'.repeat(60_000)}"}|x`;
      const cpuAttack = during(cpu, (ws, i) => {
        for (let n = 0; n < 9; n++) ws.send(n % 2 ? fatSender(i) : nested(i));
      });

      // item 1: Socket.IO clients that never read, flooding events of another name
      const sio = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const ws = await opened(
            new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`),
          );
          ws.on('error', () => undefined);
          ws.send('40');
          (ws as unknown as { _socket: { pause(): void } })._socket.pause();
          return ws;
        }),
      );
      // 20× the rate: closed as abusive once that lasts the 5 s abuse window
      const sioAttack = during(
        sio,
        (ws) => {
          for (let n = 0; n < 200; n++) ws.send(`42["not-rtc-signal","${'y'.repeat(512)}"]`);
        },
        Math.max(WINDOW_MS, 12_000),
      );

      // item 2: SSE sessions in a busy room that acknowledge everything and read nothing
      const sinks = await Promise.all(
        Array.from({ length: 4 }, async (_, i) => {
          const controller = new AbortController();
          const response = await fetch(`http://127.0.0.1:${port}/sse`, {
            signal: controller.signal,
          });
          const reader = response.body!.getReader();
          const first = new TextDecoder().decode((await reader.read()).value);
          const session = /"session":"([^"]+)"/.exec(first)![1]!;
          const post = (body: string, ack = 1e12) =>
            fetch(`http://127.0.0.1:${port}/sse/${session}?ack=${ack}`, {
              method: 'POST',
              headers: { 'content-type': 'text/plain' },
              body,
            }).then(
              (r) => r.status,
              () => 0,
            );
          await post(`/announce|sink${i}|{"id":"sink${i}","room":"busy"}`);
          return { controller, post, status: 200 }; // never reads `reader` again
        }),
      );
      const broadcasters = await Promise.all(
        Array.from({ length: 8 }, (_, i) => peer(port, `caster${i}`, 'busy').then((p) => p.ws)),
      );
      // until every sink is let go (at most 40 s): the kernel's socket buffers on loopback take
      // several MiB before the server's own write queue grows
      let sinksClosedAfterMs = -1;
      const busyAttack = (async () => {
        const started = Date.now();
        while (Date.now() < started + 40_000) {
          if ((await health(port)).transports['sse'] === 0) {
            sinksClosedAfterMs = Date.now() - started;
            return;
          }
          broadcasters.forEach((ws, i) => {
            for (let n = 0; n < 3; n++) ws.send(`/chat|caster${i}|${'z'.repeat(8_000)}`);
          });
          // the sinks claim to have read it all
          await Promise.all(sinks.map((sink) => sink.post('')));
          await sleep(100);
        }
      })();

      // item 4: 500 connections claiming bob's id at once: bob is probed and keeps it
      const crowd = await Promise.all(
        Array.from({ length: 500 }, async () => {
          const ws = await opened(new WebSocket(`ws://127.0.0.1:${port}/`));
          const replies: string[] = [];
          ws.on('message', (data) => replies.push(data.toString()));
          return { ws, replies };
        }),
      );
      for (const { ws } of crowd) ws.send('/announce|bob|{"id":"bob","room":"honest"}');
      await waitUntil(
        () => crowd.every(({ replies }) => replies.length > 0) || undefined,
        'every claimant answered',
        15_000,
      );

      await Promise.all([cpuAttack, sioAttack, busyAttack]);
      const result = await honest.stop(20_000);
      clearInterval(sample);
      const after = await health(port);

      expect(result.arrived).toEqual(result.expected);
      const taken = crowd.filter(({ replies }) =>
        replies[0]?.startsWith('/error|{"code":"id-taken"'),
      );
      expect(taken).toHaveLength(crowd.length);
      expect(bob.ws.readyState).toBe(WebSocket.OPEN);
      // the expensive senders were held to their byte budget or refused unparsed
      expect(after.dropped['rateLimited']).toBeGreaterThan(0);
      expect(after.errorsSent['malformed']).toBeGreaterThan(0);
      // a flooder that never reads never sees its close frame, nor a sink its close event: the
      // server's own counts tell
      let held = after;
      for (let tries = 0; tries < 150; tries++) {
        if (held.transports['socket.io'] === 0 && held.transports['sse'] === 0) break;
        await sleep(100);
        held = await health(port);
      }
      expect([held.transports['socket.io'], held.transports['sse']]).toEqual([0, 0]);
      // a sink is let go as a slow consumer (4008), or by its replay buffer (4008 too)
      expect(held.closed['slowConsumer']).toBeGreaterThan(0);
      console.info(
        `pressure: ${result.sent} honest messages, worst delay ${result.worstMs} ms, loop lag max ` +
          `${(lagPeak * 1000).toFixed(0)} ms, RSS ${(rssBefore / 2 ** 20).toFixed(0)} → peak ` +
          `${(rssPeak / 2 ** 20).toFixed(0)} MiB, dropped ${JSON.stringify(after.dropped)}, ` +
          `closed ${JSON.stringify(held.closed)}, SSE sinks let go after ${sinksClosedAfterMs} ms`,
      );
      expect(rssPeak - rssBefore).toBeLessThan(RSS_BOUND);

      for (const ws of [...cpu, ...broadcasters, ...crowd.map((c) => c.ws)]) ws.terminate();
      for (const sink of sinks) sink.controller.abort();
      let now = await health(port);
      for (let tries = 0; tries < 100 && !(now.connections === 2 && now.members === 2); tries++) {
        await sleep(100);
        now = await health(port);
      }
      expect([now.connections, now.members]).toEqual([baseline.connections, baseline.members]);
      for (const honestPeer of [alice, bob]) honestPeer.ws.close();
    },
    WINDOW_MS + 90_000,
  );
});

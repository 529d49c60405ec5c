/** The benchmark scenarios. Each is bounded in time and count and reports one `Result`. */
import { performance } from 'node:perf_hooks';
import {
  announce,
  announceMany,
  closeAll,
  connectClient,
  connectMany,
  payload,
  readStamp,
  transportOf,
  type BenchClient,
} from './load.ts';
import type { ServerProcess } from './server-process.ts';
import { Ledger, Samples } from './stats.ts';

/** One measured run of one scenario against one server. */
export interface Result {
  readonly scenario: string;
  /** The server's label: its kind, with the node count of a cluster. */
  readonly server: string;
  /** The transport the clients spoke (`transportOf` their protocol). */
  readonly transport: string;
  readonly wallSeconds: number;
  readonly serverCpuSeconds: number;
  /** Server CPU seconds per wall second (1.0 = one core busy). */
  readonly cpuShare: number;
  /** Deliveries (or joins) counted in the measured window. */
  readonly count: number;
  readonly perSecond: number;
  /** Deliveries per second of server CPU: the fair throughput measure when both share 2 cores. */
  readonly perCoreSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly expected: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly rssPerConnection?: number;
  readonly connections?: number;
  /** A cluster's bus (Redis) CPU seconds per wall second, apart from `cpuShare`. */
  readonly busCpuShare?: number;
}

/** Common knobs. */
export interface ScenarioOptions {
  /** Length of each measured window. */
  readonly durationMs: number;
}

const now = () => performance.now();

/** Measures server CPU and wall time around `window`. */
async function measured(server: ServerProcess, window: () => Promise<number>) {
  const cpu0 = server.cpuSeconds();
  const bus0 = server.busCpuSeconds?.();
  const t0 = now();
  const count = await window();
  const wallSeconds = (now() - t0) / 1000;
  const serverCpuSeconds = server.cpuSeconds() - cpu0;
  const bus = bus0 === undefined ? undefined : server.busCpuSeconds!() - bus0;
  return {
    count,
    wallSeconds,
    serverCpuSeconds,
    cpuShare: serverCpuSeconds / wallSeconds,
    ...(bus !== undefined && { busCpuShare: bus / wallSeconds }),
  };
}

/** Waits until `done()` or the deadline; every wait in the bench is bounded. */
async function drain(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!done() && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function result(
  scenario: string,
  server: ServerProcess,
  m: {
    count: number;
    wallSeconds: number;
    serverCpuSeconds: number;
    cpuShare: number;
    busCpuShare?: number;
  },
  samples: Samples,
  accounting: { expected: number; ledger: Ledger },
): Result {
  return {
    scenario,
    server: server.label,
    transport: transportOf(server.protocol),
    ...m,
    perSecond: m.count / m.wallSeconds,
    perCoreSecond: m.serverCpuSeconds > 0 ? m.count / m.serverCpuSeconds : NaN,
    p50Ms: samples.percentile(50),
    p99Ms: samples.percentile(99),
    expected: accounting.expected,
    lost: accounting.expected - accounting.ledger.delivered,
    duplicated: accounting.ledger.duplicated,
  };
}

/**
 * `pairs` pairs exchange `/to` messages. With `rate` undefined each sender keeps `window`
 * messages in flight (saturation); otherwise all senders together send `rate` messages/s.
 */
export async function directed(
  server: ServerProcess,
  options: ScenarioOptions & { pairs: number; rate?: number; window?: number },
): Promise<Result> {
  const clients = await connectMany(server, options.pairs * 2, 'd');
  await announceMany(clients, (i) => `pair-${Math.floor(i / 2)}`);
  const partnerOf = (i: number) => (i % 2 === 0 ? i + 1 : i - 1);
  const sent = new Array<number>(clients.length).fill(0);
  const acked = new Array<number>(clients.length).fill(0);
  const ledger = new Ledger();
  const samples = new Samples();
  const window = options.window ?? 16;
  let sending = true;
  let recording = false;

  const sendFrom = (i: number) => {
    const target = clients[partnerOf(i)]!.id;
    clients[i]!.send(`/to|${target}|/candidate|${clients[i]!.id}|${payload(sent[i]!++, now())}`);
  };
  clients.forEach((client, i) => {
    const from = partnerOf(i);
    const key = `${from}>${i}`;
    client.onMessage = (message) => {
      const stamp = readStamp(message);
      if (!stamp) return;
      acked[from]! += 1;
      ledger.record(key, stamp.seq);
      if (recording) samples.add(now() - stamp.sentAt);
      if (options.rate === undefined)
        while (sending && sent[from]! - acked[from]! < window) sendFrom(from);
    };
  });

  /** Sends for `ms`: self-clocked windows at saturation, or a steady `rate`. */
  const drive = async (ms: number) => {
    if (options.rate === undefined) {
      clients.forEach((_, i) => {
        while (sent[i]! - acked[i]! < window) sendFrom(i);
      });
      await sleep(ms);
      return;
    }
    const start = now();
    let due = 0;
    let next = 0;
    while (now() - start < ms) {
      const target = Math.floor(((now() - start) / 1000) * options.rate);
      for (; due < target; due++) sendFrom(next++ % clients.length);
      await sleep(2);
    }
  };
  // warm-up under the same load lets both servers reach steady state (JIT, buffers) first
  await drive(Math.min(1000, options.durationMs / 4));
  const m = await measured(server, async () => {
    const before = ledger.delivered;
    recording = true;
    await drive(options.durationMs);
    recording = false;
    return ledger.delivered - before;
  });
  sending = false;
  const expected = () => sent.reduce((a, b) => a + b, 0);
  await drain(() => ledger.delivered + ledger.duplicated >= expected());
  closeAll(clients);
  const name = options.rate === undefined ? 'directed' : `directed@${options.rate}/s`;
  return result(name, server, m, samples, { expected: expected(), ledger });
}

/** One room of `members`; members take turns broadcasting, `window` messages in flight. */
export async function broadcast(
  server: ServerProcess,
  options: ScenarioOptions & { members: number; window?: number },
): Promise<Result> {
  const clients = await connectMany(server, options.members, 'b');
  await announceMany(clients, () => 'broadcast', 1);
  const fanout = options.members - 1;
  const sent = new Array<number>(clients.length).fill(0);
  const ledger = new Ledger();
  const samples = new Samples();
  const limit = (options.window ?? 32) * fanout;
  let sending = true;
  let recording = false;
  let next = 0;
  let totalSent = 0;

  const pump = () => {
    while (sending && totalSent * fanout - ledger.delivered < limit) {
      const i = next++ % clients.length;
      clients[i]!.send(`/candidate|${clients[i]!.id}|${payload(sent[i]!++, now())}`);
      totalSent += 1;
    }
  };
  clients.forEach((client, me) => {
    client.onMessage = (message) => {
      const stamp = readStamp(message);
      if (!stamp) return;
      const sender = message.slice(
        message.indexOf('|') + 1,
        message.indexOf('|', message.indexOf('|') + 1),
      );
      ledger.record(`${sender}>${me}`, stamp.seq);
      if (recording) samples.add(now() - stamp.sentAt);
      pump();
    };
  });
  pump();
  await sleep(Math.min(1000, options.durationMs / 4));
  const m = await measured(server, async () => {
    const before = ledger.delivered;
    recording = true;
    await sleep(options.durationMs);
    recording = false;
    return ledger.delivered - before;
  });
  sending = false;
  await drain(() => ledger.delivered + ledger.duplicated >= totalSent * fanout);
  closeAll(clients);
  return result(`broadcast/${options.members}`, server, m, samples, {
    expected: totalSent * fanout,
    ledger,
  });
}

/**
 * Churn: `workers` loops of connect → announce → seen by a watcher in the room → `/leave` →
 * close. Latency is connect start to the watcher seeing the announce.
 */
export async function churn(
  server: ServerProcess,
  options: ScenarioOptions & { workers: number; rooms?: number; maxJoins?: number },
): Promise<Result> {
  const roomCount = options.rooms ?? 4;
  const watchers = await connectMany(server, roomCount, 'w');
  await announceMany(watchers, (i) => `churn-${i}`);
  const waiting = new Map<string, () => void>();
  for (const watcher of watchers) {
    watcher.onMessage = (message) => {
      if (!message.startsWith('/announce|')) return;
      const id = message.slice(10, message.indexOf('|', 10));
      waiting.get(id)?.();
    };
  }
  const samples = new Samples();
  const ledger = new Ledger();
  const maxJoins = options.maxJoins ?? 200_000;
  let joins = 0;
  let started = 0;
  let stop = false;

  const worker = async (w: number) => {
    while (!stop && started < maxJoins) {
      const n = started++;
      const id = `c${w}-${n}`;
      const t0 = now();
      const seen = new Promise<void>((resolve) => waiting.set(id, resolve));
      const client: BenchClient = await connectClient(
        server.urls[n % server.urls.length]!,
        id,
        server.protocol,
      );
      await announce(client, `churn-${n % roomCount}`);
      await seen;
      waiting.delete(id);
      samples.add(now() - t0);
      ledger.record(id, 0);
      joins += 1;
      client.send(`/leave|${id}|{"id":"${id}"}`);
      client.end();
    }
  };
  const m = await measured(server, async () => {
    const loops = Array.from({ length: options.workers }, (_, w) => worker(w));
    await sleep(options.durationMs);
    stop = true;
    await Promise.all(loops);
    return joins;
  });
  closeAll(watchers);
  return result('churn', server, m, samples, { expected: started, ledger });
}

/** `connections` announced connections in rooms of 4: server memory per connection. */
export async function idle(
  server: ServerProcess,
  options: { connections: number; settleMs?: number },
): Promise<Result> {
  const settleMs = options.settleMs ?? 1000;
  await sleep(Math.min(300, settleMs));
  const before = server.rssBytes();
  const t0 = now();
  const cpu0 = server.cpuSeconds();
  const clients = await connectMany(server, options.connections, 'i');
  await announceMany(clients, (i) => `idle-${Math.floor(i / 4)}`);
  const wallSeconds = (now() - t0) / 1000;
  const serverCpuSeconds = server.cpuSeconds() - cpu0;
  // let allocation settle, then take the lowest of a few samples (GC timing varies per process)
  await sleep(settleMs);
  let after = Infinity;
  for (let i = 0; i < 5; i++) {
    after = Math.min(after, server.rssBytes());
    await sleep(settleMs / 5);
  }
  closeAll(clients);
  return {
    scenario: `idle/${options.connections}`,
    server: server.label,
    transport: transportOf(server.protocol),
    wallSeconds,
    serverCpuSeconds,
    cpuShare: serverCpuSeconds / wallSeconds,
    count: options.connections,
    perSecond: options.connections / wallSeconds,
    perCoreSecond: options.connections / serverCpuSeconds,
    p50Ms: NaN,
    p99Ms: NaN,
    expected: 0,
    lost: 0,
    duplicated: 0,
    rssPerConnection: (after - before) / options.connections,
    connections: options.connections,
  };
}

/**
 * `npm run bench -- --cluster`: cross-node directed and broadcast traffic on 2 and 3
 * `switchyard --cluster` nodes against the single node; the raw relay on 1, 2 and 3 processes
 * over the same Redis as the floor of a hop; and a socket.io relay on `@socket.io/redis-adapter`
 * as the anchor, all in one run (docs/benchmarks.md, "Cluster"). Throughput is per core-second of all nodes' CPU; Redis's
 * own CPU is shown beside it.
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startBenchRedis, startGroup, type BenchRedis } from './cluster.ts';
import { payload, readStamp } from './load.ts';
import { Ledger, Samples, withDeadline } from './stats.ts';
import { fixed, printTable } from './report.ts';
import { broadcast, directed, type Result } from './scenarios.ts';
import type { ServerProcess } from './server-process.ts';

export interface ClusterBenchOptions {
  readonly durationMs: number;
  readonly quick: boolean;
  readonly out: string;
}

type Run = (server: ServerProcess) => Promise<Result>;

// the raw relay on Redis is the floor of a hop: the same processes and PUBLISHes, no logic
const GROUPS = [
  ['switchyard', 1],
  ['switchyard', 2],
  ['switchyard', 3],
  ['raw', 1],
  ['raw', 2],
  ['raw', 3],
  ['socket.io', 2],
  ['socket.io', 3],
] as const;

/** Runs the cluster scenarios; returns the number of messages lost or duplicated. */
export async function runClusterBench(options: ClusterBenchOptions): Promise<number> {
  const { durationMs, quick } = options;
  const scenarios: Array<[name: string, run: Run, rounds: number]> = [
    ['directed', (s) => directed(s, { durationMs, pairs: quick ? 10 : 50 }), 1],
    // the added latency of a hop: at a steady 2,000/s, three alternating rounds, median each
    ['rate', (s) => directed(s, { durationMs, pairs: 50, rate: 2000 }), quick ? 1 : 3],
    ['broadcast', (s) => broadcast(s, { durationMs, members: quick ? 10 : 50 }), 1],
  ];
  const redis = await startBenchRedis();
  const results: Result[] = [];
  console.log(
    `cluster bench: ${scenarios.length} scenarios × ${GROUPS.length} servers, ${durationMs / 1000} s windows, redis ${redis.url}\n`,
  );
  try {
    for (const [name, run, rounds] of scenarios) {
      const runs = new Map<string, Result[]>();
      for (let round = 0; round < rounds; round++)
        for (const [kind, nodes] of GROUPS) {
          const group = await startGroup(kind, nodes, redis);
          process.stdout.write(`  ${name.padEnd(10)} ${group.label.padEnd(14)} … `);
          try {
            const outcome = await withDeadline(
              run(group),
              60_000 + durationMs * 4,
              `${name} ${group.label}`,
            );
            appendFileSync(options.out, `${JSON.stringify({ type: 'result', ...outcome })}\n`);
            process.stdout.write(
              `${Math.round(outcome.perSecond)}/s, ${Math.round(outcome.perCoreSecond)}/core·s, p99 ${outcome.p99Ms.toFixed(2)} ms, lost ${outcome.lost}\n`,
            );
            runs.set(group.label, [...(runs.get(group.label) ?? []), outcome]);
          } catch (error) {
            // the run costs its row, not the rest of the bench; the exit code says so
            process.stdout.write(`failed: ${String(error)}\n`);
            process.exitCode = 1;
          } finally {
            await group.stop();
          }
        }
      // the floor under every hop: the same messages through bare Redis pub/sub, no server
      if (name === 'rate') {
        const floor: Result[] = [];
        for (let round = 0; round < rounds; round++) {
          const outcome = await busHop(redis, { durationMs, rate: 2000 });
          appendFileSync(options.out, `${JSON.stringify({ type: 'result', ...outcome })}\n`);
          floor.push(outcome);
        }
        runs.set(BUS, floor);
        process.stdout.write(
          `  ${name.padEnd(10)} ${BUS} … p99 ${floor[0]!.p99Ms.toFixed(2)} ms\n`,
        );
      }
      for (const outcomes of runs.values()) {
        const chosen = [...outcomes].sort((a, b) => a.p99Ms - b.p99Ms)[outcomes.length >> 1]!;
        const lost = outcomes.reduce((sum, r) => sum + r.lost, 0);
        const duplicated = outcomes.reduce((sum, r) => sum + r.duplicated, 0);
        results.push({ ...chosen, lost, duplicated });
      }
    }
  } finally {
    await redis.stop();
  }
  console.log('');
  printTable(results);
  console.log('');
  const ratios = clusterRatios(results);
  appendFileSync(options.out, `${JSON.stringify({ type: 'cluster-ratios', ratios })}\n`);
  // a baseline's losses are its own (shown in the table); only Switchyard's fail the run
  return results
    .filter((r) => r.server.startsWith('switchyard'))
    .reduce((sum, r) => sum + r.lost + r.duplicated, 0);
}

interface ClusterRatio {
  readonly scenario: string;
  readonly comparison: string;
  readonly value: number;
  readonly bar: string;
  readonly pass: boolean;
}

/** The bars of the cluster issue: per core against the single node and the socket.io adapter. */
function clusterRatios(results: readonly Result[]): ClusterRatio[] {
  const find = (scenario: string, server: string) =>
    results.find((r) => r.scenario === scenario && r.server === server);
  const ratios: ClusterRatio[] = [];
  for (const scenario of [...new Set(results.map((r) => r.scenario))]) {
    const single = find(scenario, 'switchyard');
    for (const nodes of [2, 3]) {
      const ours = find(scenario, `switchyard×${nodes}`);
      const anchor = find(scenario, `socket.io×${nodes}`);
      if (!ours || !single) continue;
      if (scenario.startsWith('directed@')) {
        const added = ours.p99Ms - single.p99Ms;
        const rawSingle = find(scenario, 'raw');
        const floor = find(scenario, `raw×${nodes}`);
        const floorAdded = floor && rawSingle ? floor.p99Ms - rawSingle.p99Ms : NaN;
        ratios.push({
          scenario,
          comparison: `p99 added by the hop, ${nodes} nodes (ms)`,
          value: added,
          bar: 'reported',
          pass: true,
        });
        ratios.push({
          scenario,
          comparison: `p99 added by the floor's hop (raw relay ×${nodes} on Redis) (ms)`,
          value: floorAdded,
          bar: 'the floor',
          pass: true,
        });
        ratios.push({
          scenario,
          comparison: `p99 added by the hop beyond the floor's, ${nodes} nodes (ms)`,
          value: added - floorAdded,
          bar: '≤ 1',
          pass: added - floorAdded <= 1,
        });
        const bus = find(scenario, BUS);
        if (nodes === 2 && bus)
          ratios.push({
            scenario,
            comparison: 'p99 of a bare Redis pub/sub hop, no server (ms)',
            value: bus.p99Ms,
            bar: 'reported',
            pass: true,
          });
        continue;
      }
      const directedBar = scenario === 'directed';
      const perCore = ours.perCoreSecond / single.perCoreSecond;
      ratios.push({
        scenario,
        comparison: `×${nodes} ÷ single node, per core·s`,
        value: perCore,
        bar: directedBar ? '≥ 0.5' : 'reported',
        pass: !directedBar || perCore >= 0.5,
      });
      const floor = find(scenario, `raw×${nodes}`);
      if (floor)
        ratios.push({
          scenario,
          comparison: `×${nodes} ÷ raw relay ×${nodes} on Redis, per core·s`,
          value: ours.perCoreSecond / floor.perCoreSecond,
          bar: 'reported',
          pass: true,
        });
      if (anchor) {
        const versus = ours.perCoreSecond / anchor.perCoreSecond;
        ratios.push({
          scenario,
          comparison: `×${nodes} ÷ socket.io redis-adapter ×${nodes}, per core·s`,
          value: versus,
          bar: '≥ 1',
          pass: versus >= 1,
        });
      }
    }
    const losses = results
      .filter((r) => r.scenario === scenario && r.server.startsWith('switchyard'))
      .reduce((sum, r) => sum + r.lost + r.duplicated, 0);
    ratios.push({
      scenario,
      comparison: 'lost + duplicated',
      value: losses,
      bar: '= 0',
      pass: losses === 0,
    });
  }
  console.table(
    ratios.map((r) => ({
      scenario: r.scenario,
      comparison: r.comparison,
      value: fixed(r.value, 2),
      bar: r.bar,
      ok: r.pass ? 'yes' : 'NO',
    })),
  );
  return ratios;
}

const BUS = 'redis pub/sub';

/**
 * One hop through Redis alone at a steady `rate`: a publisher and a subscriber in this process,
 * the bench's ~300-byte payloads. What a cross-node hop costs before any server touches it.
 */
async function busHop(
  redis: BenchRedis,
  options: { durationMs: number; rate: number },
): Promise<Result> {
  const publisher = new Redis(redis.url);
  const subscriber = new Redis(redis.url);
  const ledger = new Ledger();
  const samples = new Samples();
  let recording = false;
  let sent = 0;
  subscriber.on('message', (_channel: string, message: string) => {
    const stamp = readStamp(message);
    if (!stamp) return;
    ledger.record('bus', stamp.seq);
    if (recording) samples.add(performance.now() - stamp.sentAt);
  });
  await subscriber.subscribe('bench:hop');
  const drive = async (ms: number) => {
    const start = performance.now();
    let due = 0;
    while (performance.now() - start < ms) {
      const target = Math.floor(((performance.now() - start) / 1000) * options.rate);
      for (; due < target; due++)
        void publisher.publish('bench:hop', payload(sent++, performance.now()));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  await drive(Math.min(1000, options.durationMs / 4));
  const cpu0 = redis.cpuSeconds();
  const t0 = performance.now();
  const before = ledger.delivered;
  recording = true;
  await drive(options.durationMs);
  recording = false;
  const count = ledger.delivered - before;
  const wallSeconds = (performance.now() - t0) / 1000;
  const busCpu = redis.cpuSeconds() - cpu0;
  const deadline = performance.now() + 5000;
  while (ledger.delivered + ledger.duplicated < sent && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  publisher.disconnect();
  subscriber.disconnect();
  return {
    scenario: `directed@${options.rate}/s`,
    server: BUS,
    transport: 'redis',
    wallSeconds,
    serverCpuSeconds: 0,
    cpuShare: 0,
    busCpuShare: busCpu / wallSeconds,
    count,
    perSecond: count / wallSeconds,
    perCoreSecond: NaN,
    p50Ms: samples.percentile(50),
    p99Ms: samples.percentile(99),
    expected: sent,
    lost: sent - ledger.delivered,
    duplicated: ledger.duplicated,
  };
}

#!/usr/bin/env node
/**
 * `npm run bench`: runs every scenario on every transport against Switchyard and that transport's
 * baselines (the raw relay on ws or SSE, the socket.io relay, signalhub), each in a fresh server
 * process, and prints them with their ratios. JSON lines go to `--out`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { broadcast, churn, directed, idle, type Result } from './scenarios.ts';
import { spawnServer, type ServerKind, type ServerProcess } from './server-process.ts';
import { printRatios, printTable } from './report.ts';
import { withDeadline } from './stats.ts';
import { runClusterBench } from './cluster-bench.ts';

type Transport = 'ws' | 'socket.io' | 'sse' | 'mqtt';

/** Each transport's baselines, in the same run as Switchyard on that transport. */
const BASELINES: Record<Transport, readonly Exclude<ServerKind, 'switchyard'>[]> = {
  ws: ['raw'],
  'socket.io': ['socket.io'],
  sse: ['raw-sse', 'signalhub'],
  // the floor of the hop: devices publishing to each other through the same broker, no bridge
  mqtt: ['mosquitto'],
};

interface Options {
  scenarios: string[];
  transports: Transport[];
  rounds: number;
  duration: number;
  quick: boolean;
  out: string;
  profile?: string;
  nodeArgs?: string;
  cluster: boolean;
}

const program = new Command('switchyard-bench')
  .description('Switchyard versus a raw ws relay, same machine, same run.')
  .addOption(
    new Option('--scenarios <list>', 'comma-separated: directed, rate, broadcast, churn, idle')
      .default(['directed', 'rate', 'broadcast', 'churn', 'idle'])
      .argParser((value) => value.split(',').map((s) => s.trim())),
  )
  .addOption(
    new Option('--transports <list>', 'comma-separated: ws, socket.io, sse, mqtt')
      .default(['ws', 'socket.io', 'sse', 'mqtt'])
      .argParser((value) => value.split(',').map((s) => s.trim())),
  )
  .addOption(
    new Option('--duration <seconds>', 'measured window per run').default(5).argParser(Number),
  )
  .addOption(
    new Option(
      '--rounds <n>',
      'alternating rounds of every scenario, median kept (rate and churn run at least 3)',
    )
      .default(1)
      .argParser(Number),
  )
  .option('--quick', 'small sizes and 0.3 s windows (a smoke run)', false)
  .option(
    '--out <file>',
    'JSON lines output',
    `bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`,
  )
  .option('--profile <dir>', 'run Switchyard under node --cpu-prof, writing profiles to <dir>')
  .option('--node-args <flags>', 'extra node flags for both servers, e.g. "--trace-gc"')
  .option(
    '--cluster',
    'the cluster run instead: 1, 2 and 3 switchyard nodes and socket.io on its Redis adapter',
    false,
  );
program.parse();
const options = program.opts<Options>();
for (const transport of options.transports)
  if (!(transport in BASELINES))
    program.error(`--transports: unknown transport "${transport}" (ws, socket.io, sse, mqtt)`);
// --quick is a smoke run: every scenario, windows too short to mean anything
const durationMs = (options.quick ? 0.3 : options.duration) * 1000;
mkdirSync(dirname(options.out), { recursive: true });
const environment = {
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  startedAt: new Date().toISOString(),
};
appendFileSync(options.out, `${JSON.stringify({ type: 'environment', ...environment })}\n`);
console.log(
  `node ${environment.node}, ${environment.cpus}, ${environment.memoryGiB} GiB; results → ${options.out}`,
);
if (options.cluster) {
  const lost = await runClusterBench({ durationMs, quick: options.quick, out: options.out });
  if (lost > 0) {
    console.error(`\n${lost} messages lost or duplicated`);
    process.exitCode = 1;
  }
} else await runRelayBench();

/** Switchyard against each transport's baselines, scenario by scenario. */
async function runRelayBench(): Promise<void> {
  type Run = (server: ServerProcess) => Promise<Result>;
  /** A scenario; `rounds` > 1 alternates the servers and keeps each one's median run. */
  type Scenario = [name: string, run: Run, rounds?: number];
  const want = (name: string) => options.scenarios.includes(name);
  const quick = options.quick;

  function scenariosOf(transport: Transport): Scenario[] {
    const runs: Scenario[] = [];
    if (want('directed'))
      runs.push(['directed', (s) => directed(s, { durationMs, pairs: quick ? 10 : 50 })]);
    // a sub-millisecond p99 on two shared cores is noisy: three alternating rounds, median each
    if (want('rate'))
      runs.push(['rate', (s) => directed(s, { durationMs, pairs: 50, rate: 2000 }), quick ? 1 : 3]);
    if (want('broadcast')) {
      const sizes = transport === 'ws' ? (quick ? [10, 50] : [10, 50, 200]) : quick ? [10] : [50];
      for (const members of sizes)
        runs.push([`broadcast/${members}`, (s) => broadcast(s, { durationMs, members })]);
    }
    // 100 joiners at once: the join path under concurrency, not one joiner's round trips; its
    // rate swings ±30 % between identical runs here, so three alternating rounds, median each
    if (want('churn'))
      runs.push([
        'churn',
        (s) => churn(s, { durationMs, workers: quick ? 16 : 100 }),
        quick ? 1 : 3,
      ]);
    if (want('idle')) {
      // an SSE client holds two sockets (its stream and its POSTs): 10,000 of them need more
      // descriptors than a default limit of 20,000 leaves the load generator
      const sizes = quick
        ? [500]
        : transport === 'sse'
          ? [2000]
          : transport === 'mqtt'
            ? [1000]
            : [2000, 10_000];
      for (const connections of sizes) {
        runs.push([
          `idle/${connections}`,
          (s) => idle(s, { connections, ...(quick && { settleMs: 200 }) }),
        ]);
      }
    }
    return runs;
  }

  const plan = options.transports.map((transport) => ({
    transport,
    kinds: [...BASELINES[transport], 'switchyard'] as ServerKind[],
    runs: scenariosOf(transport),
  }));
  const total = plan.reduce((sum, p) => sum + p.runs.length * p.kinds.length, 0);
  console.log(
    `switchyard bench: ${options.transports.join(', ')}; ${total} scenario runs, ${durationMs / 1000} s windows\n`,
  );

  async function measureOnce(
    name: string,
    transport: Transport,
    kind: ServerKind,
    run: Run,
  ): Promise<Result> {
    const server = await spawnServer(kind, {
      ...(kind === 'switchyard' && { protocol: transport }),
      ...(kind === 'switchyard' && options.profile && { cpuProfileDir: options.profile }),
      ...(options.nodeArgs && { nodeArgs: options.nodeArgs.split(' ').filter(Boolean) }),
    });
    process.stdout.write(`  ${transport.padEnd(9)} ${name.padEnd(14)} ${kind.padEnd(10)} … `);
    try {
      // a run is a warm-up, its window, a drain of at most 5 s and its connects: 60 s is ample
      const outcome = await withDeadline(
        run(server),
        60_000 + durationMs * 4,
        `${transport} ${name} ${kind}`,
      );
      appendFileSync(options.out, `${JSON.stringify({ type: 'result', ...outcome })}\n`);
      process.stdout.write(
        `${Math.round(outcome.perSecond)}/s, p99 ${outcome.p99Ms.toFixed(2)} ms, lost ${outcome.lost}\n`,
      );
      return outcome;
    } finally {
      await server.stop();
    }
  }

  /** The middle round: by p99 for a latency scenario, by throughput per core for the rest. */
  const median = (items: Result[]) => {
    const key = (r: Result) => (r.scenario.startsWith('directed@') ? r.p99Ms : r.perCoreSecond);
    return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
  };

  const results: Result[] = [];
  let failed = 0;
  for (const { transport, kinds, runs } of plan) {
    for (const [name, run, least = 1] of runs) {
      const rounds = quick ? 1 : Math.max(least, options.rounds);
      const byKind = new Map<ServerKind, Result[]>(kinds.map((kind) => [kind, []]));
      for (let round = 0; round < rounds; round++)
        for (const kind of kinds) {
          try {
            byKind.get(kind)!.push(await measureOnce(name, transport, kind, run));
          } catch (error) {
            // one run that cannot finish (say, out of descriptors) costs its row, not the rest
            failed += 1;
            process.stdout.write(`failed: ${String(error)}\n`);
          }
        }
      for (const outcomes of byKind.values()) {
        if (outcomes.length === 0) continue;
        // losses count from every round, not only the median one
        const lost = outcomes.reduce((sum, r) => sum + r.lost, 0);
        const duplicated = outcomes.reduce((sum, r) => sum + r.duplicated, 0);
        results.push({ ...median(outcomes), lost, duplicated });
      }
    }
  }
  console.log('');
  printTable(results);
  console.log('');
  const ratios = printRatios(results);
  appendFileSync(options.out, `${JSON.stringify({ type: 'ratios', ratios })}\n`);
  // only Switchyard's losses fail the run: a baseline's are its own (reported in the table)
  const lost = results
    .filter((r) => r.server === 'switchyard')
    .reduce((sum, r) => sum + r.lost + r.duplicated, 0);
  if (lost > 0) {
    console.error(`\n${lost} messages lost or duplicated`);
    process.exitCode = 1;
  }
  if (failed > 0) {
    console.error(`\n${failed} runs failed (above)`);
    process.exitCode = 1;
  }
}
